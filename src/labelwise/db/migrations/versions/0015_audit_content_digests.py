"""audit events hash the digests of their before/after, so erased content keeps chains intact;
release_erasures records what an erasure removed from a release

Until now an event's hash covered its `before` and `after` themselves, so removing content
(a GDPR erasure) would break the chain. From here it covers the sha256 of each one's
canonical JSON (`labelwise.db.audit_chain`). This re-seals every chain that verifies under the
old form, in seq order, recomputing each hash from the one before; of a chain that does not
verify only the events before its first broken link are, so `labelwise audit verify` still
reports it broken at the same event. Events are read
in keyset pages of one chain at a time: memory stays flat however long the chains are.

Revision ID: 0015
Revises: 0010
Create Date: 2026-12-03
"""

import hashlib
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

import orjson
import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0010"
branch_labels = None
depends_on = None

PAGE = 5000
GENESIS = "0" * 64
# Written out, not imported: a migration keeps the forms of its day.
HASHED = (
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
_events = sa.table(
    "audit_events",
    sa.column("id", sa.BigInteger),
    *(sa.column(name, sa.BigInteger) for name in ("seq", "project_id", "actor_id")),
    *(sa.column(name, sa.String) for name in ("chain", "action", "target_type", "target_id")),
    sa.column("before", sa.Text),
    sa.column("after", sa.Text),
    sa.column("created_at", sa.DateTime(timezone=True)),
    sa.column("prev_hash", sa.String),
    sa.column("hash", sa.String),
)
_heads = sa.table(
    "audit_heads",
    sa.column("chain", sa.String),
    sa.column("seq", sa.BigInteger),
    sa.column("hash", sa.String),
    sa.column("prev_hash", sa.String),
)
Form = Callable[[dict[str, Any]], bytes]


def _iso(moment: datetime) -> str:
    moment = moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _sorted(payload: dict[str, Any]) -> bytes:
    return orjson.dumps(payload, option=orjson.OPT_SORT_KEYS)


def _digest(value: Any) -> str:
    if isinstance(value, dict) and value.keys() == {"erased"} and isinstance(value["erased"], str):
        return value["erased"]
    return hashlib.sha256(_sorted(value)).hexdigest()


def values_form(fields: dict[str, Any]) -> bytes:
    """0002-0010: the hash covers `before` and `after` themselves."""
    return _sorted({**fields, "created_at": _iso(fields["created_at"])})


def digests_form(fields: dict[str, Any]) -> bytes:
    """From 0015: the hash covers their digests (an erasure marker's is the one it keeps)."""
    return _sorted(
        {
            **fields,
            "before": _digest(fields["before"]),
            "after": _digest(fields["after"]),
            "created_at": _iso(fields["created_at"]),
        }
    )


def _link(prev_hash: str, fields: dict[str, Any], form: Form) -> str:
    return hashlib.sha256(prev_hash.encode("ascii") + form(fields)).hexdigest()


def _walk(connection: sa.Connection, chain: str) -> Iterator[Sequence[sa.Row[Any]]]:
    """The chain's events in seq order, a keyset page at a time."""
    query = (
        sa.select(_events)
        .where(_events.c.chain == chain, _events.c.seq > sa.bindparam("after"))
        .order_by(_events.c.seq)
        .limit(PAGE)
    )
    after = 0
    while page := connection.execute(query, {"after": after}).all():
        yield page
        if len(page) < PAGE:
            return
        after = page[-1].seq


def _fields(row: sa.Row[Any]) -> dict[str, Any]:
    fields = {name: getattr(row, name) for name in HASHED}
    for name in ("before", "after"):
        fields[name] = None if fields[name] is None else orjson.loads(fields[name])
    return fields


def _verified(connection: sa.Connection, chain: str, head: sa.Row[Any], form: Form) -> int:
    """How many events of the chain check out under `form`, from the first, as `audit
    verify` checks them; -1 if all do and the head matches the last."""
    seq, prev_hash = 0, GENESIS
    for page in _walk(connection, chain):
        for row in page:
            if row.seq != seq + 1 or row.prev_hash != prev_hash:
                return seq
            if _link(row.prev_hash, _fields(row), form) != row.hash:
                return seq
            seq, prev_hash = row.seq, row.hash
    return -1 if (head.seq, head.hash) == (seq, prev_hash) else seq


def _reseal(connection: sa.Connection, chain: str, form: Form, upto: int) -> None:
    """Rehash the chain's events in seq order (up to seq `upto`; -1: all, and its head)."""
    prev_hash = last_prev = GENESIS
    update = (
        sa.update(_events)
        .where(_events.c.id == sa.bindparam("event_id"))
        .values(prev_hash=sa.bindparam("new_prev"), hash=sa.bindparam("new_hash"))
    )
    for page in _walk(connection, chain):
        links = []
        for row in page:
            if upto != -1 and row.seq > upto:
                break
            link = _link(prev_hash, _fields(row), form)
            links.append({"event_id": row.id, "new_prev": prev_hash, "new_hash": link})
            last_prev, prev_hash = prev_hash, link
        if links:
            connection.execute(update, links)
        if len(links) < len(page):
            break
    if upto == -1:
        connection.execute(
            sa.update(_heads)
            .where(_heads.c.chain == chain)
            .values(hash=prev_hash, prev_hash=last_prev)
        )


def reseal_chains(connection: sa.Connection, old: Form, new: Form) -> None:
    """Re-seal under `new` each chain that verifies under `old`. Of a broken chain only the
    events before its first broken link are: `audit verify` names the same event as before,
    and the events after it, and the head, keep the hashes that no longer link."""
    for head in connection.execute(sa.select(_heads).order_by(_heads.c.chain)).all():
        verified = _verified(connection, head.chain, head, old)
        if verified != 0:
            _reseal(connection, head.chain, new, verified)


def upgrade() -> None:
    op.create_table(
        "release_erasures",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "release_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("erased", sa.String(300), nullable=False),
        sa.Column("rows_removed", sa.Integer(), nullable=False),
        sa.Column("rows_changed", sa.Integer(), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("erased_by", sa.BigInteger().with_variant(sa.Integer(), "sqlite")),
        sa.Column(
            "erased_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["release_id"],
            ["releases.id"],
            name="fk_release_erasures_release_id_releases",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["erased_by"], ["users.id"], name="fk_release_erasures_erased_by_users"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_release_erasures"),
    )
    op.create_index("ix_release_erasures_release_id", "release_erasures", ["release_id"])
    reseal_chains(op.get_bind(), values_form, digests_form)


def downgrade() -> None:
    reseal_chains(op.get_bind(), digests_form, values_form)
    op.drop_index("ix_release_erasures_release_id", "release_erasures")
    op.drop_table("release_erasures")
