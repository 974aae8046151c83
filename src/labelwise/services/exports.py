"""Export: every item with its annotations, streamed page by page in one read snapshot."""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import Connection, Select, Text, select, type_coerce
from sqlalchemy.sql.compiler import SQLCompiler

from labelwise.db.engine import Database
from labelwise.db.models import Annotation, Comment, Escalation, Item, Project, Review
from labelwise.db.pages import Reader, items_in_project, keyset_pages
from labelwise.errors import InvalidInput
from labelwise.formats import ExportRow, Format
from labelwise.policies import FieldView
from labelwise.services import accounts
from labelwise.services.projects import spec_of
from labelwise.services.reporting.consensus import METHODS, ConsensusTable, consensus

PAGE = 5000
# Core tables, not the ORM: an export handles a million rows and ORM rows cost twice as much.
_items = Item.__table__
_annotations = Annotation.__table__
_reviews = Review.__table__
_escalations = Escalation.__table__
_comments = Comment.__table__


def export(
    db: Database,
    project: Project,
    field_names: list[str],
    fmt: Format,
    *,
    view: FieldView,
    consensus_method: str | None = None,
    soft: bool = False,
) -> Iterator[bytes]:
    """The project's items in `fmt` as `view` shows them, as byte chunks; memory stays flat
    whatever the size.

    With `consensus_method` (majority, dawid-skene or weighted) each item also carries the consensus
    answer to every question that can be aggregated, with its confidence, and with `soft`
    the probability of every label. Numbers use their median, multi-label a per-label vote.
    """
    assert fmt.write is not None
    tables = _consensus_tables(db, project, consensus_method) if consensus_method else {}
    return fmt.write(_rows(db, project.id, tables, soft, view), field_names)


def _consensus_tables(db: Database, project: Project, method: str) -> dict[str, ConsensusTable]:
    if method not in METHODS:
        raise InvalidInput(f"consensus: expected one of {', '.join(METHODS)}")
    questions = [q for q in spec_of(project).questions if q.kind.consensus]
    return {
        q.name: consensus(db, project.id, q.name, method if method in q.kind.consensus else None)
        for q in questions
    }


def _consensus_of(
    item_id: int, tables: dict[str, ConsensusTable], soft: bool
) -> dict[str, Any] | None:
    found = {}
    for question, table in tables.items():
        entry = table.get(item_id)
        if entry is not None:
            found[question] = {"answer": entry.answer, "confidence": entry.confidence}
            if soft:
                found[question]["probabilities"] = entry.probabilities
    return found or None


def _rows(
    db: Database, project_id: int, tables: dict[str, ConsensusTable], soft: bool, view: FieldView
) -> Iterator[ExportRow]:
    query = select(
        _items.c.id,
        _items.c.external_id,
        _items.c.status,
        _items.c.data,
        _items.c.final_answers,
    ).where(items_in_project(project_id))
    with db.snapshot() as session:
        connection = session.connection()
        usernames = accounts.usernames(connection)
        read = _driver_reader(connection)
        for items in keyset_pages(read, query, _items.c.id, start=0, size=PAGE):
            first, last = items[0][0], items[-1][0]
            annotations = _annotations_of(connection, project_id, first, last, usernames)
            discussion = _discussion_of(connection, project_id, first, last, usernames)
            for item_id, external_id, status, data_json, final_json in items:
                found = annotations.get(item_id, [])
                outcome = {
                    "final_answers": None if final_json is None else orjson.Fragment(final_json),
                    "escalations": discussion.get(("escalations", item_id), []),
                    "comments": discussion.get(("comments", item_id), []),
                    "consensus": _consensus_of(item_id, tables, soft) if tables else None,
                }
                data = view.data_json(data_json)
                yield ExportRow(item_id, external_id, status, data, found, outcome)


def _driver_reader(connection: Connection) -> Reader[Any]:
    """Pages run on the driver's own cursor, each statement compiled once: plain tuples.

    An export reads every item; SQLAlchemy's result rows would cost as much again as
    everything else done per item. The columns are plain (int and text), so nothing of
    SQLAlchemy's result processing is lost.
    """
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]

    @functools.cache
    def compiled(query: Select[Any]) -> tuple[SQLCompiler, str]:
        done = query.compile(connection)
        return done, str(done)

    def read(query: Select[Any], values: Mapping[str, Any]) -> list[Any]:
        plan, sql = compiled(query)
        params = plan.construct_params(values)
        if plan.positiontup is not None:  # "?" placeholders (SQLite): in order
            cursor.execute(sql, [params[name] for name in plan.positiontup])
        else:
            cursor.execute(sql, params)
        return list(cursor.fetchall())

    return read


