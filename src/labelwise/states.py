"""The workflow's states, and the one table of the moves between them.

Pure (standard library only): the database's CHECK constraints (migration 0010), the labeling
store's statements and the services all take the values from here.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TypeVar


class ItemStatus(StrEnum):
    NEW = "new"
    IN_PROGRESS = "in_progress"
    IN_REVIEW = "in_review"
    IN_ADJUDICATION = "in_adjudication"
    DONE = "done"


class AssignmentKind(StrEnum):
    ANNOTATE = "annotate"
    GOLD = "gold"  # a qualification or honeypot item, shown to the annotator as annotate
    REVIEW = "review"
    ADJUDICATE = "adjudicate"


class AssignmentStatus(StrEnum):
    ACTIVE = "active"  # leased
    SUBMITTED = "submitted"
    SKIPPED = "skipped"
    EXPIRED = "expired"  # the lease ran out
    ESCALATED = "escalated"
    REWORK = "rework"  # a rejected annotation handed back to its annotator


class ReviewStatus(StrEnum):
    """An annotation's standing with review."""

    SUBMITTED = "submitted"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    CORRECTED = "corrected"


class Verdict(StrEnum):
    ACCEPT = "accept"
    REJECT = "reject"
    CORRECT = "correct"


# Items waiting for annotators, started ones first.
OPEN_ITEMS = (ItemStatus.IN_PROGRESS, ItemStatus.NEW)
# Assignments that hand an item to an annotator (nobody gets an item twice).
LABELING_KINDS = (AssignmentKind.ANNOTATE, AssignmentKind.GOLD)
# What a verdict makes of the annotation it judges.
REVIEWED_AS = {
    Verdict.ACCEPT: ReviewStatus.ACCEPTED,
    Verdict.REJECT: ReviewStatus.REJECTED,
    Verdict.CORRECT: ReviewStatus.CORRECTED,
}

_I, _A, _R = ItemStatus, AssignmentStatus, ReviewStatus
TRANSITIONS: dict[type[StrEnum], dict[StrEnum, frozenset[StrEnum]]] = {
    ItemStatus: {
        _I.NEW: frozenset({_I.IN_PROGRESS, _I.IN_REVIEW, _I.IN_ADJUDICATION, _I.DONE}),
        _I.IN_PROGRESS: frozenset({_I.NEW, _I.IN_REVIEW, _I.IN_ADJUDICATION, _I.DONE}),
        _I.IN_REVIEW: frozenset({_I.IN_ADJUDICATION, _I.DONE}),
        _I.IN_ADJUDICATION: frozenset({_I.DONE}),
        _I.DONE: frozenset({_I.IN_REVIEW}),  # a check finding sends it back to review
    },
    AssignmentStatus: {
        _A.ACTIVE: frozenset({_A.SUBMITTED, _A.SKIPPED, _A.EXPIRED, _A.ESCALATED}),
        # A late submit counts while nobody took the slot; a lapsed lease may be skipped.
        _A.EXPIRED: frozenset({_A.SUBMITTED, _A.SKIPPED, _A.ESCALATED}),
        _A.SUBMITTED: frozenset({_A.REWORK}),  # its annotation was rejected
        _A.REWORK: frozenset({_A.SUBMITTED}),
        _A.SKIPPED: frozenset(),
        _A.ESCALATED: frozenset(),
    },
    ReviewStatus: {
        _R.SUBMITTED: frozenset({_R.ACCEPTED, _R.REJECTED, _R.CORRECTED}),
        _R.REJECTED: frozenset({_R.SUBMITTED}),  # revised by its annotator
        _R.ACCEPTED: frozenset({_R.SUBMITTED}),  # revised, or sent back to review by a check
        _R.CORRECTED: frozenset({_R.SUBMITTED}),
    },
}


class IllegalTransition(AssertionError):
    """A move the workflow does not have: a bug in the caller, never the user's input."""


S = TypeVar("S", bound=StrEnum)


def move(current: S | str, new: S) -> S:
    """`new`, once the table allows moving there from `current` (staying put is allowed)."""
    if current == new:
        return new
    state = type(new)
    old = state(current)
    if new not in TRANSITIONS[state][old]:
        raise IllegalTransition(f"{state.__name__}: {old} -> {new} is not a workflow move")
    return new


class AnswerSource(StrEnum):
    """Who wrote an annotation's answers, as its audit events record: a person, or a model
    whose predictions were saved as annotations."""

    HUMAN = "human"
    MODEL = "model"


class PrelabelOutcome(StrEnum):
    """What a labeler made of a model's suggestion shown to them (services.workflow.prelabels):
    kept it as it was, kept part of it, or put something else in its place."""

    ACCEPTED = "accepted"
    EDITED = "edited"
    REJECTED = "rejected"
