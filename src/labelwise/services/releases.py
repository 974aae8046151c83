"""Dataset releases: the final answers frozen into immutable, content-hashed rows.

A release stores each finished item as canonical JSON text (sorted keys) and the SHA-256 of
those rows in item order, so it exports to the same bytes at any later time, whatever
changed in the project since, and `verify` can tell if a stored row was altered. A hard delete
(`services.erasure`) is the one thing that changes stored rows; `verify` reports it apart
(`release_erasure`).
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, NamedTuple

import orjson
from sqlalchemy import Connection, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from labelwise.db.audit_chain import as_utc
from labelwise.db.engine import Database
from labelwise.db.models import Annotation, Item, Project, User
from labelwise.db.pages import items_in_project, keyset_pages, read_on
from labelwise.db.release_models import Release, ReleaseErasure, ReleaseRowRecord
from labelwise.errors import Conflict, InvalidInput
from labelwise.formats import Format, get_release_format, write_release
from labelwise.formats.rows import ReleaseLayout, ReleaseRow
from labelwise.policies import Action, FieldView, shared_view
from labelwise.services import accounts, audit, dataset_card, stored_release
from labelwise.services.projects import spec_of
from labelwise.services.reporting import quality_report
from labelwise.services.reporting.consensus import METHODS, ConsensusTable, consensus_of
from labelwise.services.reporting.quality_data import annotation_rows, load
from labelwise.services.workflow.corrections import corrections, effective_answers
from labelwise.spec import AnswerError, ProjectSpec, QuestionSpec, parse_spec, validate_answers

PAGE = 5000
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_items = Item.__table__
_annotations = Annotation.__table__
_rows = ReleaseRowRecord.__table__


@dataclass(frozen=True)
class ReleaseInfo:
    name: str
    method: str
    items: int
    content_hash: str
    created_at: datetime
    created_by: str | None
    card: str


def create(
    db: Database, project: Project, name: str, method: str, actor_id: int | None
) -> ReleaseInfo:
    """Freeze the finished items' final answers as release `name` and write its card.

    An answer is the adjudicated one where a person settled the item; otherwise the one
    annotation's (with a reviewer's correction); otherwise the consensus by `method` for
    questions that aggregate, a strict majority of identical spans or texts for the rest.
    """
    if not _NAME.fullmatch(name):
        raise InvalidInput(
            f"release name {name!r}: use 1-64 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit"
        )
    if method not in METHODS:
        raise InvalidInput(f"method {method!r}: expected one of {', '.join(METHODS)}")
    _refuse_taken(db, project.id, name)
    spec = spec_of(project)
    # One snapshot for the votes and the card's quality figures; the rows themselves are
    # read again, page by page, in the write transaction that freezes them.
    columns = load(db, project.id, spec, spec.questions)
    tables = {
        q.name: consensus_of(columns, q, _method_for(q, method))
        for q in spec.questions
        if q.kind.consensus
    }
    report = quality_report.report_of(project, spec, columns)
    context = dataset_card.gather(db, project, report, dataset_card.slice_totals(columns))
    # The card is written once and read by every role that reads releases: it names only
    # the fields all of them may see.
    shown = shared_view(spec, Action.EXPORT).fields(spec.fields)
    stats = dataset_card.FreezeStats(slices=[f.name for f in shown if f.type == "metadata"])
    digest = hashlib.sha256()
    count = 0
    with db.write() as session:
        release = Release(
            project_id=project.id,
            name=name,
            method=method,
            items=0,
            content_hash="",
            card="",
            spec=project.spec,
            created_by=actor_id,
        )
        session.add(release)
        try:
            session.flush()
        except IntegrityError:  # the same name, created by someone else since the check
            raise _taken(name) from None
        connection = session.connection()
        for page in _frozen_pages(connection, project.id, spec, tables, method):
            texts = []
            for row in page:
                stats.add(spec, row)
                text = orjson.dumps(row._asdict(), option=orjson.OPT_SORT_KEYS)
                digest.update(text + b"\n")
                texts.append({"release_id": release.id, "item_id": row.id, "row": text.decode()})
            connection.execute(insert(ReleaseRowRecord), texts)
            count += len(texts)
        release.items, release.content_hash = count, digest.hexdigest()
        stats.time_ms = _time_spent(connection, project.id)
        session.flush()
        session.refresh(release)
        release.card = dataset_card.render(spec, shown, release, stats, context)
        audit.record(
            session,
            project_id=project.id,
            actor_id=actor_id,
            action="release.create",
            target_type="release",
            target_id=name,
            after={"method": method, "items": count, "content_hash": release.content_hash},
        )
    return get(db, project, name)


def _time_spent(connection: Connection, project_id: int) -> int:
    """The annotators' recorded time on the released (finished) items, in milliseconds."""
    total = connection.scalar(
        select(func.sum(_annotations.c.time_ms))
        .join(_items, _items.c.id == _annotations.c.item_id)
        .where(_annotations.c.project_id == project_id, _items.c.status == "done")
    )
    return int(total or 0)


