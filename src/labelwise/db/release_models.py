"""Dataset releases: frozen rows, their content hash and the card written when frozen.

`release_rows.item_id` has no foreign key on purpose: a release outlives its items. A hard
delete (GDPR erasure) removes the erased item's rows, or a person's answers from the rows, and
says so in `release_erasures`, with what the rows hash to from then on.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from labelwise.db.models import Base, Id, JSONText

NAME = 64
HASH_HEX = 64
ERASED_NAME = 300


class Release(Base):
    """An immutable version of a project's labeled data."""

    __tablename__ = "releases"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(NAME))
    method: Mapped[str] = mapped_column(String(20))
    items: Mapped[int] = mapped_column(Integer)
    content_hash: Mapped[str] = mapped_column(String(HASH_HEX))
    card: Mapped[str] = mapped_column(Text)
    # The project spec when frozen: later spec changes must not change how it exports.
    spec: Mapped[Any] = mapped_column(JSONText)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    __table_args__ = (Index("uq_releases_project_name", "project_id", "name", unique=True),)


class ReleaseRowRecord(Base):
    """One item as frozen: canonical JSON text, hashed exactly as stored."""

    __tablename__ = "release_rows"
    release_id: Mapped[int] = mapped_column(
        ForeignKey("releases.id", ondelete="CASCADE"), primary_key=True
    )
    item_id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=False)
    row: Mapped[str] = mapped_column(Text)


class ReleaseErasure(Base):
    """Rows of a release an erasure removed or changed: by whom, when, and what the stored
    rows hash to after it (a release keeps the content hash it was made with)."""

    __tablename__ = "release_erasures"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    release_id: Mapped[int] = mapped_column(
        ForeignKey("releases.id", ondelete="CASCADE"), index=True
    )
    erased: Mapped[str] = mapped_column(String(ERASED_NAME))  # "item t-1", "person erased-3"
    rows_removed: Mapped[int] = mapped_column(Integer)
    rows_changed: Mapped[int] = mapped_column(Integer)
    content_hash: Mapped[str] = mapped_column(String(HASH_HEX))
    erased_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    erased_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
