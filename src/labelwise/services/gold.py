"""Gold questions: known answers, the qualification test, honeypots and gold accuracy.

Gold items are never routed as ordinary work: they are handed out as a new annotator's
qualification test, then mixed into the queue at the project's gold rate, looking exactly
like any other item. Each answer to a gold item is scored against the known answer on the
questions the gold answer covers.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import Field
from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from labelwise.canonical import same_json
from labelwise.clock import now
from labelwise.db.engine import Database, insert_if_missing
from labelwise.db.models import Annotation, Assignment, GoldAnswer, Item, Qualification, User
from labelwise.errors import InvalidInput, NotFound
from labelwise.formats import ParsedRow
from labelwise.quality import wilson_interval
from labelwise.services import audit
from labelwise.spec import AnswerError, ProjectSpec, validate_answers
from labelwise.states import LABELING_KINDS


def is_correct(gold: dict[str, Any], answers: dict[str, Any]) -> bool:
    """Right when every question the gold answer covers was answered the same way."""
    return all(same_json(value, answers.get(name)) for name, value in gold.items())


# --- setting gold answers ------------------------------------------------------------------


def import_gold(
    db: Database,
    project_id: int,
    spec: ProjectSpec,
    rows: Iterable[ParsedRow],
    *,
    source: str,
    position_name: str = "line",
    actor_id: int | None = None,
) -> int:
    """Set gold answers from rows `{"id": external id, "answers": {...}, "explanation": ...}`.

    All or nothing: the first bad row fails the whole file, naming its line.
    """
    count = 0
    with db.write() as session:
        for position, value, error in rows:
            try:
                if error is not None:
                    raise InvalidInput(error)
                _set_from_row(session, project_id, spec, value, actor_id)
            except (InvalidInput, NotFound) as problem:
                raise InvalidInput(
                    f"{source}, {position_name} {position}: {problem}; no gold answer was saved"
                ) from None
            count += 1
    return count


def _set_from_row(
    session: Session, project_id: int, spec: ProjectSpec, value: Any, actor_id: int | None
) -> None:
    if not isinstance(value, dict) or "id" not in value or "answers" not in value:
        raise InvalidInput('expected {"id": ..., "answers": {...}, "explanation": "..."}')
    item = session.scalar(
        select(Item).where(Item.project_id == project_id, Item.external_id == str(value["id"]))
    )
    if item is None:
        raise NotFound(f"no item with id {value['id']!r}")
    explanation = value.get("explanation")
    if explanation is not None and not isinstance(explanation, str):
        raise InvalidInput("explanation: must be a string")
    _save(session, spec, item, value["answers"], explanation, actor_id)


def set_gold(
    db: Database,
    project_id: int,
    spec: ProjectSpec,
    item_id: int,
    answers: Any,
    explanation: str | None,
    actor_id: int | None,
) -> None:
    with db.write() as session:
        item = session.get(Item, item_id)
        if item is None or item.project_id != project_id:
            raise NotFound(f"item {item_id} not found")
        _save(session, spec, item, answers, explanation, actor_id)


def _save(
    session: Session,
    spec: ProjectSpec,
    item: Item,
    answers: Any,
    explanation: str | None,
    actor_id: int | None,
) -> None:
    try:
        clean = validate_answers(spec, answers, item.data, partial=True)
    except AnswerError as error:
        raise InvalidInput(f"answers.{error}") from None
    if not clean:
        raise InvalidInput("answers: give the known answer to at least one question")
    gold = session.get(GoldAnswer, item.id)
    before = None if gold is None else {"answers": gold.answers, "explanation": gold.explanation}
    if gold is None:
        gold = GoldAnswer(item_id=item.id, project_id=item.project_id)
        session.add(gold)
    gold.answers, gold.explanation = clean, explanation
    audit.record(
        session,
        project_id=item.project_id,
        actor_id=actor_id,
        action="gold.set",
        target_type="item",
        target_id=item.id,
        before=before,
        after={"answers": clean, "explanation": explanation},
    )


# --- routing --------------------------------------------------------------------------------


def not_gold(item_id_column: Any) -> Any:
    """A filter that keeps gold items out of the ordinary queue."""
    return ~exists().where(GoldAnswer.item_id == item_id_column)


def gold_to_serve(
    session: Session, spec: ProjectSpec, project_id: int, user_id: int
) -> int | bool | None:
    """The gold item this person gets now; False if they may not work (failed the test).

    None means: no gold now, route ordinary work.
    """
    qualification = spec.quality.qualification
    if qualification is not None:
        state = _qualification(session, project_id, user_id)
        if state.status == "failed":
            return False
        if state.status == "pending":
            item_id = _unseen_gold(session, project_id, user_id)
            if item_id is not None:
                return item_id
            _finish(state, qualification.min_accuracy)  # fewer gold items than the test asks
            if state.status == "failed":
                return False
    if spec.quality.gold_rate and random.random() < spec.quality.gold_rate:
        return _unseen_gold(session, project_id, user_id)
    return None


def _unseen_gold(session: Session, project_id: int, user_id: int) -> int | None:
    seen = exists().where(
        Assignment.item_id == GoldAnswer.item_id,
        Assignment.user_id == user_id,
        Assignment.kind.in_(LABELING_KINDS),
    )
    return session.scalar(
        select(GoldAnswer.item_id)
        .where(GoldAnswer.project_id == project_id, ~seen)
        .order_by(GoldAnswer.item_id)
        .limit(1)
    )


def _qualification(session: Session, project_id: int, user_id: int) -> Qualification:
    insert_if_missing(
        session,
        Qualification,
        project_id=project_id,
        user_id=user_id,
        status="pending",
        answered=0,
        correct=0,
    )
    return session.scalars(
        select(Qualification)
        .where(Qualification.project_id == project_id, Qualification.user_id == user_id)
        .with_for_update()
    ).one()


def _finish(state: Qualification, min_accuracy: float) -> None:
    passed = state.answered == 0 or state.correct / state.answered >= min_accuracy
    state.status = "passed" if passed else "failed"
    state.finished_at = now()


def score(session: Session, spec: ProjectSpec, item_id: int, user_id: int, answers: Any) -> None:
    """Count a submitted gold answer toward the person's qualification test, if it is open."""
    qualification = spec.quality.qualification
    if qualification is None:
        return
    gold = session.get_one(GoldAnswer, item_id)
    state = _qualification(session, gold.project_id, user_id)
    if state.status != "pending":
        return
    state.answered += 1
    state.correct += is_correct(gold.answers, answers)
    if state.answered >= qualification.items:
        _finish(state, qualification.min_accuracy)


