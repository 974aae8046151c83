"""Submitting work: annotations (with revisions), skips, review verdicts, adjudications.

Each call is one unit of work that locks the assignment, then the item, in that order
everywhere, so concurrent submits of one item queue instead of deadlocking. The caller's
permit is checked on the locked assignment, in the same unit of work.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from labelwise.canonical import same_json
from labelwise.clock import now
from labelwise.db.audit_chain import state_hash
from labelwise.db.engine import Database
from labelwise.db.labeling import (
    InForce,
    LabelingStore,
    LockedAnnotation,
    LockedAssignment,
    LockedItem,
    PredictionShown,
    Prelabel,
    store,
)
from labelwise.db.models import Annotation, Assignment, Review
from labelwise.errors import Conflict, InvalidInput, NotFound
from labelwise.policies import HolderPermit, Role
from labelwise.services import audit, gold, projects
from labelwise.services.workflow.item_flow import as_if_real, next_status
from labelwise.services.workflow.prelabels import (
    Judged,
    Suggestion,
    judge,
    source_of,
    suggestion_of,
)
from labelwise.spec import AnswerError, ProjectSpec, validate_answers
from labelwise.states import (
    REVIEWED_AS,
    AnswerSource,
    AssignmentKind,
    AssignmentStatus,
    ItemStatus,
    ReviewStatus,
    Verdict,
    move,
)

_A, _K = AssignmentStatus, AssignmentKind


@dataclass(frozen=True)
class Submitted:
    assignment_id: int
    annotation_id: int | None
    revision: int | None
    item_id: int
    item_status: str
    # What the labeler made of the model's suggestion shown (prelabels: show); None: none shown.
    prelabel: str | None = None
    # The model's prediction, shown only now that the labeler has answered (after_submit).
    suggestion: Suggestion | None = None


@dataclass
class _Item:
    """A locked item as the unit of work changes it: its status moves only as the workflow
    allows (`states.move`), and is saved once at the end."""

    id: int
    project_id: int
    status: ItemStatus
    slots_used: int
    data: Any
    final_answers: Any
    spec: ProjectSpec

    @classmethod
    def of(cls, row: LockedItem) -> _Item:
        spec = projects.stored_spec(row.spec)
        status = ItemStatus(row.status)
        return cls(
            row.id, row.project_id, status, row.slots_used, row.data, row.final_answers, spec
        )

    def become(self, status: ItemStatus) -> None:
        self.status = move(self.status, status)

    def save(self, labeling: LabelingStore, before: tuple[str, int]) -> None:
        if (self.status, self.slots_used) != before:
            labeling.save_item(self.id, self.status, self.slots_used)


def _lock_assignment(
    labeling: LabelingStore, assignment_id: int, permit: HolderPermit
) -> LockedAssignment:
    """The caller's own assignment, locked, once the permit lets them act on it."""
    return _checked(labeling.lock_assignment(assignment_id), permit, assignment_id)


def _checked(
    row: LockedAssignment | None, permit: HolderPermit, assignment_id: int
) -> LockedAssignment:
    if row is None:
        raise _missing(assignment_id)
    role = Role(row.role) if row.role else None
    permit.check(assignment_id, row.kind, row.user_id, role)
    return row


def _missing(assignment_id: int) -> NotFound:
    return NotFound(f"assignment {assignment_id} not found")


def load_assignment(session: Session, assignment_id: int, permit: HolderPermit) -> Assignment:
    """`_lock_assignment`, as the model for the less travelled paths."""
    _lock_assignment(store(session), assignment_id, permit)
    return session.get_one(Assignment, assignment_id)


def submit(
    db: Database,
    assignment_id: int,
    permit: HolderPermit,
    answers: Any,
    time_ms: int | None,
    source: AnswerSource = AnswerSource.HUMAN,
) -> Submitted:
    """Answer an annotate or adjudicate assignment. A retry with the same answers returns
    the first result; one with other answers is a conflict (edit the annotation instead).
    `source`: who wrote the answers, as the audit trail records it."""
    with db.write() as session:
        labeling = store(session)
        locked = labeling.lock_for_submit(assignment_id)
        if locked is None:
            raise _missing(assignment_id)
        assignment = _checked(locked.assignment, permit, assignment_id)
        item = _Item.of(locked.item)
        if assignment.kind == _K.REVIEW:
            raise InvalidInput("this is a review assignment: send a verdict instead")
        clean = _validated(item.spec, answers, item.data)
        latest = _Offer.of(item.spec, locked.prediction)
        if assignment.status == _A.SUBMITTED:
            return _retry(labeling, assignment, item, clean, latest)
        before = (item.status, item.slots_used)
        annotation_id: int | None = None
        revision: int | None = None
        offer = _Offer(item.spec.workflow.prelabels, None)
        judged: Judged | None = None
        if assignment.kind == _K.ADJUDICATE:
            event = _adjudicate(labeling, assignment, item, clean)
        else:
            if assignment.status != _A.REWORK:  # a first answer: the suggestion counts
                offer = latest
                judged = None if offer.shown is None else judge(item.spec, offer.shown, clean)
            answer = _Answer(clean, time_ms, _source(source, clean, offer))
            annotation_id, revision, event = _annotate(session, assignment, item, answer, judged)
        item.save(labeling, before)
        audit.record(session, **event, last=True)  # last: the head is locked until commit
        return Submitted(
            assignment.id,
            annotation_id or assignment.annotation_id,
            revision,
            item.id,
            _shown(item, assignment.kind, assignment.user_id),
            prelabel=None if judged is None else judged.outcome,
            suggestion=offer.after_submit,
        )


