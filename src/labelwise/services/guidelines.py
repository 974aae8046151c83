"""A project's guidelines: numbered markdown versions, examples linked to real items, and
who has acknowledged which version.

A published version is written once and never updated: this module has no function that
changes one, and publishing is the only way to new text. Every change (publish, example
added or removed) is an audit event in the same transaction.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from pydantic import Field
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from labelwise.clock import now
from labelwise.db.engine import Database, insert_if_missing
from labelwise.db.guideline_models import (
    KINDS,
    NOTE_MAX,
    GuidelineAcknowledgement,
    GuidelineExample,
    GuidelineVersion,
)
from labelwise.db.models import Annotation, Item, Project, User
from labelwise.errors import InvalidInput, NotFound
from labelwise.policies import FieldView
from labelwise.services import audit
from labelwise.spec import AnswerError, ProjectSpec, validate_answers

BODY_MAX = 200_000


@dataclass(frozen=True)
class Version:
    number: int
    note: Annotated[str, Field(description="The one-line changelog of this version.")]
    body: Annotated[str, Field(description="Markdown.")]
    published_by: str | None
    published_at: datetime


@dataclass(frozen=True)
class Example:
    id: int
    item_id: int
    external_id: str | None
    data: Annotated[dict[str, Any], Field(description="The item's data, as imported.")]
    answers: dict[str, Any]
    why: str
    kind: str
    added_in: Annotated[int | None, Field(description="The guidelines version current when added.")]


@dataclass(frozen=True)
class Change:
    """A version published since the reader's last acknowledgement."""

    number: int
    note: str
    published_at: datetime


@dataclass(frozen=True)
class Pending:
    """What a user must still acknowledge: None of it when `current` is None."""

    current: int | None
    acknowledged: int | None  # the last version they acknowledged
    changes: Annotated[list[Change], Field(description="Versions to acknowledge, oldest first.")]
    diff: str  # unified diff from the acknowledged version (or empty text) to the current


# --- publishing -----------------------------------------------------------------------------


def check_note(note: str) -> str:
    """The changelog note: required, one line, not too long."""
    clean = note.strip()
    if not clean:
        raise InvalidInput("note: say in one line what changed in this version")
    if "\n" in clean or "\r" in clean:
        raise InvalidInput("note: must be one line (the changelog entry); got several lines")
    if len(clean) > NOTE_MAX:
        raise InvalidInput(f"note: at most {NOTE_MAX} characters; got {len(clean)}")
    return clean


def check_body(body: str) -> str:
    if not body.strip():
        raise InvalidInput("markdown: the guidelines are empty")
    if len(body) > BODY_MAX:
        raise InvalidInput(f"markdown: at most {BODY_MAX} characters; got {len(body)}")
    return body


def publish(db: Database, project_id: int, markdown: str, note: str, actor_id: int | None) -> int:
    """Publish a new version; its number (1 for the first)."""
    body, clean_note = check_body(markdown), check_note(note)
    with db.write() as session:
        return publish_in(session, project_id, body, clean_note, actor_id)


def publish_in(
    session: Session, project_id: int, body: str, note: str, actor_id: int | None
) -> int:
    """`publish` inside the caller's unit of work (applying a spec publishes with it)."""
    # Lock the project row: concurrent publishes queue here instead of racing for a number.
    session.scalar(select(Project.id).where(Project.id == project_id).with_for_update())
    number = (_latest(session, project_id) or 0) + 1
    version = GuidelineVersion(
        project_id=project_id,
        number=number,
        body=body,
        note=note,
        published_by=actor_id,
        published_at=now(),
    )
    session.add(version)
    session.flush()
    audit.record(
        session,
        project_id=project_id,
        actor_id=actor_id,
        action="guidelines.published",
        target_type="guidelines",
        target_id=number,
        after={"version": number, "note": note, "body": body},
    )
    return number


def _latest(session: Session, project_id: int) -> int | None:
    latest: int | None = session.scalar(
        select(func.max(GuidelineVersion.number)).where(GuidelineVersion.project_id == project_id)
    )
    return latest


