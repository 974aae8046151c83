"""Model predictions imported as pre-labels: `{"id", "model", "answers", "scores"}` per row.

Answers are checked against the questions as a labeler's are (`validate_answers`), except
that a model may answer only some questions. One prediction per item and model: importing
the same pair again replaces it with a new row, which makes it the item's latest (the one the
labeling page suggests). Streamed in batches, one unit of work per import: all or nothing,
or with `skip_invalid` every bad row reported by its position.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Annotated, Any

import orjson
from pydantic import Field
from sqlalchemy import delete, select, tuple_
from sqlalchemy.orm import Session

from labelwise.db.engine import Database
from labelwise.db.models import Item, Prediction
from labelwise.errors import InvalidInput
from labelwise.formats import ParsedRow
from labelwise.services import audit
from labelwise.services.imports import RowInvalid, external_id_of
from labelwise.spec import AnswerError, ProjectSpec, validate_answers

BATCH = 1000
MAX_MODEL = 200
# name@version: a model is named with the version that made the predictions.
_MODEL = re.compile(r"[^@\s]+@[^@\s]+")
_LABEL_SCORES = frozenset({"single_label", "multi_label"})
# Told of each bad row (its position, the problem): fails the import, or notes it as skipped.
Refuse = Callable[[int | str, str], None]


@dataclass
class PredictionsImported:
    saved: Annotated[int, Field(description="Predictions stored, replaced ones included.")] = 0
    replaced: Annotated[
        int, Field(description="Of those, ones that replaced the same model's earlier one.")
    ] = 0
    skipped: Annotated[
        list[dict[str, Any]],
        Field(description="With skip_invalid: each bad row, by position, with its error."),
    ] = field(default_factory=list)


@dataclass(frozen=True)
class _Row:
    position: int | str
    external_id: str
    model: str
    answers: Any
    scores: Any


def import_predictions(
    db: Database,
    project_id: int,
    spec: ProjectSpec,
    rows: Iterable[ParsedRow],
    *,
    source: str,
    position_name: str = "line",
    skip_invalid: bool = False,
    actor_id: int | None = None,
) -> PredictionsImported:
    """Store every row's prediction or, at the first bad row, none (unless `skip_invalid`).

    The audit event (`predictions.imported`) holds the counts, the models and the SHA-256 of
    the predictions stored, one canonical JSON line each."""
    summary = PredictionsImported()
    digest = hashlib.sha256()
    models: set[str] = set()

    def refuse(position: int | str, problem: str) -> None:
        if not skip_invalid:
            raise InvalidInput(
                f"{source}, {position_name} {position}: {problem}; no prediction was imported"
            )
        summary.skipped.append({position_name: position, "error": problem})

    with db.write() as session:
        for batch in _batches(rows, refuse):
            stored = _checked(session, project_id, spec, batch, refuse)
            summary.replaced += _replace(session, project_id, stored)
            summary.saved += len(stored)
            for row in stored:
                models.add(row["model"])
                digest.update(orjson.dumps(row, option=orjson.OPT_SORT_KEYS) + b"\n")
        if summary.saved:
            audit.record(
                session,
                project_id=project_id,
                actor_id=actor_id,
                action="predictions.imported",
                target_type="project",
                target_id=project_id,
                after={
                    "saved": summary.saved,
                    "replaced": summary.replaced,
                    "models": sorted(models),
                    "sha256": digest.hexdigest(),
                },
            )
    return summary


def _batches(rows: Iterable[ParsedRow], refuse: Refuse) -> Iterator[list[_Row]]:
    batch: list[_Row] = []
    for position, value, error in rows:
        try:
            batch.append(_parsed(position, value, error))
        except RowInvalid as problem:
            refuse(position, str(problem))
            continue
        if len(batch) >= BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def _parsed(position: int | str, value: Any, error: str | None) -> _Row:
    if error is not None:
        raise RowInvalid(error)
    if not isinstance(value, dict):
        raise RowInvalid('expected {"id": ..., "model": "name@version", "answers": {...}}')
    unknown = sorted(set(value) - {"id", "model", "answers", "scores"})
    if unknown:
        raise RowInvalid(f"field {unknown[0]!r}: unknown; a row has id, model, answers, scores")
    external_id = external_id_of(value.get("id"))
    if external_id is None:
        raise RowInvalid("field 'id' is missing")
    return _Row(
        position, external_id, _model(value.get("model")), value.get("answers"), value.get("scores")
    )


def _model(raw: Any) -> str:
    if raw is None:
        raise RowInvalid("field 'model' is missing")
    if not isinstance(raw, str) or not _MODEL.fullmatch(raw) or len(raw) > MAX_MODEL:
        raise RowInvalid(
            f"field 'model': expected name@version (no spaces, at most {MAX_MODEL} "
            f"characters), found {str(raw)[:60]!r}"
        )
    return raw


def _checked(
    session: Session, project_id: int, spec: ProjectSpec, batch: list[_Row], refuse: Refuse
) -> list[dict[str, Any]]:
    """The batch's rows as stored, each (item, model) once (the last row given wins)."""
    wanted = {row.external_id for row in batch}
    found = session.execute(
        select(Item.external_id, Item.id, Item.data).where(
            Item.project_id == project_id, Item.external_id.in_(wanted)
        )
    )
    items = {external_id: (item_id, data) for external_id, item_id, data in found}
    stored: dict[tuple[int, str], dict[str, Any]] = {}
    for row in batch:
        try:
            item_id, data = items.get(row.external_id) or _missing(row.external_id)
            answers = _answers(spec, row.answers, data)
            scores = _scores(spec, row.scores, answers)
        except RowInvalid as problem:
            refuse(row.position, str(problem))
            continue
        key = (item_id, row.model)
        stored.pop(key, None)  # a later row for the same pair replaces it, in file order
        stored[key] = {
            "project_id": project_id,
            "item_id": item_id,
            "model": row.model,
            "answers": answers,
            "scores": scores,
        }
    return list(stored.values())


