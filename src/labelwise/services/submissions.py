"""Submitting work: annotations (with revisions), skips, review verdicts, adjudications.

Each call is one unit of work that locks the assignment, then the item, in that order
everywhere, so concurrent submits of one item queue instead of deadlocking.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from labelwise.db.engine import Database
from labelwise.db.models import (
    Annotation,
    AnnotationRevision,
    Assignment,
    Item,
    Membership,
    Project,
    Review,
)
from labelwise.errors import Conflict, InvalidInput, NotFound
from labelwise.policies import Role
from labelwise.services import audit, gold
from labelwise.services.accounts import now
from labelwise.services.guideline_versions import version_in_force
from labelwise.services.item_flow import on_annotation_complete
from labelwise.services.projects import spec_of
from labelwise.services.routing import release_slot
from labelwise.spec import AnswerError, ProjectSpec, validate_answers

VERDICTS = ("accept", "reject", "correct")


@dataclass(frozen=True)
class Submitted:
    assignment_id: int
    annotation_id: int | None
    revision: int | None
    item_id: int
    item_status: str


def load_assignment(session: Session, assignment_id: int, user_id: int) -> Assignment:
    """The caller's own assignment, locked; anyone else's is reported as missing."""
    assignment = session.scalar(
        select(Assignment).where(Assignment.id == assignment_id).with_for_update()
    )
    if assignment is None or assignment.user_id != user_id:
        raise NotFound(f"assignment {assignment_id} not found")
    return assignment


@dataclass(frozen=True)
class AssignmentAccess:
    kind: str
    holder: int
    role: Role | None  # the holder's role in the assignment's project now


def assignment_access(db: Database, assignment_id: int) -> AssignmentAccess | None:
    """For authorization before the unit of work, in one statement: whose, what, which role."""
    with db.read() as session:
        row = session.execute(
            select(Assignment.kind, Assignment.user_id, Membership.role)
            .outerjoin(
                Membership,
                (Membership.project_id == Assignment.project_id)
                & (Membership.user_id == Assignment.user_id),
            )
            .where(Assignment.id == assignment_id)
        ).first()
    if row is None:
        return None
    return AssignmentAccess(row[0], row[1], Role(row[2]) if row[2] else None)


def submit(
    db: Database, assignment_id: int, user_id: int, answers: Any, time_ms: int | None
) -> Submitted:
    """Answer an annotate or adjudicate assignment. A retry returns the first result."""
    with db.write() as session:
        assignment = load_assignment(session, assignment_id, user_id)
        if assignment.kind == "review":
            raise InvalidInput("this is a review assignment: send a verdict instead")
        item = _locked_item(session, assignment.item_id)
        spec = _spec(session, assignment.project_id)
        if assignment.status == "submitted":
            return _result(session, assignment, item)
        clean = _validated(spec, answers, item)
        if assignment.kind == "adjudicate":
            _adjudicate(session, assignment, item, clean)
        else:
            _annotate(session, spec, assignment, item, clean, time_ms)
        assignment.status = "submitted"
        assignment.finished_at = now()
        return _result(session, assignment, item)


def _record(
    session: Session,
    project_id: int,
    actor_id: int,
    action: str,
    target: tuple[str, int],
    before: Any = None,
    after: Any = None,
) -> None:
    audit.record(
        session,
        project_id=project_id,
        actor_id=actor_id,
        action=action,
        target_type=target[0],
        target_id=target[1],
        before=before,
        after=after,
    )


def _annotate(
    session: Session,
    spec: ProjectSpec,
    assignment: Assignment,
    item: Item,
    answers: dict[str, Any],
    time_ms: int | None,
) -> None:
    if assignment.status == "rework":
        annotation = session.get_one(Annotation, assignment.annotation_id)
        _revise(session, annotation, answers, time_ms)
        on_annotation_complete(session, spec, item)
        return
    if assignment.status in ("skipped", "escalated"):
        raise Conflict(f"this item was {assignment.status}; ask for the next item")
    if assignment.kind == "gold":
        _new_annotation(session, assignment, item, answers, time_ms)
        gold.score(session, spec, item.id, assignment.user_id, answers)
        return
    if assignment.status == "expired":
        _retake_slot(spec, item)
    _new_annotation(session, assignment, item, answers, time_ms)
    on_annotation_complete(session, spec, item)


def _new_annotation(
    session: Session,
    assignment: Assignment,
    item: Item,
    answers: dict[str, Any],
    time_ms: int | None,
) -> None:
    annotation = Annotation(
        project_id=assignment.project_id,
        item_id=item.id,
        user_id=assignment.user_id,
        answers=answers,
        time_ms=time_ms,
        guideline_version=version_in_force(assignment.project_id),
    )
    session.add(annotation)
    session.flush()
    session.add(
        AnnotationRevision(
            annotation_id=annotation.id,
            revision=1,
            answers=answers,
            time_ms=time_ms,
            guideline_version=version_in_force(assignment.project_id),
        )
    )
    assignment.annotation_id = annotation.id
    _record(
        session,
        annotation.project_id,
        annotation.user_id,
        "annotation.created",
        ("annotation", annotation.id),
        after={"item": item.id, "answers": answers, "time_ms": time_ms},
    )


def _retake_slot(spec: ProjectSpec, item: Item) -> None:
    """A late submit still counts if the slot its lease held is free."""
    if item.status not in ("new", "in_progress") or item.slots_used >= spec.workflow.overlap:
        raise Conflict(
            "your lease on this item ran out and the item went to another annotator; "
            "your answer was not saved — ask for the next item"
        )
    item.slots_used += 1
    item.status = "in_progress"


def _revise(
    session: Session, annotation: Annotation, answers: dict[str, Any], time_ms: int | None
) -> None:
    _record(
        session,
        annotation.project_id,
        annotation.user_id,
        "annotation.revised",
        ("annotation", annotation.id),
        before={"revision": annotation.revision, "answers": annotation.answers},
        after={"revision": annotation.revision + 1, "answers": answers},
    )
    annotation.revision += 1
    annotation.answers = answers
    annotation.time_ms = time_ms
    annotation.updated_at = now()
    annotation.review_status = "submitted"
    annotation.guideline_version = version_in_force(annotation.project_id)
    session.add(
        AnnotationRevision(
            annotation_id=annotation.id,
            revision=annotation.revision,
            answers=answers,
            time_ms=time_ms,
            guideline_version=version_in_force(annotation.project_id),
        )
    )


def revise(
    db: Database, annotation_id: int, user_id: int, answers: Any, time_ms: int | None
) -> Submitted:
    """An annotator edits their own annotation: a new revision; the old ones stay."""
    with db.write() as session:
        annotation = session.scalar(
            select(Annotation).where(Annotation.id == annotation_id).with_for_update()
        )
        if annotation is None or annotation.user_id != user_id:
            raise NotFound(f"annotation {annotation_id} not found")
        item = _locked_item(session, annotation.item_id)
        spec = _spec(session, annotation.project_id)
        _revise(session, annotation, _validated(spec, answers, item), time_ms)
        assignment = session.scalar(
            select(Assignment).where(
                Assignment.annotation_id == annotation.id, Assignment.kind == "annotate"
            )
        )
        assert assignment is not None
        if assignment.status == "rework":
            assignment.status = "submitted"
            assignment.finished_at = now()
        if item.status == "in_review":
            on_annotation_complete(session, spec, item)
        return _result(session, assignment, item)


def skip(db: Database, assignment_id: int, user_id: int, reason: str) -> None:
    """Give an item back with a reason; the skipper is not offered it again."""
    if not reason.strip():
        raise InvalidInput("reason: say why you skip this item")
    with db.write() as session:
        assignment = load_assignment(session, assignment_id, user_id)
        if assignment.status not in ("active", "expired") or assignment.kind == "review":
            raise Conflict(f"this assignment is {assignment.status}; it cannot be skipped")
        _locked_item(session, assignment.item_id)
        if assignment.status == "active" and assignment.kind == "annotate":
            release_slot(session, assignment.item_id)
        assignment.status = "skipped"
        assignment.skip_reason = reason.strip()
        assignment.finished_at = now()
        _record(
            session,
            assignment.project_id,
            user_id,
            "item.skipped",
            ("item", assignment.item_id),
            after={"reason": assignment.skip_reason},
        )


def verdict(
    db: Database,
    assignment_id: int,
    user_id: int,
    decision: str,
    feedback: str | None,
    answers: Any,
) -> Submitted:
    """A reviewer's accept, reject (with feedback, back to the annotator) or correct."""
    if decision not in VERDICTS:
        raise InvalidInput(f"verdict: expected one of {', '.join(VERDICTS)}; got {decision!r}")
    if decision == "reject" and not (feedback or "").strip():
        raise InvalidInput("feedback: required when rejecting, so the annotator knows what to fix")
    with db.write() as session:
        assignment = load_assignment(session, assignment_id, user_id)
        if assignment.kind != "review":
            raise InvalidInput("this is not a review assignment")
        item = _locked_item(session, assignment.item_id)
        if assignment.status == "submitted":
            return _result(session, assignment, item)
        annotation = session.get_one(Annotation, assignment.annotation_id)
        if annotation.review_status != "submitted" or item.status != "in_review":
            raise Conflict("this annotation was reviewed by someone else meanwhile")
        spec = _spec(session, assignment.project_id)
        corrected = _validated(spec, answers, item) if decision == "correct" else None
        session.add(
            Review(
                project_id=assignment.project_id,
                item_id=item.id,
                annotation_id=annotation.id,
                revision=annotation.revision,
                reviewer_id=user_id,
                verdict=decision,
                feedback=(feedback or "").strip() or None,
                corrected_answers=corrected,
            )
        )
        annotation.review_status = {"accept": "accepted", "reject": "rejected"}.get(
            decision, "corrected"
        )
        if decision == "reject":
            session.execute(
                update(Assignment)
                .where(Assignment.annotation_id == annotation.id, Assignment.kind == "annotate")
                .values(status="rework")
            )
        assignment.status = "submitted"
        assignment.finished_at = now()
        session.flush()
        on_annotation_complete(session, spec, item)
        _record(
            session,
            assignment.project_id,
            user_id,
            "review.verdict",
            ("annotation", annotation.id),
            after={"verdict": decision, "feedback": feedback, "corrected_answers": corrected},
        )
        return _result(session, assignment, item)


