"""Request and response bodies of the v1 API (the OpenAPI document is built from these)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from labelwise.policies import Role


class ProjectOut(BaseModel):
    slug: str
    name: str
    goal: str
    role: Role | None = Field(
        description="The caller's role; null for an admin who is not a member."
    )
    items: int
    by_status: dict[str, int]


class ProjectDetail(ProjectOut):
    spec: dict[str, Any]


class ApplyOut(BaseModel):
    slug: str
    created: bool
    changed: bool


class MemberIn(BaseModel):
    role: Role


class ImportOut(BaseModel):
    created: int = Field(description="Items that were new.")
    existing: int = Field(description="Rows whose item was already there (same id or content).")
    priority_unchanged: int = Field(
        description="Of those, rows giving another priority than the item's: import leaves "
        "existing items as they are; set it with PUT .../priorities."
    )
    skipped: list[dict[str, Any]] = Field(
        description="With skip_invalid: each bad row, by line, with its error."
    )
    pii: dict[str, dict[str, int]] = Field(
        description="PII the project's rule found in the rows, {field: {kind: count}}; "
        "rows of items already there are counted too (those items stay as they were)."
    )


class ItemOut(BaseModel):
    id: int
    external_id: str | None
    status: str
    data: dict[str, Any]
    created_at: datetime
    pii: dict[str, dict[str, int]] | None = Field(
        description="What PII detection found at import, {field: {kind: count}}; null: none."
    )


class ItemPage(BaseModel):
    items: list[ItemOut]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null at the end."
    )
