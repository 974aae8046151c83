"""The project spec (fields, questions, workflow, quality) and the checking of answers to it.

Pure: pydantic, PyYAML and the standard library only, so every layer can use it.
"""

from labelwise.spec._answers import validate_answers
from labelwise.spec._base import AnswerError, SpecError
from labelwise.spec._labels import Label
from labelwise.spec._load import (
    load_guidelines_file,
    load_spec_file,
    parse_spec,
    read_spec_file,
)
from labelwise.spec._model import (
    AgreementTargetSpec,
    FieldSpec,
    FieldType,
    PiiSpec,
    PrivacySpec,
    ProjectSpec,
    QualificationSpec,
    QualitySpec,
    QuestionSpec,
    QuestionType,
    ReviewSpec,
    WorkflowSpec,
)
from labelwise.spec.questions import QUESTION_TYPES, QuestionKind, page_layout, question_type

__all__ = [
    "QUESTION_TYPES",
    "AgreementTargetSpec",
    "AnswerError",
    "FieldSpec",
    "FieldType",
    "Label",
    "PiiSpec",
    "PrivacySpec",
    "ProjectSpec",
    "QualificationSpec",
    "QualitySpec",
    "QuestionKind",
    "QuestionSpec",
    "QuestionType",
    "ReviewSpec",
    "SpecError",
    "WorkflowSpec",
    "load_guidelines_file",
    "load_spec_file",
    "page_layout",
    "parse_spec",
    "question_type",
    "read_spec_file",
    "validate_answers",
]