def _refuse_taken(db: Database, project_id: int, name: str) -> None:
    with db.read() as session:
        taken = session.scalar(
            select(Release.id).where(Release.project_id == project_id, Release.name == name)
        )
    if taken is not None:
        raise _taken(name)


def _taken(name: str) -> Conflict:
    return Conflict(f"release {name!r} already exists; a release never changes, pick a new name")


def _method_for(question: QuestionSpec, method: str) -> str:
    """The release's method where the question type has it; else the type's default."""
    usable = question.kind.consensus
    return method if method in usable else usable[0]


def _frozen_pages(
    connection: Connection,
    project_id: int,
    spec: ProjectSpec,
    tables: dict[str, ConsensusTable],
    method: str,
) -> Iterator[list[ReleaseRow]]:
    """The project's finished items as release rows, a page at a time, in item order."""
    query = select(_items.c.id, _items.c.external_id, _items.c.data, _items.c.final_answers).where(
        items_in_project(project_id), _items.c.status == "done"
    )
    names = accounts.usernames(connection)
    for page in keyset_pages(read_on(connection), query, _items.c.id, start=0, size=PAGE):
        first, last = page[0][0], page[-1][0]
        given = _annotations_by_item(connection, project_id, first, last, names)
        yield [
            _row(spec, tables, method, item_id, external_id, data, final, given.get(item_id, []))
            for item_id, external_id, data, final in page
        ]


def _annotations_by_item(
    connection: Connection, project_id: int, first: int, last: int, names: dict[int, str]
) -> dict[int, list[dict[str, Any]]]:
    """Each item's annotations as the release keeps them, a reviewer's correction applied."""
    fixes = corrections(connection, project_id, first, last)
    found: dict[int, list[dict[str, Any]]] = {}
    for row in annotation_rows(connection, project_id, first, last):
        found.setdefault(row.item_id, []).append(
            {
                "annotator": names.get(row.user_id, str(row.user_id)),
                "answers": effective_answers(row, fixes),
                "guideline_version": row.guideline_version,
                "review": row.review_status,
            }
        )
    return found


def _row(
    spec: ProjectSpec,
    tables: dict[str, ConsensusTable],
    method: str,
    item_id: int,
    external_id: str | None,
    data: Any,
    final: Any,
    given: list[dict[str, Any]],
) -> ReleaseRow:
    answers: dict[str, Any] = {}
    sources: dict[str, str] = {}
    probabilities: dict[str, dict[str, float]] = {}
    for question in spec.questions:
        name = question.name
        votes = [a for a in given if a["answers"].get(name) is not None]
        entry = tables[name].get(item_id) if name in tables else None
        if final and name in final:
            answers[name], sources[name] = final[name], "adjudicated"
        elif len(votes) == 1:
            answers[name] = votes[0]["answers"][name]
            sources[name] = "reviewed" if votes[0]["review"] != "submitted" else "annotator"
        elif not votes:
            answers[name], sources[name] = None, "unanswered"
        elif entry is not None:
            answers[name], sources[name] = entry.answer, _method_for(question, method)
        else:
            answers[name], sources[name] = _majority(question, [v["answers"][name] for v in votes])
        if entry is not None and entry.probabilities is not None:
            probabilities[name] = entry.probabilities
    _drop_misfits(spec, data, answers, sources)
    return ReleaseRow(
        id=item_id,
        external_id=external_id,
        data=data,
        answers=answers,
        sources=sources,
        probabilities=probabilities,
        annotations=[
            {k: a[k] for k in ("annotator", "answers", "guideline_version")} for a in given
        ],
    )


