"""What a labeler made of a model's suggestion: accepted, edited or rejected, per question,
per predicted label and for the whole answer.

Per question the labeler's answer is compared with the predicted one:
- the same answer: accepted;
- left unanswered, or another single value (a label, a rating, a number, a preference):
  rejected;
- multi-label answers and spans keep part of the suggestion (a predicted label chosen, a
  predicted span overlapping one of the same label) or none of it: edited, else rejected;
  free text changed is edited.
The whole answer is accepted when every predicted question is, rejected when every one is,
edited otherwise. Per label (questions with labels, rating values or spans) each predicted
label is judged alike: a predicted span kept exactly is accepted, one whose boundaries moved
is edited.

Pure: the stored prediction and the validated answer in, plain values out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from labelwise.canonical import same_json
from labelwise.spec import ProjectSpec, QuestionSpec
from labelwise.states import AnswerSource, PrelabelOutcome

_OK, _EDITED, _NO = PrelabelOutcome.ACCEPTED, PrelabelOutcome.EDITED, PrelabelOutcome.REJECTED


@dataclass(frozen=True)
class Suggestion:
    """A model's prediction as a labeler is shown it."""

    model: str
    answers: dict[str, Any]
    scores: dict[str, Any] | None


def suggestion_of(found: Sequence[Any] | None) -> Suggestion | None:
    """A stored prediction's (model, answers, scores) as a suggestion; None for none."""
    if found is None or found[0] is None:
        return None
    model, answers, scores = found
    return Suggestion(model, answers, scores)


@dataclass(frozen=True)
class Judged:
    """The outcome of one answer given with a suggestion shown, as annotations store it."""

    model: str
    outcome: PrelabelOutcome
    # question -> {"outcome", "predicted", "labels": [[label, outcome], ...]}
    questions: dict[str, dict[str, Any]]


def source_of(answers: dict[str, Any], shown: Suggestion | None) -> AnswerSource:
    """A suggestion sent back unchanged is the model's answer; anything else a person's."""
    unchanged = shown is not None and same_json(answers, shown.answers)
    return AnswerSource.MODEL if unchanged else AnswerSource.HUMAN


def judge(spec: ProjectSpec, suggestion: Suggestion, answers: dict[str, Any]) -> Judged | None:
    """Compare the answers with the suggestion shown; None if it answered no current question."""
    questions: dict[str, dict[str, Any]] = {}
    for name, predicted in suggestion.answers.items():
        question = spec._questions.get(name)
        if question is None:  # the question was taken out of the spec since the import
            continue
        given = answers.get(name)
        outcome = _question_outcome(question, predicted, given)
        labels = [[label, o] for label, o in _label_outcomes(question, predicted, given, outcome)]
        questions[name] = {"outcome": outcome, "predicted": predicted, "labels": labels}
    if not questions:
        return None
    outcomes = {q["outcome"] for q in questions.values()}
    whole = outcomes.pop() if len(outcomes) == 1 and _EDITED not in outcomes else _EDITED
    return Judged(suggestion.model, PrelabelOutcome(whole), questions)


def _question_outcome(question: QuestionSpec, predicted: Any, given: Any) -> PrelabelOutcome:
    if same_json(predicted, given):
        return _OK
    if given is None:
        return _NO
    coding = question.kind.coding
    if coding == "label_sets":
        return _EDITED if set(predicted) & set(given) else _NO
    if coding == "spans":
        return _EDITED if any(_overlapping(span, given) for span in predicted) else _NO
    return _EDITED if question.type == "text" else _NO


def _label_outcomes(
    question: QuestionSpec, predicted: Any, given: Any, outcome: PrelabelOutcome
) -> list[tuple[str, PrelabelOutcome]]:
    """Each predicted label and what became of it; [] for questions without labels."""
    coding = question.kind.coding
    if coding == "labels":
        return [(str(predicted), outcome)]
    if coding == "label_sets":
        chosen = set(given or ())
        return [(str(label), _OK if label in chosen else _NO) for label in predicted]
    if coding == "spans":
        return [(span["label"], _span_outcome(span, given or [])) for span in predicted]
    return []


def _span_outcome(span: dict[str, Any], given: list[dict[str, Any]]) -> PrelabelOutcome:
    if span in given:
        return _OK
    return _EDITED if _overlapping(span, given) else _NO


def _overlapping(span: dict[str, Any], given: Any) -> bool:
    return any(
        other["label"] == span["label"]
        and other["start"] < span["end"]
        and span["start"] < other["end"]
        for other in given or ()
    )
