"""The items browser: a project's items filtered by status, label, annotator, slice, check
finding, disagreement, gold, PII and text, one keyset page at a time.

A page reads at most `WINDOW` items of the project in id order (a range of the
`(project_id, id)` index), filters them and stops there, so a page costs about the same
whatever the filters and however rare their matches. A page can therefore hold fewer rows
than asked for and still have a next cursor: the cursor is the last id examined, so no item
comes twice and none is skipped. Status, gold, PII, annotator and check run in SQL, each an
indexed lookup per row; label, disagreement, slice and text run here on the window's rows,
and slice and text only on what the reader's FieldView shows, so a hidden field can be
neither read nor searched. For those four, SQL first drops the rows that cannot match (no
annotation to agree or disagree; stored JSON text without the wanted value, a LIKE that may
let through rows the exact test here then refuses, but never drops a match).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import ColumnElement, Row, Text, and_, exists, func, or_, select, type_coerce
from sqlalchemy.orm import Session

from labelwise.db.engine import Database
from labelwise.db.models import Annotation, CheckFinding, GoldAnswer, Item, User
from labelwise.errors import InvalidInput
from labelwise.policies import FieldView
from labelwise.services.checks import REGISTRY
from labelwise.spec import ProjectSpec
from labelwise.states import ItemStatus

WINDOW = 2000  # items examined per page at most
BATCH = 200  # rows read first inside the window, so a full page stops early; doubled after


@dataclass(frozen=True)
class ItemFilter:
    """What to look for; None (or False) leaves that filter out."""

    status: str | None = None
    question: str | None = None  # with `label`, or narrowing `disagreement` to one question
    label: str | None = None
    annotator: str | None = None  # username
    slice_field: str | None = None
    slice_value: str | None = None
    check: str | None = None
    disagreement: bool = False
    gold: bool | None = None
    pii: bool | None = None  # True: PII detection marked the item at import
    text: str | None = None  # case-insensitive substring of the external id or a shown value

    def validate(self, spec: ProjectSpec, view: FieldView) -> None:
        """Refuse a filter that cannot match anything by its very terms, naming it."""
        if self.status is not None and self.status not in set(ItemStatus):
            raise InvalidInput(f"status: {self.status!r} is not one of {_names(ItemStatus)}")
        if self.question is not None and self.question not in {q.name for q in spec.questions}:
            raise InvalidInput(f"question: the project has no question {self.question!r}")
        if self.label is not None and self.question is None:
            raise InvalidInput("label: say which question it answers (question=...)")
        if (self.slice_field is None) != (self.slice_value is None):
            raise InvalidInput("slice_field, slice_value: give both or neither")
        shown = {f.name for f in view.fields(spec.fields)}
        if self.slice_field is not None and self.slice_field not in shown:
            raise InvalidInput(f"slice_field: the project has no field {self.slice_field!r}")
        if self.check is not None and self.check not in REGISTRY:
            raise InvalidInput(f"check: {self.check!r} is not one of {_names(REGISTRY)}")

    @property
    def needs_annotations(self) -> bool:
        return self.label is not None or self.disagreement


def _names(values: Iterable[str]) -> str:
    return ", ".join(sorted(values))


@dataclass(frozen=True)
class BrowsedItem:
    id: int
    external_id: str | None
    status: str
    data: dict[str, Any]
    gold: bool
    created_at: datetime
    pii: dict[str, dict[str, int]] | None  # what PII detection found, per field and kind


@dataclass(frozen=True)
class BrowsePage:
    items: list[BrowsedItem]
    next_after: int | None  # where the next page starts; None: nothing after this page
    examined_through: int | None  # the last item id this page looked at


def browse(
    db: Database,
    project_id: int,
    spec: ProjectSpec,
    wanted: ItemFilter,
    *,
    view: FieldView,
    after: int,
    limit: int,
) -> BrowsePage:
    """The items after id `after` that match `wanted`, as `view` shows them."""
    wanted.validate(spec, view)
    questions = [wanted.question] if wanted.question else [q.name for q in spec.questions]
    with db.read() as session:
        window = _window(project_id, after)
        count, end = session.execute(select(func.count(), func.max(window.c.id))).one()
        if not count:
            return BrowsePage([], None, None)
        where = _sql_filters(session, wanted, Span(after, end))
        if where is None:
            return BrowsePage([], None, end)
        found: list[BrowsedItem] = []
        cursor, size = after, BATCH
        while len(found) < limit and cursor < end:
            rows = _batch(session, project_id, where, cursor, end, size)
            size *= 2  # sparse matches: fewer, larger reads
            if not rows:
                break
            answers = _answers(session, [r.id for r in rows]) if wanted.needs_annotations else {}
            for row in rows:
                cursor = row.id
                item = _shown(row, view)
                if _matches(item, row.final_answers, answers.get(row.id, []), wanted, questions):
                    found.append(item)
                    if len(found) == limit:
                        return BrowsePage(found, cursor, cursor)
    return BrowsePage(found, end if count == WINDOW else None, end)


def _window(project_id: int, after: int) -> Any:
    return (
        select(Item.id)
        .where(Item.project_id == project_id, Item.id > after)
        .order_by(Item.id)
        .limit(WINDOW)
        .subquery()
    )


@dataclass(frozen=True)
class Span:
    """The window's item ids, after `after` up to `end`. Each subquery is bounded by it too,
    so that PostgreSQL, when it hashes a subquery's rows once rather than look them up row
    by row, hashes the window's and not the whole project's."""

    after: int
    end: int

    def of(self, item_id: Any) -> ColumnElement[bool]:
        return and_(item_id > self.after, item_id <= self.end)


def _sql_filters(
    session: Session, wanted: ItemFilter, span: Span
) -> list[ColumnElement[bool]] | None:
    """The indexed filters; None when one cannot match (an unknown annotator)."""
    where: list[ColumnElement[bool]] = []
    if wanted.status is not None:
        where.append(Item.status == wanted.status)
    if wanted.gold is not None:
        is_gold = exists().where(GoldAnswer.item_id == Item.id, span.of(GoldAnswer.item_id))
        where.append(is_gold if wanted.gold else ~is_gold)
    if wanted.pii is not None:
        where.append(Item.pii.is_not(None) if wanted.pii else Item.pii.is_(None))
    if wanted.annotator is not None:
        user_id = session.scalar(select(User.id).where(User.username == wanted.annotator))
        if user_id is None:
            return None
        mine = Annotation.user_id == user_id
        where.append(
            exists().where(Annotation.item_id == Item.id, span.of(Annotation.item_id), mine)
        )
    if wanted.check is not None:
        where.append(
            exists().where(
                CheckFinding.item_id == Item.id,
                span.of(CheckFinding.item_id),
                CheckFinding.check == wanted.check,
            )
        )
    return where + _prefilters(wanted, span)


def _prefilters(wanted: ItemFilter, span: Span) -> list[ColumnElement[bool]]:
    """Cheap tests on the stored JSON text that every match passes."""
    where: list[ColumnElement[bool]] = []
    answered = and_(Annotation.item_id == Item.id, span.of(Annotation.item_id))
    if wanted.disagreement:
        where.append(select(func.count()).where(answered).scalar_subquery() > 1)
    if wanted.label is not None:
        where.append(_label_prefilter(wanted.label, answered))
    if wanted.slice_field is not None and wanted.slice_value is not None:
        field, value = wanted.slice_field, wanted.slice_value
        if _plain(field, value):  # "f":"v" as a string, "f":v as a number or a flag
            quoted = f'"{field}":"{value}"'
            where.append(
                or_(
                    _text_of(Item.data).like(_like(quoted), escape="\\"),
                    _text_of(Item.data).like(_like(f'"{field}":{value}'), escape="\\"),
                )
            )
    if wanted.text and wanted.text.isascii() and _plain(wanted.text):
        needle = _like(wanted.text.lower())
        where.append(
            or_(
                func.lower(Item.external_id).like(needle, escape="\\"),
                func.lower(_text_of(Item.data)).like(needle, escape="\\"),
            )
        )
    return where


def _label_prefilter(label: str, answered: ColumnElement[bool]) -> ColumnElement[bool]:
    """An annotation or the final answer holds the label (or a path it starts) as text."""
    if not _plain(label):
        return or_(exists().where(answered), Item.final_answers.is_not(None))
    pattern = _like(label)
    return or_(
        exists().where(answered, _text_of(Annotation.answers).like(pattern, escape="\\")),
        _text_of(Item.final_answers).like(pattern, escape="\\"),
    )


def _plain(*parts: str) -> bool:
    """Whether JSON stores these as written: no quote, backslash or control character."""
    return not any(c in '"\\' or ord(c) < 32 for part in parts for c in part)


def _like(fragment: str) -> str:
    escaped = fragment.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _text_of(column: Any) -> ColumnElement[str]:
    """A JSON column as its stored text, so that LIKE binds a plain string."""
    return type_coerce(column, Text)


def _batch(
    session: Session,
    project_id: int,
    where: list[ColumnElement[bool]],
    after: int,
    end: int,
    size: int,
) -> Sequence[Row[Any]]:
    is_gold = exists().where(GoldAnswer.item_id == Item.id).label("gold")
    return session.execute(
        select(
            Item.id,
            Item.external_id,
            Item.status,
            Item.data,
            Item.final_answers,
            Item.created_at,
            Item.pii,
            is_gold,
        )
        .where(Item.project_id == project_id, Item.id > after, Item.id <= end, *where)
        .order_by(Item.id)
        .limit(size)
    ).all()


def _answers(session: Session, item_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    """Every annotator's current answers to each item, read by the item index."""
    found: dict[int, list[dict[str, Any]]] = {}
    rows = session.execute(
        select(Annotation.item_id, Annotation.answers).where(Annotation.item_id.in_(item_ids))
    )
    for item_id, answers in rows:
        found.setdefault(item_id, []).append(answers)
    return found


