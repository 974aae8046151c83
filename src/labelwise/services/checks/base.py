"""What a check sees and says. Checks read annotations page by page, then conclude."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from labelwise.spec import ProjectSpec


@dataclass(frozen=True, slots=True)
class Row:
    """One submitted annotation, with what a check may need of its item."""

    annotation_id: int
    item_id: int
    user_id: int
    username: str
    answers: dict[str, Any]
    time_ms: int | None
    item_data: dict[str, Any]


@dataclass(frozen=True)
class Finding:
    check: str
    message: str
    item_id: int | None = None
    annotation_id: int | None = None
    user_id: int | None = None


class Check(Protocol):
    """Streaming: `observe` each page of annotations, then `conclude` with the findings."""

    name: str

    def observe(self, rows: list[Row]) -> list[Finding]: ...

    def conclude(self) -> list[Finding]: ...


# Builds a check from the project spec, or None when the spec leaves it off.
CheckFactory = Callable[[ProjectSpec, dict[str, Any]], Check | None]
