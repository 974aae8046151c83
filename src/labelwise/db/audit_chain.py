"""How audit events are chained: the canonical bytes an event's hash covers, and its hash.

Shared by the labeling store, which appends events, and `services.audit`, which verifies
the chains: both must hash the same bytes on SQLite and PostgreSQL.

Annotation state hash. Each event that writes an annotation's answers (`annotation.created`,
`annotation.revised`) carries, in its hashed `after`, the keys `guideline_version`, `source`
("human" or "model") and `state_hash`: the sha256 hex of `canonical.canonical_json` (sorted
keys, orjson's compact form) of the row it produced, limited to `STATE_FIELDS`:

    {"answers": {...}, "guideline_version": 3, "item_id": 7, "revision": 2,
     "time_ms": 1200, "user_id": 5}

`review_status` is left out: reviews and checks move it, and record their own events. The
latest event with a `state_hash` for an annotation must match the row as it is now; events
written before the hash existed have none, and their annotations are reported as not covered.

Erasable content. An event's hash covers the sha256 hex digest of the canonical JSON of its
`before` and of its `after` (`content_digest`), not the values themselves. A hard delete
(GDPR erasure, `services.erasure`) replaces a value by the marker `{"erased": "<digest>"}`
(`erased`), and the hash still verifies, since the marker carries the digest the hash covered:
content can be removed without breaking the chain, but not forged (a different value or a
marker with another digest breaks the link). Every marker must be listed in the
`redacted_events` of a later erasure event (`item.erased`, `person.erased`); `verify`
names the ones that are not, content removed behind the application's back. Chains written
before this form (whose hashes covered the values) were re-sealed by migration 0015.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

import orjson

from labelwise.canonical import canonical_json

GENESIS = "0" * 64
SERVER_CHAIN = "server"
PROJECT_CHAIN = "project:"

# What an event's hash covers: everything but its database id and the hashes themselves
# (`before` and `after` by their digests: `canonical`).
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


# The annotation columns an answer writes, which its state hash covers.
STATE_FIELDS = ("answers", "guideline_version", "item_id", "revision", "time_ms", "user_id")


ERASED = "erased"
# What erasure events list the redacted events under.
REDACTED_EVENTS = "redacted_events"


def content_digest(value: Any) -> str:
    """What an event's hash covers of its `before` or `after`: the digest an erasure marker
    keeps, else the sha256 hex of the value's canonical JSON."""
    if is_erased(value):
        return str(value[ERASED])
    return hashlib.sha256(canonical_json(value)).hexdigest()


def is_erased(value: Any) -> bool:
    return isinstance(value, dict) and value.keys() == {ERASED} and isinstance(value[ERASED], str)


def erased(value: Any) -> dict[str, str]:
    """The marker that replaces an erased `before` or `after`: its digest, not its content."""
    return {ERASED: content_digest(value)}


def state_hash(row: dict[str, Any]) -> str:
    """sha256 of the canonical JSON of an annotation row's `STATE_FIELDS`."""
    return hashlib.sha256(canonical_json({name: row[name] for name in STATE_FIELDS})).hexdigest()


def chain_of(project_id: int | None) -> str:
    return SERVER_CHAIN if project_id is None else f"{PROJECT_CHAIN}{project_id}"


def event_hash(prev_hash: str, fields: dict[str, Any]) -> str:
    """sha256 of the previous hash and the canonical JSON of the event's fields."""
    return hashlib.sha256(prev_hash.encode("ascii") + canonical(fields)).hexdigest()


def canonical(fields: dict[str, Any]) -> bytes:
    """Sorted keys, orjson's compact form, `before` and `after` as their content digests, and
    the time as a UTC ISO string with microseconds, so SQLite and PostgreSQL rows hash to the
    same bytes."""
    payload = {
        **fields,
        "before": content_digest(fields["before"]),
        "after": content_digest(fields["after"]),
        "created_at": _iso(fields["created_at"]),
    }
    return orjson.dumps(payload, option=orjson.OPT_SORT_KEYS)


def around_seq(fields: dict[str, Any]) -> tuple[bytes, bytes]:
    """The canonical bytes before and after the seq's digits, for PostgreSQL to hash with
    the seq it takes. Only the top-level key can match: quotes inside strings are escaped,
    the contents are hex digests, and the keys sorted after "seq" (target_id, target_type)
    hold strings or null."""
    head, mark, tail = canonical({**fields, "seq": 0}).rpartition(b'"seq":0')
    assert mark, "the canonical form always has the seq"
    return head + b'"seq":', tail


def _iso(moment: datetime) -> str:
    return as_utc(moment).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def as_utc(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes, PostgreSQL the session's zone; all stored is UTC.
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
