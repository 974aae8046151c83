"""Keyset cursors shared by the paged endpoints: an opaque string holding the last key."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

from labelwise.errors import InvalidInput

CursorQuery = Annotated[str | None, Query(description="`next_cursor` of the previous page.")]


def after_key(cursor: str | None) -> int:
    """The key a page starts after; 0 for the first page."""
    if cursor is not None and not cursor.isdigit():
        raise InvalidInput("cursor: not a cursor returned by this endpoint")
    return int(cursor or 0)
