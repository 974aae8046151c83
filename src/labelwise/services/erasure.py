"""Hard delete (GDPR erasure) of an item, or of a person's data, with the audit trail intact.

An item's erasure deletes the item and every row holding its content (annotations and their
revisions, reviews, assignments, escalations, comments, gold answers, guideline examples,
check findings: the foreign keys cascade) and its rows in the releases. A person's erasure
deletes their annotations (and what hangs on them), comments, questions, tokens, sessions,
memberships and qualifications, clears the feedback and answers they wrote, takes their
answers out of the releases, and renames the account to a pseudonym (`erased-<id>`) that
cannot log in: the account row stays, since reviews, adjudications and events still name it
by id.

In both, the content of every audit event about what was erased is replaced by a marker
that keeps its digest (`audit_chain.erased`), so `audit verify` still passes; then one event
(`item.erased`, `person.erased`) records who erased what, the counts and the ids of the
redacted events, never the erased content. One write transaction: all or nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import ColumnElement, String, Table, and_, bindparam, delete, func, or_, select
from sqlalchemy import cast as sql_cast
from sqlalchemy import update as sql_update
from sqlalchemy.orm import Session

from labelwise.db.audit_chain import REDACTED_EVENTS, SERVER_CHAIN, chain_of, erased, is_erased
from labelwise.db.audit_models import AuditEvent
from labelwise.db.engine import Database
from labelwise.db.guideline_models import GuidelineAcknowledgement
from labelwise.db.models import (
    Annotation,
    AnnotationRevision,
    ApiToken,
    Assignment,
    BrowserSession,
    CheckFinding,
    Comment,
    Escalation,
    Item,
    LoginFailure,
    Membership,
    Project,
    Qualification,
    Review,
    User,
)
from labelwise.errors import NotFound
from labelwise.services import accounts, audit, dataset_card, release_erasure
from labelwise.services.projects import spec_of
from labelwise.states import AssignmentKind, AssignmentStatus, ItemStatus

PSEUDONYM = "erased-"
ERASED_TEXT = "[erased]"  # what stays of an escalation answer an erased person wrote
UNUSABLE_PASSWORD = "!erased"  # no Argon2 hash: no password matches it
_EVENTS = cast(Table, AuditEvent.__table__)
_E = _EVENTS.c
ID_BATCH = 1000  # ids per IN list, well under SQLite's limit on bound parameters
_HOLDS_SLOT = (AssignmentStatus.ACTIVE, AssignmentStatus.SUBMITTED, AssignmentStatus.REWORK)


@dataclass(frozen=True)
class Erasure:
    """What an erasure did, as its event records it."""

    erased: str  # "item t-1", "person erased-3"
    counts: dict[str, int]
    redacted_events: int
    releases: int


def erase_item(db: Database, slug: str, external_id: str, actor_id: int | None) -> Erasure:
    """Delete item `external_id` of project `slug` and everything that holds its content."""
    return _erase_item(db, slug, Item.external_id == external_id, repr(external_id), actor_id)


def erase_item_by_id(db: Database, slug: str, item_id: int, actor_id: int | None) -> Erasure:
    """`erase_item` for the item with database id `item_id` (the API's item paths use it)."""
    return _erase_item(db, slug, Item.id == item_id, str(item_id), actor_id)


def _erase_item(
    db: Database, slug: str, which: ColumnElement[bool], named: str, actor_id: int | None
) -> Erasure:
    with db.write() as session:
        project = session.scalar(select(Project).where(Project.slug == slug))
        if project is None:
            raise NotFound(f"project {slug!r} not found")
        item = session.scalar(
            select(Item).where(Item.project_id == project.id, which).with_for_update()
        )
        if item is None:
            raise NotFound(f"item {named} not found in project {slug!r}")
        annotations = select(Annotation.id).where(Annotation.item_id == item.id)
        counts = {
            "annotations": _count(session, Annotation, Annotation.item_id == item.id),
            "revisions": _count(
                session, AnnotationRevision, AnnotationRevision.annotation_id.in_(annotations)
            ),
            "reviews": _count(session, Review, Review.item_id == item.id),
            "comments": _count(session, Comment, Comment.item_id == item.id),
            "escalations": _count(session, Escalation, Escalation.item_id == item.id),
        }
        redacted = _redact(session, chain_of(project.id), _about_item(session, project.id, item))
        label = item.external_id if item.external_id is not None else f"#{item.id}"
        what = f"item {label}"
        releases = release_erasure.remove_item(session, item.id, what, actor_id)
        prefix = dataset_card.open_question_prefix(label)
        release_erasure.scrub_cards(session, project.id, lambda line: line.startswith(prefix))
        session.execute(delete(Item).where(Item.id == item.id))  # the rest cascades
        after = {"external_id": item.external_id, "counts": counts, "releases": releases}
        _record(session, project.id, actor_id, "item.erased", ("item", item.id), redacted, after)
    return Erasure(what, counts, len(redacted), releases)


def _about_item(session: Session, project_id: int, item: Item) -> ColumnElement[bool]:
    """The project chain's events about the item: its own, its annotations', its
    escalations', and its guideline examples' (theirs carry the item's id)."""
    examples = _example_events(session, chain_of(project_id), item.id)
    return or_(
        _targets("item", [str(item.id)]),
        _targets(
            "annotation", _as_text(select(Annotation.id).where(Annotation.item_id == item.id))
        ),
        _targets(
            "escalation", _as_text(select(Escalation.id).where(Escalation.item_id == item.id))
        ),
        _E.id.in_(examples),
    )


def _example_events(session: Session, chain: str, item_id: int) -> list[int]:
    """Guideline example events whose before or after names the item (few per project)."""
    rows = session.execute(
        select(_E.id, _E.before, _E.after).where(
            _E.chain == chain, _E.target_type == "guideline_example"
        )
    )
    return [
        event_id
        for event_id, before, after in rows
        if any(isinstance(v, dict) and v.get("item") == item_id for v in (before, after))
    ]


# --- a person ---------------------------------------------------------------------------


def erase_person(db: Database, username: str, actor_id: int | None) -> Erasure:
    """Delete `username`'s annotations, comments, questions, tokens and sessions, clear
    what else they wrote, and rename them to a pseudonym that cannot log in."""
    with db.write() as session:
        user = session.scalar(select(User).where(User.username == username).with_for_update())
        if user is None:
            raise NotFound(f"user {username!r} not found")
        pseudonym = _pseudonym(session, user)
        asked = _open_question_lines(session, user.id)
        counts, annotations = _forget_work(session, user.id)
        redacted = _redact_person(session, user.id, annotations)
        releases = release_erasure.remove_annotator(
            session, username, f"person {pseudonym}", actor_id
        )
        rename = (
            dataset_card.annotator_row_prefix(username),
            dataset_card.annotator_row_prefix(pseudonym),
        )
        release_erasure.scrub_cards(session, None, asked.__contains__, rename)
        counts.update(_forget_account(session, user))
        user.username, user.password_hash = pseudonym, UNUSABLE_PASSWORD
        user.is_active = user.is_admin = False
        after = {"pseudonym": pseudonym, "counts": counts, "releases": releases}
        _record(session, None, actor_id, "person.erased", ("user", user.id), redacted, after)
    accounts.forget_cached_actors()
    return Erasure(f"person {pseudonym}", counts, len(redacted), releases)


def _open_question_lines(session: Session, user_id: int) -> set[str]:
    """The lines a dataset card would show for the questions they asked."""
    rows = session.execute(
        select(Item.external_id, Item.id, Escalation.question)
        .join(Item, Item.id == Escalation.item_id)
        .where(Escalation.user_id == user_id)
    )
    return {
        dataset_card.open_question_line(external or f"#{item_id}", question)
        for external, item_id, question in rows
    }


def _pseudonym(session: Session, user: User) -> str:
    """`erased-<id>`; a suffix in the unlikely case someone is already called that."""
    name, n = f"{PSEUDONYM}{user.id}", 1
    while session.scalar(select(User.id).where(User.username == name, User.id != user.id)):
        name, n = f"{PSEUDONYM}{user.id}-{n}", n + 1
    return name


def _forget_work(session: Session, user_id: int) -> tuple[dict[str, int], dict[int, list[int]]]:
    """Delete their annotations and what hangs on them, giving back the slots they held and
    reopening the items left short of their overlap; the counts, and the ids of the deleted
    annotations by project. The ids are the rows the DELETE removed: an annotation another
    server commits meanwhile is either among them, its events visible to the redaction that
    follows, or left whole."""
    mine = Annotation.user_id == user_id
    item_ids = sorted(
        set(session.scalars(select(Annotation.item_id).where(mine)))
        | set(session.scalars(select(Assignment.item_id).where(Assignment.user_id == user_id)))
    )
    items = session.scalars(
        select(Item).where(Item.id.in_(item_ids)).order_by(Item.id).with_for_update()
    ).all()
    held = dict(
        session.execute(
            select(Assignment.item_id, func.count())
            .where(
                Assignment.user_id == user_id,
                Assignment.kind == AssignmentKind.ANNOTATE,
                Assignment.status.in_(_HOLDS_SLOT),
            )
            .group_by(Assignment.item_id)
        ).all()
    )
    annotations = select(Annotation.id).where(mine)
    counts = {
        "revisions": _count(
            session, AnnotationRevision, AnnotationRevision.annotation_id.in_(annotations)
        ),
        "comments": _count(session, Comment, Comment.user_id == user_id),
        "escalations": _count(session, Escalation, Escalation.user_id == user_id),
    }
    session.execute(delete(Assignment).where(Assignment.user_id == user_id))
    deleted: dict[int, list[int]] = {}
    # Revisions, the reviews of them and their review assignments cascade.
    for annotation_id, project_id in session.execute(
        delete(Annotation).where(mine).returning(Annotation.id, Annotation.project_id)
    ):
        deleted.setdefault(project_id, []).append(annotation_id)
    counts["annotations"] = sum(len(ids) for ids in deleted.values())
    session.execute(delete(Comment).where(Comment.user_id == user_id))
    session.execute(delete(Escalation).where(Escalation.user_id == user_id))
    session.execute(sql_update(Review).where(Review.reviewer_id == user_id).values(feedback=None))
    session.execute(
        sql_update(Escalation).where(Escalation.answered_by == user_id).values(answer=ERASED_TEXT)
    )
    session.execute(delete(CheckFinding).where(CheckFinding.user_id == user_id))
    for item in items:
        _reopen(session, item, held.get(item.id, 0))
    return counts, deleted


def _reopen(session: Session, item: Item, slots: int) -> None:
    """Give back the slots the erased work held; an item it finished goes back to work
    when fewer annotations than its overlap remain (an erasure takes the work back)."""
    item.slots_used = max(0, item.slots_used - slots)
    item.on_hold = bool(
        session.scalar(
            select(func.count())
            .select_from(Escalation)
            .where(Escalation.item_id == item.id, Escalation.answered_at.is_(None))
        )
    )
    left = _count(session, Annotation, Annotation.item_id == item.id)
    overlap = spec_of(session.get_one(Project, item.project_id)).workflow.overlap
    if item.status != ItemStatus.NEW and left < overlap and item.final_answers is None:
        item.status = ItemStatus.IN_PROGRESS if left or item.slots_used else ItemStatus.NEW


def _forget_account(session: Session, user: User) -> dict[str, int]:
    counts = {
        "tokens": _count(session, ApiToken, ApiToken.user_id == user.id),
        "sessions": _count(session, BrowserSession, BrowserSession.user_id == user.id),
        "memberships": _count(session, Membership, Membership.user_id == user.id),
    }
    for model in (ApiToken, BrowserSession, Membership, Qualification, GuidelineAcknowledgement):
        session.execute(delete(model).where(model.user_id == user.id))
    session.execute(delete(LoginFailure).where(LoginFailure.key == user.username))
    return counts


def _redact_person(session: Session, user_id: int, annotations: dict[int, list[int]]) -> list[int]:
    """The events naming them (account, tokens, memberships), holding what they wrote, and
    about their deleted `annotations` (by project)."""
    tokens = _as_text(select(ApiToken.id).where(ApiToken.user_id == user_id))
    redacted = _redact(
        session,
        SERVER_CHAIN,
        or_(_targets("user", [str(user_id)]), _targets("token", tokens)),
    )
    about_them = or_(
        _targets("user", [str(user_id)]),
        and_(_E.actor_id == user_id, _E.action.in_(_WRITTEN_BY_THEM)),
    )
    for project_id in session.scalars(select(Project.id).order_by(Project.id)):
        chain = chain_of(project_id)
        redacted += _redact(session, chain, about_them)
        ids = [str(i) for i in annotations.get(project_id, [])]
        for start in range(0, len(ids), ID_BATCH):
            batch = ids[start : start + ID_BATCH]
            redacted += _redact(session, chain, _targets("annotation", batch))
    return redacted


# The events whose content is text the actor wrote (or the work they did on an item).
_WRITTEN_BY_THEM = (
    "comment.added",
    "item.escalated",
    "item.skipped",
    "escalation.answered",
    "review.verdict",
)


# --- the audit trail --------------------------------------------------------------------


def _targets(target_type: str, ids: Any) -> ColumnElement[bool]:
    return and_(_E.target_type == target_type, _E.target_id.in_(ids))


def _as_text(query: Any) -> Any:
    """Ids as the audit trail keeps them (target_id is text)."""
    return select(sql_cast(query.subquery().c.id, String))


def _redact(session: Session, chain: str, about: ColumnElement[bool]) -> list[int]:
    """Replace the content of the chain's events `about` the erased by markers; their ids.
    Erasure events are never redacted: they account for the markers."""
    rows = session.execute(
        select(_E.id, _E.before, _E.after)
        .where(_E.chain == chain, about, _E.action.not_in(audit.ERASURE_ACTIONS))
        .order_by(_E.seq)
    ).all()
    changes = [
        {"event_id": event_id, "new_before": _marked(before), "new_after": _marked(after)}
        for event_id, before, after in rows
        if _has_content(before) or _has_content(after)
    ]
    if changes:
        session.execute(
            sql_update(_EVENTS)
            .where(_E.id == bindparam("event_id"))
            .values(before=bindparam("new_before"), after=bindparam("new_after")),
            changes,
        )
    return [change["event_id"] for change in changes]


def _has_content(value: Any) -> bool:
    return value is not None and not is_erased(value)


def _marked(value: Any) -> Any:
    return erased(value) if _has_content(value) else value


def _record(
    session: Session,
    project_id: int | None,
    actor_id: int | None,
    action: str,
    target: tuple[str, int],
    redacted: Iterable[int],
    after: dict[str, Any],
) -> None:
    audit.record(
        session,
        project_id=project_id,
        actor_id=actor_id,
        action=action,
        target_type=target[0],
        target_id=target[1],
        after={**after, REDACTED_EVENTS: sorted(redacted)},
    )


def _count(session: Session, model: Any, where: ColumnElement[bool]) -> int:
    return int(session.scalar(select(func.count()).select_from(model).where(where)) or 0)
