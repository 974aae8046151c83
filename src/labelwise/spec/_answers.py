"""Checking a submission against the questions; this runs on every submit, so it stays lean:
each question type's check (labelwise.spec.questions) is looked up once per spec."""

from collections.abc import Mapping

from labelwise.spec._base import AnswerError, show
from labelwise.spec._model import ProjectSpec


def validate_answers(
    spec: ProjectSpec,
    answers: object,
    item_data: Mapping[str, object],
    *,
    partial: bool = False,
) -> dict[str, object]:
    """The answers, normalised (spans sorted, labels in display order), unanswered optional
    questions left out; AnswerError at the first answer that does not fit its question.

    `partial` lets any question go unanswered: gold answers may cover only some questions."""
    if not isinstance(answers, dict):
        expected = "an object of question name to answer"
        raise AnswerError("answers", f"must be {expected}; got {show(answers)}")
    questions = spec._questions
    for name in answers:
        if name not in questions:
            raise AnswerError(str(name), f"unknown question; questions are {', '.join(questions)}")
    result: dict[str, object] = {}
    for question, check, empty_is_answer in spec._answer_checks:
        value = answers.get(question.name)
        if value is None or (_is_blank(value) and not empty_is_answer):
            if question.required and not partial:
                raise AnswerError(question.name, "an answer is required")
            continue
        result[question.name] = check(question, value, item_data)
    return result


def _is_blank(value: object) -> bool:
    """An empty string or list, which says nothing (for spans, [] does say "nothing to mark")."""
    return value == [] or (isinstance(value, str) and not value.strip())
