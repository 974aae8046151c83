"""What the SDK hands back: frozen dataclasses built from the API's JSON, and the quality
report's outer shape as TypedDicts (its inner tables stay plain JSON)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, TypedDict


@dataclass(frozen=True, slots=True)
class Project:
    """A project as listed: the caller's role in it (None for an admin who is not a
    member) and its items per status."""

    slug: str
    name: str
    goal: str
    role: str | None
    items: int
    by_status: dict[str, int]

    @classmethod
    def of(cls, body: dict[str, Any]) -> Project:
        return cls(
            body["slug"], body["name"], body["goal"], body["role"], body["items"], body["by_status"]
        )


@dataclass(frozen=True, slots=True)
class Applied:
    """The result of applying a spec: applying the same spec again changes nothing."""

    slug: str
    created: bool
    changed: bool


@dataclass(frozen=True, slots=True)
class SkippedRow:
    """A row left out by an import with `skip_invalid`: its 1-based position among the rows
    given, and why."""

    line: int
    error: str


@dataclass(frozen=True, slots=True)
class ImportResult:
    """Items created, rows whose item was already there (same id or content), of those the
    rows that asked for another priority (not applied), and the rows skipped."""

    created: int
    existing: int
    priority_unchanged: int
    skipped: list[SkippedRow]

    @classmethod
    def of(cls, body: dict[str, Any]) -> ImportResult:
        skipped = [SkippedRow(row["line"], row["error"]) for row in body["skipped"]]
        return cls(body["created"], body["existing"], body["priority_unchanged"], skipped)


@dataclass(frozen=True, slots=True)
class Item:
    id: int
    external_id: str | None
    data: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Assignment:
    """An item leased to the caller until `expires_at`; `answers` and `feedback` are set
    when it comes back for rework, or for review."""

    id: int
    kind: Literal["annotate", "review", "adjudicate"]
    item: Item
    expires_at: datetime
    annotation_id: int | None = None
    answers: dict[str, Any] | None = None
    feedback: str | None = None
    suggestion: dict[str, Any] | None = None  # a model's prediction to pre-fill: model, answers

    @classmethod
    def of(cls, body: dict[str, Any]) -> Assignment:
        item = body["item"]
        return cls(
            id=body["assignment_id"],
            kind=body["kind"],
            item=Item(item["id"], item["external_id"], item["data"]),
            expires_at=datetime.fromisoformat(body["expires_at"]),
            annotation_id=body.get("annotation_id"),
            answers=body.get("answers"),
            feedback=body.get("feedback"),
            suggestion=body.get("suggestion"),
        )


@dataclass(frozen=True, slots=True)
class Submitted:
    """The annotation a submit made (a retry with the same answers gets the same one) and
    where its item stands now."""

    assignment_id: int
    annotation_id: int | None
    revision: int | None
    item_id: int
    item_status: str
    prelabel: str | None = None  # accepted, edited or rejected: the model's suggestion shown
    suggestion: dict[str, Any] | None = None  # the prediction, shown now (after_submit)


@dataclass(frozen=True, slots=True)
class Release:
    """An immutable dataset version. `card` (markdown) is None in a listing."""

    name: str
    method: str
    items: int
    content_hash: str
    created_at: datetime
    created_by: str | None
    card: str | None = None

    @classmethod
    def of(cls, body: dict[str, Any]) -> Release:
        return cls(
            name=body["name"],
            method=body["method"],
            items=body["items"],
            content_hash=body["content_hash"],
            created_at=datetime.fromisoformat(body["created_at"]),
            created_by=body["created_by"],
            card=body.get("card"),
        )


class Progress(TypedDict):
    items: int
    by_status: dict[str, int]
    annotations: int
    annotators: int


class Agreement(TypedDict):
    """The mean of `metric` over the questions that have it, against the spec's target."""

    metric: str
    value: float | None
    questions: int
    target: float | None
    met: bool | None


class QualityReport(TypedDict):
    """GET /projects/{slug}/quality as JSON; docs/sdk.md and the OpenAPI document describe
    the inner tables (per question, annotator, review stratum)."""

    project: str
    progress: Progress
    agreement: Agreement
    questions: list[dict[str, Any]]
    annotators: list[dict[str, Any]]
    review: dict[str, Any]
    checks: dict[str, int]
    prelabels: list[dict[str, Any]]


class Scorecard(TypedDict):
    """GET /projects/{slug}/annotators/{username} as JSON; the README's "Annotator
    scorecards" and the OpenAPI document describe the inner tables."""

    project: str
    annotator: str
    role: str | None
    annotations: int
    gold_answers: int
    gold_accuracy: dict[str, float | None] | None
    questions: list[dict[str, Any]]
    speed: list[dict[str, Any]]
    verdicts: dict[str, Any]
    feedback: dict[str, Any]
    trend: list[dict[str, Any]]