@dataclass(frozen=True)
class _Offer:
    """The item's latest prediction at submit, and how the project shows it (prelabels). Under
    `show` it is the suggestion the labeler was shown with the item (unless a re-import
    replaced it in between)."""

    mode: str
    suggestion: Suggestion | None

    @classmethod
    def of(cls, spec: ProjectSpec, latest: PredictionShown | None) -> _Offer:
        mode = spec.workflow.prelabels
        return cls(mode, None if mode == "hide" else suggestion_of(latest))

    @property
    def shown(self) -> Suggestion | None:
        return self.suggestion if self.mode == "show" else None

    @property
    def after_submit(self) -> Suggestion | None:
        return self.suggestion if self.mode == "after_submit" else None


def _source(given: AnswerSource, answers: dict[str, Any], offer: _Offer) -> AnswerSource:
    """The caller's word, unless the labeler sent the suggestion shown back unchanged."""
    return AnswerSource.MODEL if source_of(answers, offer.shown) == AnswerSource.MODEL else given


def _shown(item: _Item, kind: str, user_id: int) -> str:
    """The item's status as its annotator is told it: a honeypot's is one a real item of
    the project would have, since a gold item never moves through the workflow."""
    if kind == _K.GOLD:
        return as_if_real(item.spec, item.project_id, item.id, user_id)
    return item.status


def _retry(
    labeling: LabelingStore,
    assignment: LockedAssignment,
    item: _Item,
    answers: dict[str, Any],
    latest: _Offer,
) -> Submitted:
    """A repeated submit: the first submit's annotation and revision, the item as it is now,
    if it sends what was saved. Other answers were not saved: the client must not think so."""
    annotation_id = assignment.annotation_id
    if assignment.kind == _K.ADJUDICATE:
        if not same_json(item.final_answers, answers):
            raise Conflict(
                f"assignment {assignment.id} was already submitted with other final answers; "
                "they were not changed"
            )
        return Submitted(assignment.id, annotation_id, None, item.id, item.status)
    assert annotation_id is not None, "a submitted annotate assignment has its annotation"
    if not same_json(labeling.answers_of(annotation_id), answers):
        raise Conflict(
            f"assignment {assignment.id} was already submitted as annotation {annotation_id} "
            f"with other answers; to change them, PUT /api/v1/annotations/{annotation_id}"
        )
    revision = labeling.revision_of(annotation_id)
    status = _shown(item, assignment.kind, assignment.user_id)
    late = latest.after_submit
    return Submitted(assignment.id, annotation_id, revision, item.id, status, suggestion=late)


def _event(
    project_id: int,
    actor_id: int,
    action: str,
    target: tuple[str, int],
    before: Any = None,
    after: Any = None,
) -> dict[str, Any]:
    """An audit event to record as the last step of the unit of work."""
    return {
        "project_id": project_id,
        "actor_id": actor_id,
        "action": action,
        "target_type": target[0],
        "target_id": target[1],
        "before": before,
        "after": after,
    }


@dataclass(frozen=True)
class _Answer:
    """Validated answers as they are written, and who wrote them."""

    answers: dict[str, Any]
    time_ms: int | None
    source: AnswerSource

    def audited(
        self, item_id: int, user_id: int, revision: int, guideline_version: int | None
    ) -> dict[str, Any]:
        """What an annotation event records of the row it wrote: the row's state hash
        (`audit_chain.state_hash`), from values in hand, so no read is added."""
        row = {
            "answers": self.answers,
            "guideline_version": guideline_version,
            "item_id": item_id,
            "revision": revision,
            "time_ms": self.time_ms,
            "user_id": user_id,
        }
        return {
            "revision": revision,
            "answers": self.answers,
            "guideline_version": guideline_version,
            "source": self.source,
            "state_hash": state_hash(row),
        }