def _drop_misfits(
    spec: ProjectSpec, data: Any, answers: dict[str, Any], sources: dict[str, str]
) -> None:
    """Answers that no longer fit the spec (it changed since they were given) are left out
    as `invalid`: a release's rows must fit the schema it is frozen with."""
    given = {name: value for name, value in answers.items() if value is not None}
    try:
        validate_answers(spec, given, data, partial=True)
        return
    except AnswerError:
        pass
    for name, value in given.items():
        try:
            validate_answers(spec, {name: value}, data, partial=True)
        except AnswerError:
            answers[name], sources[name] = None, "invalid"


def _majority(question: QuestionSpec, values: list[Any]) -> tuple[Any, str]:
    """What a strict majority gave, as the question's kind counts it (e.g. span by span)."""
    return question.kind.majority(values), "majority"


# --- reading -------------------------------------------------------------------------------


def _info(session: Session, release: Release) -> ReleaseInfo:
    creator = session.get(User, release.created_by) if release.created_by else None
    return ReleaseInfo(
        release.name,
        release.method,
        release.items,
        release.content_hash,
        release.created_at,
        creator.username if creator else None,
        release.card,
    )


def get(db: Database, project: Project, name: str) -> ReleaseInfo:
    with db.read() as session:
        return _info(session, stored_release.release(session, project.id, name))


def listing(db: Database, project: Project) -> list[ReleaseInfo]:
    """The project's releases, oldest first; each read and checked as `get` reads it."""
    with db.read() as session:
        names = session.scalars(
            select(Release.name).where(Release.project_id == project.id).order_by(Release.id)
        ).all()
        return [_info(session, stored_release.release(session, project.id, n)) for n in names]


def rows(db: Database, project: Project, name: str) -> Iterator[ReleaseRow]:
    """The release's rows in item order, streamed a page at a time from one snapshot."""
    with db.snapshot() as session:
        release_id = stored_release.release(session, project.id, name).id
        connection = session.connection()
        for item_id, text in _stored(connection, release_id):
            yield stored_release.parsed(connection, name, item_id, text)


@dataclass(frozen=True)
class ErasureNote:
    """Rows an erasure took out of the release, or changed (a person's answers removed)."""

    erased: str  # "item t-1", "person erased-3"
    rows_removed: int
    rows_changed: int
    by: str | None  # who erased; None for the CLI
    at: datetime


class ReleaseCheck(NamedTuple):
    intact: bool  # the stored rows are what the freeze and the erasures since left
    content_hash: str  # as released
    erasures: list[ErasureNote]


def verify(db: Database, project: Project, name: str) -> ReleaseCheck:
    """Whether the stored rows still hash to the release's content hash, or to the hash the
    last erasure since left them at; and the erasures, oldest first.

    A row that no longer is a release row at all (its JSON replaced by a number, a column
    of another type) raises Damaged, naming the item.
    """
    digest = hashlib.sha256()
    with db.snapshot() as session:
        release = stored_release.release(session, project.id, name)
        connection = session.connection()
        for item_id, text in _stored(connection, release.id):
            stored_release.parsed(connection, name, item_id, text)
            digest.update(text.encode() + b"\n")
        erasures = session.execute(
            select(ReleaseErasure, User.username)
            .outerjoin(User, User.id == ReleaseErasure.erased_by)
            .where(ReleaseErasure.release_id == release.id)
            .order_by(ReleaseErasure.id)
        ).all()
    expected = erasures[-1][0].content_hash if erasures else release.content_hash
    notes = [
        ErasureNote(e.erased, e.rows_removed, e.rows_changed, by, as_utc(e.erased_at))
        for e, by in erasures
    ]
    return ReleaseCheck(digest.hexdigest() == expected, release.content_hash, notes)


def _stored(connection: Connection, release_id: int) -> Iterator[tuple[Any, Any]]:
    """(item id, stored row text) in item order, in keyset pages (flat memory on any driver);
    as stored, unchecked."""
    query = select(_rows.c.item_id, _rows.c.row).where(_rows.c.release_id == release_id)
    for page in keyset_pages(read_on(connection), query, _rows.c.item_id, start=-1, size=PAGE):
        yield from page


