"""The guidelines' tables: numbered versions that never change once published, examples
linked to real items, and who acknowledged which version.

An annotation records the version in force as a plain number (`annotations.guideline_version`),
not a foreign key: the number is what people read and what the quality report groups by.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from labelwise.db.models import Base, Id, JSONText

NOTE_MAX = 300
KINDS = ("example", "counterexample")


class GuidelineVersion(Base):
    """One published version: written once, never updated (there is no update path)."""

    __tablename__ = "guideline_versions"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)  # 1..n within the project
    body: Mapped[str] = mapped_column(Text)  # markdown
    note: Mapped[str] = mapped_column(String(NOTE_MAX))  # the one-line changelog
    published_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    published_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    __table_args__ = (
        # Also the index behind "the latest number" that every submit reads.
        Index("uq_guideline_versions_project_number", "project_id", "number", unique=True),
    )


class GuidelineExample(Base):
    """An example or counterexample: a real item, an answer to it, and why."""

    __tablename__ = "guideline_examples"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"))
    answers: Mapped[Any] = mapped_column(JSONText)
    why: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(16))  # example | counterexample
    added_in: Mapped[int | None] = mapped_column(Integer)  # the version current when added
    added_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    __table_args__ = (Index("ix_guideline_examples_project", "project_id", "id"),)


class GuidelineAcknowledgement(Base):
    """A user read a version's changes; one row per version they acknowledged."""

    __tablename__ = "guideline_acknowledgements"
    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    acknowledged_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
