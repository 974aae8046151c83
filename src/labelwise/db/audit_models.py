"""The audit trail's tables: append-only events, hash-chained, and one head row per chain.

`project_id` and `actor_id` carry no foreign keys on purpose: the trail must outlive the
projects and users it mentions (a hard delete is itself an audited event), and a cascade or
SET NULL would rewrite hashed rows and break the chain.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from labelwise.db.models import Base, Id, JSONText

CHAIN_KEY = 40
HASH_HEX = 64


class AuditEvent(Base):
    """One change: who, when, what, before/after; `hash` covers it and the event before it."""

    __tablename__ = "audit_events"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    chain: Mapped[str] = mapped_column(String(CHAIN_KEY))
    seq: Mapped[int] = mapped_column(BigInteger)
    project_id: Mapped[int | None] = mapped_column(Id)
    actor_id: Mapped[int | None] = mapped_column(Id)
    action: Mapped[str] = mapped_column(String(64))
    target_type: Mapped[str] = mapped_column(String(32))
    target_id: Mapped[str | None] = mapped_column(String(255))
    before: Mapped[Any] = mapped_column(JSONText, nullable=True)
    after: Mapped[Any] = mapped_column(JSONText, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    prev_hash: Mapped[str] = mapped_column(String(HASH_HEX))
    hash: Mapped[str] = mapped_column(String(HASH_HEX))
    __table_args__ = (
        Index("uq_audit_events_chain_seq", "chain", "seq", unique=True),
        Index("ix_audit_events_target", "chain", "target_type", "target_id", "seq"),
    )


class AuditHead(Base):
    """The last seq and hash of a chain: the row appenders lock, and what verify checks the
    tail against (a deleted last event leaves the head ahead of the events)."""

    __tablename__ = "audit_heads"
    chain: Mapped[str] = mapped_column(String(CHAIN_KEY), primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger)
    hash: Mapped[str] = mapped_column(String(HASH_HEX))
    # The hash before the last append: one upsert moves the head and hands back both links.
    prev_hash: Mapped[str | None] = mapped_column(String(HASH_HEX), nullable=True)
