"""The project spec (fields, questions, workflow, quality) and the checking of answers to it.

Pure: pydantic, PyYAML and the standard library only, so every layer can use it.
"""

from labelwise.spec._answers import AnswerError, validate_answers
from labelwise.spec._base import SpecError
from labelwise.spec._labels import Label
from labelwise.spec._load import load_guidelines_file, load_spec_file, parse_spec
from labelwise.spec._model import (
    AgreementTargetSpec,
    FieldSpec,
    FieldType,
    ProjectSpec,
    QualificationSpec,
    QualitySpec,
    QuestionSpec,
    QuestionType,
    ReviewSpec,
    WorkflowSpec,
)

__all__ = [
    "AgreementTargetSpec",
    "AnswerError",
    "FieldSpec",
    "FieldType",
    "Label",
    "ProjectSpec",
    "QualificationSpec",
    "QualitySpec",
    "QuestionSpec",
    "QuestionType",
    "ReviewSpec",
    "SpecError",
    "WorkflowSpec",
    "load_guidelines_file",
    "load_spec_file",
    "parse_spec",
    "validate_answers",
]