def layout(
    db: Database, project: Project, name: str, *, view: FieldView, soft: bool, annotators: bool
) -> ReleaseLayout:
    """How release `name` is written for `view`: its schema as frozen, less the fields hidden
    from the reader then or now, and the optional parts asked for."""
    return _shown(db, project, name, view, soft=soft, annotators=annotators)[0]


def _shown(
    db: Database, project: Project, name: str, view: FieldView, *, soft: bool, annotators: bool
) -> tuple[ReleaseLayout, FieldView]:
    with db.read() as session:
        frozen = parse_spec(stored_release.release(session, project.id, name).spec)
    view = view.including(frozen)
    shape = ReleaseLayout(
        view.fields(frozen.fields), frozen.questions, soft=soft, annotators=annotators
    )
    return shape, view


def _rows_shown(db: Database, project: Project, name: str, view: FieldView) -> Iterator[ReleaseRow]:
    for row in rows(db, project, name):
        yield row._replace(data=view.data(row.data))


def export(
    db: Database,
    project: Project,
    name: str,
    fmt: Format,
    *,
    view: FieldView,
    soft: bool,
    annotators: bool,
) -> Iterator[bytes]:
    """Release `name` as one file in `fmt`, streamed: the same bytes on every call for the
    same `view` (the content hash is of every field's bytes)."""
    shape, view = _shown(db, project, name, view, soft=soft, annotators=annotators)
    fmt = get_release_format(fmt.name, shape)
    if fmt.release is None:
        raise InvalidInput(
            f"format {fmt.name!r} writes a directory; export it with the CLI: "
            f"labelwise export {project.slug} --release {name} --format {fmt.name} --output DIR"
        )
    return fmt.release(_rows_shown(db, project, name, view), shape)


def export_to(
    db: Database,
    project: Project,
    name: str,
    fmt: Format,
    out: Path,
    *,
    view: FieldView,
    soft: bool,
    annotators: bool,
) -> Path:
    """Write release `name` in `fmt` to the file or directory `out`, all or nothing."""
    shape, view = _shown(db, project, name, view, soft=soft, annotators=annotators)
    return write_release(fmt, _rows_shown(db, project, name, view), shape, out)


# --- diff ----------------------------------------------------------------------------------


@dataclass
class ReleaseDiff:
    """What changed from release `old` to `new`: counts, and the first `limit` of each kind."""

    # No defaults: the API serves this type, and a field with a default would be optional there.
    old: str
    new: str
    added: int
    removed: int
    changed: int  # items with at least one answer changed
    changed_by_question: Counter[str]
    added_items: list[str]
    removed_items: list[str]
    changes: list[dict[str, Any]]


def diff(db: Database, project: Project, old: str, new: str, limit: int = 50) -> ReleaseDiff:
    """Merge the two releases' rows (both in item order) and compare answers per question.

    `limit` caps the items listed per kind (0: no cap); the counts always cover everything.
    """
    result = ReleaseDiff(old, new, 0, 0, 0, Counter(), [], [], [])

    def room(listed: list[Any]) -> bool:
        return limit == 0 or len(listed) < limit

    before, after = rows(db, project, old), rows(db, project, new)
    a, b = next(before, None), next(after, None)
    while a is not None or b is not None:
        if b is None or (a is not None and a.id < b.id):
            assert a is not None
            result.removed += 1
            if room(result.removed_items):
                result.removed_items.append(_label(a))
            a = next(before, None)
        elif a is None or b.id < a.id:
            result.added += 1
            if room(result.added_items):
                result.added_items.append(_label(b))
            b = next(after, None)
        else:
            changed = {
                q: {"before": a.answers.get(q), "after": b.answers.get(q)}
                for q in sorted(a.answers.keys() | b.answers.keys())
                if a.answers.get(q) != b.answers.get(q)
            }
            if changed:
                result.changed += 1
                result.changed_by_question.update(changed.keys())
                if room(result.changes):
                    result.changes.append({"item": _label(b), "answers": changed})
            a, b = next(before, None), next(after, None)
    return result


def _label(row: ReleaseRow) -> str:
    """How a person finds the item: its external id, else its database id."""
    return row.external_id if row.external_id is not None else f"#{row.id}"