def _adjudicate(
    session: Session, assignment: Assignment, item: Item, answers: dict[str, Any]
) -> None:
    if item.status != "in_adjudication":
        raise Conflict("this item was settled by someone else meanwhile")
    _record(
        session,
        item.project_id,
        assignment.user_id,
        "item.adjudicated",
        ("item", item.id),
        before={"final_answers": item.final_answers},
        after={"final_answers": answers},
    )
    item.final_answers = answers
    item.final_by = assignment.user_id
    item.status = "done"


def _locked_item(session: Session, item_id: int) -> Item:
    return session.scalars(select(Item).where(Item.id == item_id).with_for_update()).one()


def _spec(session: Session, project_id: int) -> ProjectSpec:
    return spec_of(session.get_one(Project, project_id))


def _validated(spec: ProjectSpec, answers: Any, item: Item) -> dict[str, Any]:
    try:
        return validate_answers(spec, answers, item.data)
    except AnswerError as error:
        raise InvalidInput(f"answers.{error}") from None


def _result(session: Session, assignment: Assignment, item: Item) -> Submitted:
    revision = None
    if assignment.annotation_id is not None and assignment.kind == "annotate":
        revision = session.get_one(Annotation, assignment.annotation_id).revision
    return Submitted(
        assignment_id=assignment.id,
        annotation_id=assignment.annotation_id,
        revision=revision,
        item_id=item.id,
        item_status=item.status,
    )