def current_body(session: Session, project_id: int) -> str | None:
    return session.scalar(
        select(GuidelineVersion.body)
        .where(GuidelineVersion.project_id == project_id)
        .order_by(GuidelineVersion.number.desc())
        .limit(1)
    )


# --- reading --------------------------------------------------------------------------------


def _versions_query(project_id: int) -> Any:
    return (
        select(GuidelineVersion, User.username)
        .outerjoin(User, User.id == GuidelineVersion.published_by)
        .where(GuidelineVersion.project_id == project_id)
    )


def _version(row: Any) -> Version:
    v, username = row
    return Version(v.number, v.note, v.body, username, v.published_at)


def versions(db: Database, project_id: int) -> list[Version]:
    """Every version, newest first."""
    with db.read() as session:
        rows = session.execute(
            _versions_query(project_id).order_by(GuidelineVersion.number.desc())
        ).all()
    return [_version(row) for row in rows]


def current(db: Database, project_id: int) -> Version | None:
    with db.read() as session:
        row = session.execute(
            _versions_query(project_id).order_by(GuidelineVersion.number.desc()).limit(1)
        ).first()
    return None if row is None else _version(row)


def get(db: Database, project_id: int, number: int | None = None) -> Version:
    """Version `number`, or the current one; NotFound names what is missing."""
    if number is None:
        found = current(db, project_id)
        if found is None:
            raise NotFound("this project has no published guidelines yet")
        return found
    with db.read() as session:
        row = session.execute(
            _versions_query(project_id).where(GuidelineVersion.number == number)
        ).first()
    if row is None:
        raise NotFound(f"guidelines version {number} not found")
    return _version(row)


def diff(db: Database, project_id: int, a: int, b: int) -> str:
    """A unified line diff from version `a` to version `b` ("what changed")."""
    old, new = get(db, project_id, a), get(db, project_id, b)
    return unified(old.body, new.body, f"version {a}", f"version {b}")


def unified(old: str, new: str, old_name: str, new_name: str) -> str:
    lines = difflib.unified_diff(
        old.splitlines(keepends=True), new.splitlines(keepends=True), old_name, new_name
    )
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines)


# --- examples -------------------------------------------------------------------------------


def add_example(
    db: Database,
    project_id: int,
    spec: ProjectSpec,
    external_id: str | None,
    answers: Any,
    why: str,
    kind: str,
    actor_id: int | None,
    *,
    item_id: int | None = None,
) -> int:
    """Link an example (or counterexample) to a real item, by external id or item id."""
    if kind not in KINDS:
        raise InvalidInput(f"kind: expected one of {', '.join(KINDS)}; got {kind!r}")
    if not why.strip():
        raise InvalidInput("why: say why this answer is right (or, for a counterexample, wrong)")
    with db.write() as session:
        item = _item(session, project_id, external_id, item_id)
        try:
            clean = validate_answers(spec, answers, item.data, partial=True)
        except AnswerError as error:
            raise InvalidInput(f"answers.{error}") from None
        if not clean:
            raise InvalidInput("answers: give the answer to at least one question")
        example = GuidelineExample(
            project_id=project_id,
            item_id=item.id,
            answers=clean,
            why=why.strip(),
            kind=kind,
            added_in=_latest(session, project_id),
            added_by=actor_id,
        )
        session.add(example)
        session.flush()
        audit.record(
            session,
            project_id=project_id,
            actor_id=actor_id,
            action="guidelines.example_added",
            target_type="guideline_example",
            target_id=example.id,
            after={"item": item.id, "answers": clean, "why": example.why, "kind": kind},
        )
        return example.id


def _item(session: Session, project_id: int, external_id: str | None, item_id: int | None) -> Item:
    if external_id is not None:
        found = session.scalar(
            select(Item).where(Item.project_id == project_id, Item.external_id == external_id)
        )
        if found is None:
            raise NotFound(f"item {external_id!r} not found in this project")
        return found
    if item_id is None:
        raise InvalidInput("item: give the item's external_id or its item_id")
    found = session.get(Item, item_id)
    if found is None or found.project_id != project_id:
        raise NotFound(f"item {item_id} not found in this project")
    return found