def _annotations_of(
    connection: Connection, project_id: int, first: int, last: int, usernames: dict[int, str]
) -> dict[int, list[dict[str, Any]]]:
    """Each item's annotations, each with its revision, the guideline version it was made
    under, its review status and reviews."""
    reviews = _reviews_of(connection, project_id, first, last, usernames)
    found: dict[int, list[dict[str, Any]]] = {}
    rows = connection.execute(
        select(
            _annotations.c.id,
            _annotations.c.item_id,
            _annotations.c.user_id,
            type_coerce(_annotations.c.answers, Text),
            _annotations.c.time_ms,
            _annotations.c.created_at,
            _annotations.c.updated_at,
            _annotations.c.revision,
            _annotations.c.guideline_version,
            _annotations.c.review_status,
        )
        .where(
            _annotations.c.project_id == project_id,
            _annotations.c.item_id.between(first, last),
        )
        .order_by(_annotations.c.item_id, _annotations.c.id)
    )
    for row in rows:
        annotation_id, item_id, user_id, answers, time_ms, created, updated, rev, gv, status = row
        found.setdefault(item_id, []).append(
            {
                "annotator": usernames.get(user_id),
                "answers": orjson.Fragment(answers),
                "time_ms": time_ms,
                "created_at": _iso(created),
                "updated_at": _iso(updated),
                "revision": rev,
                "guideline_version": gv,
                "review_status": status,
                "reviews": reviews.get(annotation_id, []),
            }
        )
    return found


def _reviews_of(
    connection: Connection, project_id: int, first: int, last: int, usernames: dict[int, str]
) -> dict[int, list[dict[str, Any]]]:
    found: dict[int, list[dict[str, Any]]] = {}
    rows = connection.execute(
        select(
            _reviews.c.annotation_id,
            _reviews.c.reviewer_id,
            _reviews.c.verdict,
            _reviews.c.feedback,
            type_coerce(_reviews.c.corrected_answers, Text),
            _reviews.c.revision,
            _reviews.c.created_at,
        )
        .where(_reviews.c.project_id == project_id, _reviews.c.item_id.between(first, last))
        .order_by(_reviews.c.id)
    )
    for annotation_id, reviewer, verdict, feedback, corrected, revision, created in rows:
        found.setdefault(annotation_id, []).append(
            {
                "reviewer": usernames.get(reviewer),
                "verdict": verdict,
                "feedback": feedback,
                "corrected_answers": None if corrected is None else orjson.Fragment(corrected),
                "revision": revision,
                "created_at": _iso(created),
            }
        )
    return found


def _discussion_of(
    connection: Connection, project_id: int, first: int, last: int, usernames: dict[int, str]
) -> dict[tuple[str, int], list[dict[str, Any]]]:
    """Escalations (with their answers) and comments, keyed by (kind, item id)."""
    found: dict[tuple[str, int], list[dict[str, Any]]] = {}
    escalations = connection.execute(
        select(_escalations)
        .where(_escalations.c.project_id == project_id, _escalations.c.item_id.between(first, last))
        .order_by(_escalations.c.id)
    )
    for e in escalations:
        found.setdefault(("escalations", e.item_id), []).append(
            {
                "asked_by": usernames.get(e.user_id),
                "question": e.question,
                "asked_at": _iso(e.created_at),
                "answer": e.answer,
                "answered_by": usernames.get(e.answered_by) if e.answered_by else None,
                "answered_at": _iso(e.answered_at) if e.answered_at else None,
            }
        )
    comments = connection.execute(
        select(_comments)
        .where(_comments.c.project_id == project_id, _comments.c.item_id.between(first, last))
        .order_by(_comments.c.id)
    )
    for c in comments:
        found.setdefault(("comments", c.item_id), []).append(
            {"author": usernames.get(c.user_id), "body": c.body, "created_at": _iso(c.created_at)}
        )
    return found


def _iso(moment: datetime) -> str:
    """SQLite hands back naive UTC datetimes, PostgreSQL aware ones: print both alike."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