# --- results --------------------------------------------------------------------------------


@dataclass(frozen=True)
class GoldResult:
    item_id: int
    external_id: str | None
    answers: dict[str, Any]
    gold: dict[str, Any]
    explanation: str | None
    correct: bool


@dataclass(frozen=True)
class QualificationView:
    required: bool
    status: Annotated[str, Field(description="not_required, pending, passed or failed")]
    answered: int
    correct: int
    items: int
    min_accuracy: float
    results: Annotated[
        list[GoldResult], Field(description="Each test item, once the test is over.")
    ]


def qualification_of(
    db: Database, spec: ProjectSpec, project_id: int, user_id: int
) -> QualificationView:
    test = spec.quality.qualification
    with db.read() as session:
        state = session.get(Qualification, (project_id, user_id))
        status = "not_required" if test is None else (state.status if state else "pending")
        results = _results(session, project_id, user_id) if status in ("passed", "failed") else []
    return QualificationView(
        required=test is not None,
        status=status,
        answered=state.answered if state else 0,
        correct=state.correct if state else 0,
        items=test.items if test else 0,
        min_accuracy=test.min_accuracy if test else 0.0,
        results=results[: test.items] if test else [],
    )


def _results(session: Session, project_id: int, user_id: int) -> list[GoldResult]:
    rows = session.execute(
        select(Annotation, GoldAnswer, Item.external_id)
        .join(GoldAnswer, GoldAnswer.item_id == Annotation.item_id)
        .join(Item, Item.id == Annotation.item_id)
        .where(Annotation.project_id == project_id, Annotation.user_id == user_id)
        .order_by(Annotation.id)
    ).all()
    return [
        GoldResult(
            a.item_id, ext, a.answers, g.answers, g.explanation, is_correct(g.answers, a.answers)
        )
        for a, g, ext in rows
    ]


@dataclass(frozen=True)
class GoldScore:
    annotator: str
    answered: int
    correct: int
    accuracy: float
    low: float
    high: float
    qualification: str | None


def accuracy_by_annotator(db: Database, project_id: int) -> list[GoldScore]:
    """Each annotator's accuracy on gold items, with a 95% Wilson interval."""
    tallies: dict[str, list[int]] = {}
    with db.read() as session:
        rows = session.execute(
            select(User.username, Annotation.answers, GoldAnswer.answers)
            .join(GoldAnswer, GoldAnswer.item_id == Annotation.item_id)
            .join(User, User.id == Annotation.user_id)
            .where(Annotation.project_id == project_id)
        )
        for username, answers, gold in rows:
            tally = tallies.setdefault(username, [0, 0])
            tally[0] += 1
            tally[1] += is_correct(gold, answers)
        states = dict(
            session.execute(
                select(User.username, Qualification.status)
                .join(User, User.id == Qualification.user_id)
                .where(Qualification.project_id == project_id)
            ).all()
        )
    scores = []
    for username, (answered, correct) in sorted(tallies.items()):
        interval = wilson_interval(correct, answered)
        scores.append(
            GoldScore(
                username,
                answered,
                correct,
                correct / answered,
                interval.low,
                interval.high,
                states.get(username),
            )
        )
    return scores


def gold_count(db: Database, project_id: int) -> int:
    with db.read() as session:
        return (
            session.scalar(
                select(func.count())
                .select_from(GoldAnswer)
                .where(GoldAnswer.project_id == project_id)
            )
            or 0
        )