def _annotate(
    session: Session,
    assignment: LockedAssignment,
    item: _Item,
    answer: _Answer,
    judged: Judged | None,
) -> tuple[int, int, dict[str, Any]]:
    """Save the answer on the locked item: the annotation's id, its revision, the event.
    A first answer records what it made of the suggestion shown (`judged`)."""
    labeling = store(session)
    answers, time_ms = answer.answers, answer.time_ms
    if assignment.status == _A.REWORK:
        annotation = labeling.lock_annotation(assignment.annotation_id or 0)
        assert annotation is not None, "rework has its annotation"
        written = labeling.revise(annotation, answers, time_ms, now())
        event = _revised(annotation, answer, written)
        _finish(labeling, assignment)
        item.become(next_status(session, item.spec, item))
        return annotation.id, written.revision, event
    if assignment.status in (_A.SKIPPED, _A.ESCALATED):
        raise Conflict(f"this item was {assignment.status}; ask for the next item")
    if assignment.status == _A.EXPIRED and assignment.kind == _K.ANNOTATE:
        _retake_slot(item)
    move(assignment.status, _A.SUBMITTED)
    annotations = labeling.new_annotation(
        assignment.id,
        item.project_id,
        item.id,
        assignment.user_id,
        answers,
        time_ms,
        now(),
        _prelabel(judged),
    )
    annotation_id, guideline_version = annotations[-1].id, annotations[-1].guideline_version
    if assignment.kind == _K.GOLD:
        gold.score(session, item.spec, item.id, assignment.user_id, answers)
    else:
        item.become(next_status(session, item.spec, item, annotations))
    event = _event(
        item.project_id,
        assignment.user_id,
        "annotation.created",
        ("annotation", annotation_id),
        after={
            "item": item.id,
            "time_ms": time_ms,
            **answer.audited(item.id, assignment.user_id, 1, guideline_version),
            **({} if judged is None else {"prelabel": _audited(judged)}),
        },
    )
    return annotation_id, 1, event


def _prelabel(judged: Judged | None) -> Prelabel:
    if judged is None:
        return Prelabel(None, None, None)
    return Prelabel(judged.model, judged.outcome, judged.questions)


def _audited(judged: Judged) -> dict[str, str]:
    return {"model": judged.model, "outcome": judged.outcome}


def _revised(annotation: LockedAnnotation, answer: _Answer, written: InForce) -> dict[str, Any]:
    return _event(
        annotation.project_id,
        annotation.user_id,
        "annotation.revised",
        ("annotation", annotation.id),
        before={"revision": annotation.revision, "answers": annotation.answers},
        after=answer.audited(
            annotation.item_id, annotation.user_id, written.revision, written.guideline_version
        ),
    )


def _finish(labeling: LabelingStore, assignment: LockedAssignment) -> None:
    move(assignment.status, _A.SUBMITTED)
    labeling.finish(assignment.id, now())


def _retake_slot(item: _Item) -> None:
    """A late submit still counts if the slot its lease held is free."""
    open_item = item.status in (ItemStatus.NEW, ItemStatus.IN_PROGRESS)
    if not open_item or item.slots_used >= item.spec.workflow.overlap:
        raise Conflict(
            "your lease on this item ran out and the item went to another annotator; "
            "your answer was not saved — ask for the next item"
        )
    item.slots_used += 1
    item.become(ItemStatus.IN_PROGRESS)


def revise(
    db: Database,
    annotation_id: int,
    user_id: int,
    answers: Any,
    time_ms: int | None,
    source: AnswerSource = AnswerSource.HUMAN,
) -> Submitted:
    """An annotator edits their own annotation: a new revision; the old ones stay."""
    with db.write() as session:
        labeling = store(session)
        annotation = labeling.lock_annotation(annotation_id)
        if annotation is None or annotation.user_id != user_id:
            raise NotFound(f"annotation {annotation_id} not found")
        item = _Item.of(labeling.lock_item(annotation.item_id))
        before = (item.status, item.slots_used)
        clean = _validated(item.spec, answers, item.data)
        answer = _Answer(clean, time_ms, source)
        written = labeling.revise(annotation, clean, time_ms, now())
        assignment = labeling.rework_of(annotation.id)
        if assignment.status == _A.REWORK:
            labeling.finish(assignment.id, now())
        if item.status == ItemStatus.IN_REVIEW:
            item.become(next_status(session, item.spec, item))
        item.save(labeling, before)
        audit.record(session, **_revised(annotation, answer, written))
        status = _shown(item, assignment.kind, user_id)
        return Submitted(assignment.id, annotation.id, written.revision, item.id, status)