def remove_example(db: Database, project_id: int, example_id: int, actor_id: int | None) -> None:
    with db.write() as session:
        example = session.get(GuidelineExample, example_id)
        if example is None or example.project_id != project_id:
            raise NotFound(f"example {example_id} not found")
        before = {
            "item": example.item_id,
            "answers": example.answers,
            "why": example.why,
            "kind": example.kind,
        }
        session.delete(example)
        audit.record(
            session,
            project_id=project_id,
            actor_id=actor_id,
            action="guidelines.example_removed",
            target_type="guideline_example",
            target_id=example_id,
            before=before,
        )


def examples(db: Database, project_id: int, view: FieldView) -> list[Example]:
    """The examples, their items' data as `view` shows it."""
    with db.read() as session:
        rows = session.execute(
            select(GuidelineExample, Item.external_id, Item.data)
            .join(Item, Item.id == GuidelineExample.item_id)
            .where(GuidelineExample.project_id == project_id)
            .order_by(GuidelineExample.id)
        ).all()
    return [
        Example(e.id, e.item_id, external_id, view.data(data), e.answers, e.why, e.kind, e.added_in)
        for e, external_id, data in rows
    ]


# --- acknowledging --------------------------------------------------------------------------


def acknowledge(db: Database, project_id: int, user_id: int, number: int) -> None:
    """Record that the user read version `number`, which must be the current one; again is
    a no-op."""
    with db.write() as session:
        latest = _latest(session, project_id)
        if latest is None:
            raise NotFound("this project has no published guidelines yet")
        if number != latest:
            raise InvalidInput(
                f"version: only the current version ({latest}) can be acknowledged; got {number}"
            )
        # Two tabs acknowledging at once: the second insert finds the row and does nothing.
        insert_if_missing(
            session,
            GuidelineAcknowledgement,
            project_id=project_id,
            user_id=user_id,
            version=number,
            acknowledged_at=now(),
        )


def pending(db: Database, project_id: int, user_id: int) -> Pending:
    """What changed since the user last acknowledged a version.

    Someone who never acknowledged one owes nothing until they have labeled under an earlier
    version (a newcomer reads the current guidelines beside the item anyway); after that,
    every version since the one they last acknowledged, or since the first they labeled under.
    """
    with db.read() as session:
        latest = _latest(session, project_id)
        acknowledged = session.scalar(
            select(func.max(GuidelineAcknowledgement.version)).where(
                GuidelineAcknowledgement.project_id == project_id,
                GuidelineAcknowledgement.user_id == user_id,
            )
        )
        base = acknowledged
        if base is None:
            base = _labeled_under(session, project_id, user_id)
        if latest is None or base is None or base >= latest:
            return Pending(latest, acknowledged, [], "")
        rows = session.execute(
            select(GuidelineVersion.number, GuidelineVersion.note, GuidelineVersion.published_at)
            .where(GuidelineVersion.project_id == project_id, GuidelineVersion.number > base)
            .order_by(GuidelineVersion.number)
        ).all()
        old = _body(session, project_id, base) if base > 0 else ""
        new = _body(session, project_id, latest)
    name = f"version {base}" if base > 0 else "no guidelines"
    return Pending(
        latest,
        acknowledged,
        [Change(number, note, at) for number, note, at in rows],
        unified(old, new, name, f"version {latest}"),
    )


def _labeled_under(session: Session, project_id: int, user_id: int) -> int | None:
    """The first version the user labeled under (0: before any), None if they never labeled.

    The first, not the latest: a submit just after a publish is recorded under the new
    version although its author was reading the old one, and has still to be told."""
    row = session.execute(
        select(func.count(), func.min(func.coalesce(Annotation.guideline_version, 0))).where(
            Annotation.project_id == project_id, Annotation.user_id == user_id
        )
    ).one()
    return None if row[0] == 0 else int(row[1])


def _body(session: Session, project_id: int, number: int) -> str:
    body: str = session.scalars(
        select(GuidelineVersion.body).where(
            GuidelineVersion.project_id == project_id, GuidelineVersion.number == number
        )
    ).one()
    return body
