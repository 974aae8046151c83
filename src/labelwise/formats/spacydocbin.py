"""spaCy DocBin (`.spacy`) for a release's spans questions, for `spacy train` and friends.

spaCy is an optional extra (`pip install 'labelwise[spacy]'`), imported only when this
format is written.

One Doc per item and per text field that spans questions point at (almost always one),
tokenized by `spacy.blank(LANG)`. Each spans question's final answer is the span group
`doc.spans[question]`; character offsets are expanded to whole tokens, and a span that
covers no token (only whitespace) is dropped. The first spans question on the field is also
written as `doc.ents`, when its spans do not overlap once expanded; when they do, `doc.ents`
is left unset (unknown to spaCy, not "no entities") and the spans are in the span group
only. A question with no settled answer has no span group and leaves `doc.ents` unset.

`doc.user_data` holds the item's `id`, `external_id` and `field`, and with
layout.annotators its `annotations` (each annotator's answers).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from labelwise.errors import InvalidInput
from labelwise.formats import release_table
from labelwise.formats.rows import ReleaseLayout, ReleaseRow
from labelwise.spec import QuestionSpec

INSTALL_HINT = "pip install 'labelwise[spacy]'"
LANG = "en"  # the tokenizer's language: spaCy's blank English splits most Latin-script text well


def load_spacy() -> Any:
    """The spacy module, or an error saying how to install it."""
    try:
        import spacy
    except ImportError:
        raise InvalidInput(
            f"the spacy format needs spaCy, which is not installed; run: {INSTALL_HINT}"
        ) from None
    return spacy


def write_release(rows: Iterable[ReleaseRow], layout: ReleaseLayout) -> Iterator[bytes]:
    questions = release_table.span_questions(layout, "spacy")  # refuse before any byte
    return _docbin(rows, layout, questions, load_spacy().blank(LANG))


def _docbin(
    rows: Iterable[ReleaseRow], layout: ReleaseLayout, questions: list[QuestionSpec], nlp: Any
) -> Iterator[bytes]:
    from spacy.tokens import DocBin

    by_field: dict[str, list[QuestionSpec]] = {}
    for question in questions:
        by_field.setdefault(question.field or "", []).append(question)
    docs = DocBin(store_user_data=True)
    for row in rows:
        for field, asked in by_field.items():
            text = row.data.get(field)
            if isinstance(text, str):
                docs.add(_doc(nlp, text, row, field, asked, layout))
    yield docs.to_bytes()


def _doc(
    nlp: Any,
    text: str,
    row: ReleaseRow,
    field: str,
    questions: list[QuestionSpec],
    layout: ReleaseLayout,
) -> Any:
    doc = nlp.make_doc(text)
    doc.user_data["id"] = row.id
    doc.user_data["external_id"] = row.external_id
    doc.user_data["field"] = field
    if layout.annotators:
        doc.user_data["annotations"] = release_table.annotator_answers(layout, row)
    for position, question in enumerate(questions):
        answer = row.answers.get(question.name)
        if answer is None:
            continue
        spans = [
            span
            for s in answer
            if (span := doc.char_span(s["start"], s["end"], s["label"], alignment_mode="expand"))
            is not None
        ]
        doc.spans[question.name] = spans
        if position == 0 and not _overlapping(spans):
            doc.ents = spans
    return doc


def _overlapping(spans: list[Any]) -> bool:
    reach = 0
    for span in sorted(spans, key=lambda s: (s.start, s.end)):
        if span.start < reach:
            return True
        reach = max(reach, span.end)
    return False