def _shown(row: Row[Any], view: FieldView) -> BrowsedItem:
    return BrowsedItem(
        row.id,
        row.external_id,
        row.status,
        view.data(row.data),
        bool(row.gold),
        row.created_at,
        row.pii,
    )


def _matches(
    item: BrowsedItem,
    final: dict[str, Any] | None,
    answers: list[dict[str, Any]],
    wanted: ItemFilter,
    questions: list[str],
) -> bool:
    field = wanted.slice_field
    if field is not None and _text(item.data.get(field)) != wanted.slice_value:
        return False
    if wanted.text and not _mentions(item, wanted.text.lower()):
        return False
    if wanted.label is not None and wanted.question is not None:
        given = [*answers, *([final] if final else [])]
        if not any(_gives(a.get(wanted.question), wanted.label) for a in given):
            return False
    return not wanted.disagreement or any(_differ(answers, q) for q in questions)


def _text(value: Any) -> str | None:
    if value is None:
        return None
    return value if isinstance(value, str) else orjson.dumps(value).decode()


def _mentions(item: BrowsedItem, needle: str) -> bool:
    values = [item.external_id, *(_text(v) for v in item.data.values())]
    return any(needle in value.lower() for value in values if value)


def _gives(answer: Any, label: str) -> bool:
    """Whether an answer gives `label`: the label itself, one of a multi-label answer's, a
    hierarchical path under it ("hardware" for "hardware/laptop"), or a rating or number
    written as it ("5")."""
    if isinstance(answer, list):
        return label in answer
    if isinstance(answer, int | float) and not isinstance(answer, bool):
        return _text(answer) == label
    return isinstance(answer, str) and (answer == label or answer.startswith(label + "/"))


def _differ(answers: list[dict[str, Any]], question: str) -> bool:
    given = {
        orjson.dumps(a[question], option=orjson.OPT_SORT_KEYS) for a in answers if question in a
    }
    return len(given) > 1