def _missing(external_id: str) -> tuple[int, Any]:
    raise RowInvalid(f"field 'id': no item with id {external_id!r} in this project")


def _answers(spec: ProjectSpec, raw: Any, data: Any) -> dict[str, Any]:
    if raw is None:
        raise RowInvalid("field 'answers' is missing")
    try:
        answers = validate_answers(spec, raw, data, partial=True)
    except AnswerError as error:
        raise RowInvalid(f"field 'answers.{error}") from None
    if not answers:
        raise RowInvalid("field 'answers': predict at least one question")
    return answers


def _scores(spec: ProjectSpec, raw: Any, answers: dict[str, Any]) -> dict[str, Any] | None:
    """Per answered question: a confidence in [0, 1], or (label questions) an object of
    label -> probability in [0, 1]."""
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise RowInvalid("field 'scores': expected an object of question name to score")
    for name, score in raw.items():
        where = f"field 'scores.{name}'"
        if name not in answers:
            raise RowInvalid(f"{where}: the prediction does not answer that question")
        if isinstance(score, dict):
            question = spec.question(name)
            if question.type not in _LABEL_SCORES:
                raise RowInvalid(f"{where}: per-label scores are for label questions only")
            for label, value in score.items():
                if label not in question.choices:
                    raise RowInvalid(f"{where}: {label!r} is not one of the question's labels")
                _probability(f"{where}.{label}", value)
        else:
            _probability(where, score)
    return raw


def _probability(where: str, value: Any) -> None:
    number = isinstance(value, int | float) and not isinstance(value, bool)
    if not number or not math.isfinite(value) or not 0 <= value <= 1:
        raise RowInvalid(
            f"{where}: expected a number from 0 to 1, found {orjson.dumps(value).decode()[:40]}"
        )


def _replace(session: Session, project_id: int, stored: list[dict[str, Any]]) -> int:
    """Insert the rows, each replacing its (item, model)'s earlier one: how many it replaced."""
    if not stored:
        return 0
    pairs = [(row["item_id"], row["model"]) for row in stored]
    gone = session.execute(
        delete(Prediction)
        .where(
            Prediction.project_id == project_id,
            tuple_(Prediction.item_id, Prediction.model).in_(pairs),
        )
        .returning(Prediction.id)
    )
    replaced = len(gone.all())
    connection = session.connection()
    mark = "?" if connection.dialect.paramstyle == "qmark" else "%s"
    # Straight to the driver's executemany, the JSON serialised here: SQLAlchemy's per-row
    # parameter handling took half of an import's time.
    connection.exec_driver_sql(_INSERT.format(mark=mark), [_driver_row(row) for row in stored])
    return replaced


_INSERT = (
    "INSERT INTO predictions (project_id, item_id, model, answers, scores) "
    "VALUES ({mark}, {mark}, {mark}, {mark}, {mark})"
)


def _driver_row(row: dict[str, Any]) -> tuple[Any, ...]:
    scores = row["scores"]
    return (
        row["project_id"],
        row["item_id"],
        row["model"],
        orjson.dumps(row["answers"]).decode(),
        None if scores is None else orjson.dumps(scores).decode(),
    )
