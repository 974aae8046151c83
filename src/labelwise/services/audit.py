"""The audit trail: an append-only, hash-chained log of every change, and its verification.

Each project has its own chain (server-level events, such as account changes, share one
chain for project None). An event's hash covers its fields and the hash of the event before
it, so editing, deleting, inserting or reordering event rows in the database breaks a link
that `verify` names. The chain proves the trail was not altered *behind the application's
back*; someone able to rewrite the whole chain can only be caught by comparing a head hash
kept elsewhere.

`record` is called inside the caller's write transaction, so an event is committed together
with the change it describes, or not at all.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast

import orjson
from sqlalchemy import (
    ColumnElement,
    LargeBinary,
    Row,
    Table,
    Text,
    bindparam,
    func,
    literal,
    select,
    update,
)
from sqlalchemy import cast as sql_cast
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import InstrumentedAttribute, Session

from labelwise.db.audit_models import AuditEvent, AuditHead
from labelwise.db.engine import Database
from labelwise.db.models import User
from labelwise.db.pages import keyset_pages, read_on
from labelwise.db.prepared import Prepared

GENESIS = "0" * 64
SERVER_CHAIN = "server"
PROJECT_CHAIN = "project:"
VERIFY_PAGE = 1000

# What an event's hash covers: everything but its database id and the hashes themselves.
HASHED_FIELDS = (
    "chain",
    "seq",
    "project_id",
    "actor_id",
    "action",
    "target_type",
    "target_id",
    "before",
    "after",
    "created_at",
)

_EVENTS = cast(Table, AuditEvent.__table__)
_HEADS = cast(Table, AuditHead.__table__)


def chain_of(project_id: int | None) -> str:
    return SERVER_CHAIN if project_id is None else f"{PROJECT_CHAIN}{project_id}"


# --- appending ---------------------------------------------------------------------------


def record(
    session: Session,
    *,
    project_id: int | None,
    actor_id: int | None,
    action: str,
    target_type: str,
    target_id: str | int | None,
    before: Any = None,
    after: Any = None,
    commit: bool = False,
) -> None:
    """Append one event to the project's chain, inside the caller's transaction.

    The chain's head row stays locked until the caller commits, so appends to one chain
    queue there (and only there): call this last in the unit of work to hold it briefly.
    `commit`: nothing else follows in the unit of work; PostgreSQL commits with the event.
    """
    connection = session.connection()
    chain = chain_of(project_id)
    fields = {
        "chain": chain,
        "seq": 0,  # taken from the head below
        "project_id": project_id,
        "actor_id": actor_id,
        "action": action,
        "target_type": target_type,
        "target_id": None if target_id is None else str(target_id),
        # Hash what a reader will load back, not the caller's objects (enums, tuples...).
        "before": _as_stored(before),
        "after": _as_stored(after),
        "created_at": datetime.now(UTC),
    }
    params = {f"e_{name}": value for name, value in fields.items() if name != "seq"}
    if connection.dialect.name == "postgresql":
        params["e_head"], params["e_tail"] = _around_seq(fields)
        _APPEND_PG.all(connection, params, commit=commit)
        return
    seq, prev_hash = _ADVANCE.one(connection, {"c": chain})
    fields["seq"] = seq
    params.update(e_seq=seq, e_prev_hash=prev_hash, e_hash=event_hash(prev_hash, fields))
    _INSERT_EVENT.all(connection, params)
    _SET_HEAD_HASH.all(connection, params)


# Built once: `record` sits on the submit hot path, where building and cache-keying
# statements per call would cost more than running them.
_EVENT_COLUMNS = (*HASHED_FIELDS, "prev_hash", "hash")
_INSERT_EVENT = Prepared(
    _EVENTS.insert().values({name: bindparam(f"e_{name}") for name in _EVENT_COLUMNS})
)
# SQLite (whose BEGIN IMMEDIATE serialised writers already): take the next seq and the hash to
# link to, creating the head on a chain's first event; then the event goes in and the head
# takes its hash.
_ADVANCE = Prepared(
    sqlite.insert(_HEADS)
    .values(chain=bindparam("c"), seq=1, hash=GENESIS)
    .on_conflict_do_update(index_elements=[_HEADS.c.chain], set_={"seq": _HEADS.c.seq + 1})
    .returning(_HEADS.c.seq, _HEADS.c.hash)
)
_SET_HEAD_HASH = Prepared(
    update(_HEADS)
    .where(_HEADS.c.chain == bindparam("e_chain"))
    .values(hash=bindparam("e_hash"), prev_hash=bindparam("e_prev_hash"))
)


def _link(prev_hash: ColumnElement[Any], seq: ColumnElement[Any]) -> ColumnElement[str]:
    """`event_hash` computed by PostgreSQL, from the canonical bytes around the seq."""

    def as_bytes(value: ColumnElement[Any]) -> ColumnElement[bytes]:
        return func.convert_to(value, "UTF8", type_=LargeBinary)

    parts = (
        as_bytes(prev_hash),
        bindparam("e_head", type_=LargeBinary),
        as_bytes(sql_cast(seq, Text)),
        bindparam("e_tail", type_=LargeBinary),
    )
    message = functools.reduce(lambda a, b: a.op("||", return_type=LargeBinary)(b), parts)
    return func.encode(func.sha256(message, type_=LargeBinary), "hex", type_=Text)


def _append_pg() -> Prepared:
    """PostgreSQL: one statement moves the head (locking it until commit, creating it on the
    chain's first event), hashes the event with the seq it took, and inserts the event.

    The head is the one row every append to a project waits on, so it is held for this
    statement and the commit only, not across round trips to the server and back.
    """
    head = (
        postgresql.insert(_HEADS)
        .values(
            chain=bindparam("e_chain"),
            seq=1,
            prev_hash=GENESIS,
            hash=_link(literal(GENESIS), literal(1)),
        )
        .on_conflict_do_update(
            index_elements=[_HEADS.c.chain],
            set_={
                "seq": _HEADS.c.seq + 1,
                "prev_hash": _HEADS.c.hash,
                "hash": _link(_HEADS.c.hash, _HEADS.c.seq + 1),
            },
        )
        .returning(_HEADS.c.seq, _HEADS.c.prev_hash, _HEADS.c.hash)
        .cte("head")
    )
    taken = {"seq": head.c.seq, "prev_hash": head.c.prev_hash, "hash": head.c.hash}
    values = [
        taken.get(name, bindparam(f"e_{name}", type_=_EVENTS.c[name].type))
        for name in _EVENT_COLUMNS
    ]
    return Prepared(_EVENTS.insert().from_select(_EVENT_COLUMNS, select(*values)).add_cte(head))


_APPEND_PG = _append_pg()


def _as_stored(value: Any) -> Any:
    return None if value is None else orjson.loads(orjson.dumps(value))


def event_hash(prev_hash: str, fields: dict[str, Any]) -> str:
    """sha256 of the previous hash and the canonical JSON of the event's fields."""
    return hashlib.sha256(prev_hash.encode("ascii") + _canonical(fields)).hexdigest()


def _canonical(fields: dict[str, Any]) -> bytes:
    """Sorted keys, orjson's compact form, and the time as a UTC ISO string with
    microseconds, so SQLite and PostgreSQL rows hash to the same bytes."""
    payload = {**fields, "created_at": _iso(fields["created_at"])}
    return orjson.dumps(payload, option=orjson.OPT_SORT_KEYS)


def _around_seq(fields: dict[str, Any]) -> tuple[bytes, bytes]:
    """The canonical bytes before and after the seq's digits, for PostgreSQL to hash with
    the seq it takes. Only the top-level key can match: quotes inside strings are escaped,
    and the keys sorted after "seq" (target_id, target_type) hold numbers, strings or null."""
    head, mark, tail = _canonical({**fields, "seq": 0}).rpartition(b'"seq":0')
    assert mark, "the canonical form always has the seq"
    return head + b'"seq":', tail


def _iso(moment: datetime) -> str:
    return _utc(moment).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _utc(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes, PostgreSQL the session's zone; all stored is UTC.
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


# --- verifying ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Break:
    """The first broken link of a chain: where the trail stops being trustworthy."""

    chain: str
    project_id: int | None
    seq: int
    event_id: int | None  # None when the missing events are at the end
    reason: str


@dataclass
class VerifyReport:
    """What was checked, and each chain's first broken link (later links prove nothing)."""

    chains: int = 0
    events: int = 0
    breaks: list[Break] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.breaks


def verify(db: Database) -> VerifyReport:
    """Recompute every chain in seq order, in constant memory, from one consistent snapshot."""
    report = VerifyReport()
    with db.snapshot() as session:
        for chain, head in _chains(session):
            report.chains += 1
            broken = _verify_chain(session, chain, head, report)
            if broken is not None:
                report.breaks.append(broken)
    return report


def _chains(session: Session) -> Iterator[tuple[str, tuple[int, str] | None]]:
    """Every chain that has a head or an event (a chain whose head was deleted included)."""
    known = select(_HEADS.c.chain).union(select(_EVENTS.c.chain)).subquery()  # deduplicated
    pages = keyset_pages(
        lambda query, params: session.scalars(query, params).all(),
        select(known.c.chain),
        known.c.chain,
        start="",
        size=VERIFY_PAGE,
        last_key=lambda name: name,
    )
    for names in pages:
        for name in names:
            head = session.execute(
                select(_HEADS.c.seq, _HEADS.c.hash).where(_HEADS.c.chain == name)
            ).first()
            yield name, None if head is None else (int(head.seq), str(head.hash))


def _verify_chain(
    session: Session, chain: str, head: tuple[int, str] | None, report: VerifyReport
) -> Break | None:
    seq, prev_hash = 0, GENESIS
    for row in _walk(session, chain):
        report.events += 1
        reason = _link_error(row, seq + 1, prev_hash)
        if reason is not None:
            return Break(chain, row.project_id, row.seq, row.id, reason)
        seq, prev_hash = row.seq, row.hash
    return _tail_error(chain, head, seq, prev_hash)


def _walk(session: Session, chain: str) -> Iterator[Row[Any]]:
    """The chain's events in seq order, a keyset page at a time."""
    query = select(_EVENTS).where(_EVENTS.c.chain == chain)
    read = read_on(session.connection())
    for rows in keyset_pages(
        read, query, _EVENTS.c.seq, start=0, size=VERIFY_PAGE, last_key=lambda row: row.seq
    ):
        yield from rows


def _link_error(row: Row[Any], expected_seq: int, prev_hash: str) -> str | None:
    if row.seq != expected_seq:
        return (
            f"seq gap: expected seq {expected_seq}; an event before this one was deleted, "
            "or this one's seq was changed"
        )
    if event_hash(row.prev_hash, {name: getattr(row, name) for name in HASHED_FIELDS}) != row.hash:
        return "hash mismatch: the event's fields were changed after it was written"
    if row.prev_hash != prev_hash:
        return "prev_hash mismatch: the event before it was replaced, or this one inserted"
    return None


def _tail_error(chain: str, head: tuple[int, str] | None, seq: int, last_hash: str) -> Break | None:
    """Check the head against the last event, which no later link protects."""
    project_id = _project_of(chain)
    if head is None:
        return Break(chain, project_id, seq, None, "the chain's head row is missing")
    head_seq, head_hash = head
    if head_seq > seq:
        reason = f"the head says {head_seq} events, found {seq}: the last events were deleted"
        return Break(chain, project_id, seq + 1, None, reason)
    if head_seq < seq or head_hash != last_hash:
        return Break(chain, project_id, seq, None, "the head does not match the last event")
    return None


def _project_of(chain: str) -> int | None:
    return None if chain == SERVER_CHAIN else int(chain.removeprefix(PROJECT_CHAIN))


# --- reading -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Event:
    id: int
    seq: int
    project_id: int | None
    actor_id: int | None
    actor: str | None  # the actor's username; None for the CLI and the system
    action: str
    target_type: str
    target_id: str | None
    before: Any
    after: Any
    created_at: datetime
    hash: str


def events(db: Database, project_id: int, *, after: int, limit: int) -> list[Event]:
    """A page of the project's events, newest first: an activity log is read from the top.

    `after` is the seq of the last event of the previous page (0: start at the newest), so
    pages stay stable while new events arrive and each costs O(limit) on the chain index.
    """
    where = [AuditEvent.chain == chain_of(project_id)]
    if after > 0:
        where.append(AuditEvent.seq < after)
    return _read(db, where, AuditEvent.seq.desc(), limit)


def history(
    db: Database, project_id: int | None, target_type: str, target_id: str | int
) -> list[Event]:
    """Every event about one target (e.g. one annotation), oldest first."""
    where = [
        AuditEvent.chain == chain_of(project_id),
        AuditEvent.target_type == target_type,
        AuditEvent.target_id == str(target_id),
    ]
    return _read(db, where, AuditEvent.seq, None)


def _read(
    db: Database,
    where: list[ColumnElement[bool]],
    order: ColumnElement[Any] | InstrumentedAttribute[int],
    limit: int | None,
) -> list[Event]:
    query = (
        select(AuditEvent, User.username)
        .outerjoin(User, User.id == AuditEvent.actor_id)
        .where(*where)
        .order_by(order)
        .limit(limit)
    )
    with db.read() as session:
        return [_event(e, username) for e, username in session.execute(query)]


def _event(e: AuditEvent, username: str | None) -> Event:
    return Event(
        id=e.id,
        seq=e.seq,
        project_id=e.project_id,
        actor_id=e.actor_id,
        actor=username,
        action=e.action,
        target_type=e.target_type,
        target_id=e.target_id,
        before=e.before,
        after=e.after,
        created_at=_utc(e.created_at),
        hash=e.hash,
    )