def skip(db: Database, assignment_id: int, permit: HolderPermit, reason: str) -> None:
    """Give an item back with a reason; the skipper is not offered it again."""
    if not reason.strip():
        raise InvalidInput("reason: say why you skip this item")
    with db.write() as session:
        labeling = store(session)
        assignment = load_assignment(session, assignment_id, permit)
        if assignment.status not in (_A.ACTIVE, _A.EXPIRED) or assignment.kind == _K.REVIEW:
            raise Conflict(f"this assignment is {assignment.status}; it cannot be skipped")
        labeling.lock_item(assignment.item_id)
        if assignment.status == _A.ACTIVE and assignment.kind == _K.ANNOTATE:
            labeling.release_slots([assignment.item_id])
        assignment.status = move(assignment.status, _A.SKIPPED)
        assignment.skip_reason = reason.strip()
        assignment.finished_at = now()
        event = _event(
            assignment.project_id,
            permit.actor.user_id,
            "item.skipped",
            ("item", assignment.item_id),
            after={"reason": assignment.skip_reason},
        )
        audit.record(session, **event)


def verdict(
    db: Database,
    assignment_id: int,
    permit: HolderPermit,
    decision: str,
    feedback: str | None,
    answers: Any,
) -> Submitted:
    """A reviewer's accept, reject (with feedback, back to the annotator) or correct."""
    if decision not in tuple(Verdict):
        choices = ", ".join(Verdict)
        raise InvalidInput(f"verdict: expected one of {choices}; got {decision!r}")
    if decision == Verdict.REJECT and not (feedback or "").strip():
        raise InvalidInput("feedback: required when rejecting, so the annotator knows what to fix")
    with db.write() as session:
        labeling = store(session)
        assignment = _lock_assignment(labeling, assignment_id, permit)
        if assignment.kind != _K.REVIEW:
            raise InvalidInput("this is not a review assignment")
        item = _Item.of(labeling.lock_item(assignment.item_id))
        if assignment.status == _A.SUBMITTED:
            return Submitted(assignment.id, assignment.annotation_id, None, item.id, item.status)
        annotation = session.get_one(Annotation, assignment.annotation_id)
        if (
            annotation.review_status != ReviewStatus.SUBMITTED
            or item.status != ItemStatus.IN_REVIEW
        ):
            raise Conflict("this annotation was reviewed by someone else meanwhile")
        correct = decision == Verdict.CORRECT
        corrected = _validated(item.spec, answers, item.data) if correct else None
        session.add(
            Review(
                project_id=assignment.project_id,
                item_id=item.id,
                annotation_id=annotation.id,
                revision=annotation.revision,
                reviewer_id=permit.actor.user_id,
                verdict=decision,
                feedback=(feedback or "").strip() or None,
                corrected_answers=corrected,
            )
        )
        annotation.review_status = move(annotation.review_status, REVIEWED_AS[Verdict(decision)])
        if decision == Verdict.REJECT:
            session.execute(
                update(Assignment)
                .where(Assignment.annotation_id == annotation.id, Assignment.kind == _K.ANNOTATE)
                .values(status=_A.REWORK)
            )
        session.flush()
        before = (item.status, item.slots_used)
        item.become(next_status(session, item.spec, item))
        item.save(labeling, before)
        _finish(labeling, assignment)
        event = _event(
            assignment.project_id,
            permit.actor.user_id,
            "review.verdict",
            ("annotation", annotation.id),
            after={"verdict": decision, "feedback": feedback, "corrected_answers": corrected},
        )
        audit.record(session, **event)
        return Submitted(assignment.id, annotation.id, None, item.id, item.status)


def _adjudicate(
    labeling: LabelingStore, assignment: LockedAssignment, item: _Item, answers: dict[str, Any]
) -> dict[str, Any]:
    if item.status != ItemStatus.IN_ADJUDICATION:
        raise Conflict("this item was settled by someone else meanwhile")
    labeling.settle_item(item.id, answers, assignment.user_id)
    _finish(labeling, assignment)
    item.become(ItemStatus.DONE)
    return _event(
        item.project_id,
        assignment.user_id,
        "item.adjudicated",
        ("item", item.id),
        before={"final_answers": item.final_answers},
        after={"final_answers": answers},
    )


def _validated(spec: ProjectSpec, answers: Any, data: Any) -> dict[str, Any]:
    try:
        return validate_answers(spec, answers, data)
    except AnswerError as error:
        raise InvalidInput(f"answers.{error}") from None
