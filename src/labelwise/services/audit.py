"""The audit trail: an append-only, hash-chained log of every change, and its verification.

Each project has its own chain (server-level events, such as account changes, share one
chain for project None). An event's hash covers its fields and the hash of the event before
it, so editing, deleting, inserting or reordering event rows in the database breaks a link
that `verify` names. The chain proves the trail was not altered *behind the application's
back*; someone able to rewrite the whole chain can only be caught by comparing a head hash
kept elsewhere.

Each event that writes an annotation's answers also carries the hash of the row it produced
(`audit_chain` documents the format), so `verify` compares every annotation as it is now
with its latest event: a direct UPDATE or DELETE of an annotation row is named too.

A hard delete (`services.erasure`) replaces the content of the events about what it erased
by markers that keep the content's digest (`audit_chain` documents the form), so the chain
still verifies; the annotations it removed leave no event vouching for them. A marker that no
erasure event accounts for is named: content removed behind the application's back.

`record` is called inside the caller's write transaction, so an event is committed together
with the change it describes, or not at all.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast

import orjson
from sqlalchemy import ColumnElement, Row, Table, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from labelwise.db.audit_chain import (
    GENESIS,
    HASHED_FIELDS,
    PROJECT_CHAIN,
    REDACTED_EVENTS,
    SERVER_CHAIN,
    STATE_FIELDS,
    as_utc,
    chain_of,
    event_hash,
    is_erased,
    state_hash,
)
from labelwise.db.audit_models import AuditEvent, AuditHead
from labelwise.db.engine import Database
from labelwise.db.labeling import store
from labelwise.db.models import Annotation, Item, Project, User
from labelwise.db.pages import keyset_pages, read_on

VERIFY_PAGE = 1000
# The events that erase content and list the events they redacted (`services.erasure`).
ERASURE_ACTIONS = frozenset({"item.erased", "person.erased"})
_EVENTS = cast(Table, AuditEvent.__table__)
_HEADS = cast(Table, AuditHead.__table__)


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
    last: bool = False,
) -> None:
    """Append one event to the project's chain, inside the caller's transaction.

    The chain's head row stays locked until the caller commits, so appends to one chain
    queue there (and only there): call this last in the unit of work to hold it briefly.
    `last`: nothing else follows in the unit of work (the store may commit with the event).
    """
    fields = {
        "chain": chain_of(project_id),
        "seq": 0,  # the store takes it from the chain's head
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
    store(session).append_event(fields, last=last)


def _as_stored(value: Any) -> Any:
    return None if value is None else orjson.loads(orjson.dumps(value))


# --- verifying ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Break:
    """The first broken link of a chain: where the trail stops being trustworthy."""

    chain: str
    project_id: int | None
    seq: int
    event_id: int | None  # None when the missing events are at the end
    reason: str


@dataclass(frozen=True)
class Mismatch:
    """An annotation whose row is not the state its latest event says it produced."""

    annotation_id: int
    project_id: int
    project: str | None  # the project's slug; None if the project row is gone too
    item_external_id: str | None
    event_id: int
    seq: int
    reason: str


@dataclass(frozen=True)
class Unrecorded:
    """An event whose content was erased, but no erasure event says so."""

    chain: str
    project_id: int | None
    seq: int
    event_id: int
    reason: str = "its content was erased behind the application's back: no erasure lists it"


@dataclass(frozen=True)
class _Written:
    """The latest state an annotation event vouches for."""

    state_hash: str
    event_id: int
    seq: int
    item_id: int | None


@dataclass
class VerifyReport:
    """What was checked: each chain's first broken link (later links prove nothing), and
    each annotation whose row differs from its latest event."""

    chains: int = 0
    events: int = 0
    breaks: list[Break] = field(default_factory=list)
    annotations: int = 0
    not_covered: int = 0  # annotations whose events predate the state hash
    mismatches: list[Mismatch] = field(default_factory=list)
    erased: int = 0  # events whose content an erasure removed
    unrecorded: list[Unrecorded] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.breaks and not self.mismatches and not self.unrecorded


@dataclass
class _Erasures:
    """The verified events that carry a marker, and the ids erasure events account for."""

    marked: dict[int, Unrecorded] = field(default_factory=dict)
    accounted: set[int] = field(default_factory=set)

    def note(self, row: Row[Any]) -> None:
        if is_erased(row.before) or is_erased(row.after):
            self.marked[row.id] = Unrecorded(row.chain, row.project_id, row.seq, row.id)
        if row.action in ERASURE_ACTIONS and isinstance(row.after, dict):
            listed = row.after.get(REDACTED_EVENTS)
            self.accounted.update(i for i in listed or () if isinstance(i, int))

    def report(self, report: VerifyReport) -> None:
        report.erased = len(self.marked)
        unlisted = sorted(self.marked.keys() - self.accounted)
        report.unrecorded.extend(self.marked[event_id] for event_id in unlisted)


def verify(db: Database) -> VerifyReport:
    """Recompute every chain in seq order, then compare every annotation row with its
    latest event, from one consistent snapshot. Memory grows with the annotations whose
    events carry a state hash (one short record each); the events are read a page at a time."""
    report = VerifyReport()
    written: dict[tuple[int, int], _Written] = {}
    erasures = _Erasures()
    with db.snapshot() as session:
        for chain, head in _chains(session):
            report.chains += 1
            broken = _verify_chain(session, chain, head, report, written, erasures)
            if broken is not None:
                report.breaks.append(broken)
        _verify_annotations(session, written, report)
    erasures.report(report)
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
    session: Session,
    chain: str,
    head: tuple[int, str] | None,
    report: VerifyReport,
    written: dict[tuple[int, int], _Written],
    erasures: _Erasures,
) -> Break | None:
    seq, prev_hash = 0, GENESIS
    for row in _walk(session, chain):
        report.events += 1
        reason = _link_error(row, seq + 1, prev_hash)
        if reason is not None:
            return Break(chain, row.project_id, row.seq, row.id, reason)
        seq, prev_hash = row.seq, row.hash
        _note_state(row, written)
        erasures.note(row)
    return _tail_error(chain, head, seq, prev_hash)


def _note_state(row: Row[Any], written: dict[tuple[int, int], _Written]) -> None:
    """Keep the state a verified annotation event vouches for; later events replace it."""
    after = row.after
    if row.target_type != "annotation" or not isinstance(after, dict) or "state_hash" not in after:
        return
    item = after.get("item")
    key = (int(row.project_id), int(row.target_id))
    earlier = written.get(key)
    item_id = item if isinstance(item, int) else (earlier.item_id if earlier else None)
    written[key] = _Written(str(after["state_hash"]), row.id, row.seq, item_id)


def _verify_annotations(
    session: Session, written: dict[tuple[int, int], _Written], report: VerifyReport
) -> None:
    """Every annotation row against its latest event; then the vouched-for rows now gone."""
    columns = [getattr(Annotation, name) for name in STATE_FIELDS]
    query = (
        select(Annotation.id, Annotation.project_id, Project.slug, Item.external_id, *columns)
        .join(Item, Item.id == Annotation.item_id)
        .outerjoin(Project, Project.id == Annotation.project_id)
    )
    read = read_on(session.connection())
    for rows in keyset_pages(
        read, query, Annotation.id, start=0, size=VERIFY_PAGE, last_key=lambda row: row.id
    ):
        for row in rows:
            report.annotations += 1
            vouched = written.pop((row.project_id, row.id), None)
            if vouched is None:
                report.not_covered += 1
            elif state_hash({name: getattr(row, name) for name in STATE_FIELDS}) != (
                vouched.state_hash
            ):
                reason = "the row's answers or fields differ from the state its event recorded"
                report.mismatches.append(_mismatch(row.id, row.project_id, row, vouched, reason))
    gone = sorted(written.items())  # rows the chain vouches for that are no longer there
    slugs = dict(session.execute(select(Project.id, Project.slug)).all()) if gone else {}
    missing = "the annotation row is missing: it was deleted behind the application's back"
    for start in range(0, len(gone), VERIFY_PAGE):
        batch = gone[start : start + VERIFY_PAGE]
        external_ids = dict(
            session.execute(
                select(Item.id, Item.external_id).where(
                    Item.id.in_({v.item_id for _, v in batch if v.item_id is not None})
                )
            ).all()
        )
        for (project_id, annotation_id), vouched in batch:
            place = _Place(slugs.get(project_id), external_ids.get(vouched.item_id or 0))
            report.mismatches.append(_mismatch(annotation_id, project_id, place, vouched, missing))


@dataclass(frozen=True)
class _Place:
    slug: str | None
    external_id: str | None


def _mismatch(
    annotation_id: int, project_id: int, place: Any, vouched: _Written, reason: str
) -> Mismatch:
    """`place`: a row with the project's slug and the item's external id, or None."""
    slug = None if place is None else place.slug
    external_id = None if place is None else place.external_id
    return Mismatch(
        annotation_id, project_id, slug, external_id, vouched.event_id, vouched.seq, reason
    )


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
        created_at=as_utc(e.created_at),
        hash=e.hash,
    )
