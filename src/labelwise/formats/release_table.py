"""What every release format shares: canonical values, and the flat table of CSV and Parquet.

The flat table has one row per item and these columns: id, external_id, one column per
spec field (text as is, anything else as JSON), other_data (JSON of the remaining keys),
then per question its final answer and `<question>_source`; with `layout.soft`, per
question with a label set, `<question>_p_<label>` for each label; with `layout.annotators`,
`annotations` (each annotator's answers). A name taken twice gets `_` appended.

Values are put in one canonical order (data keys sorted, questions in spec order, spans as
start, end, label) so that the same release gives the same bytes whatever order its stored
JSON came back in.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, NamedTuple

import orjson
import pyarrow as pa

from labelwise.errors import InvalidInput
from labelwise.formats.rows import ReleaseLayout, ReleaseRow
from labelwise.spec import QuestionSpec
from labelwise.spec.questions import ReleaseValue

# Rows per Arrow batch (a Parquet row group, an Arrow IPC record batch).
BATCH = 8192


def soft_labels(question: QuestionSpec) -> tuple[str, ...]:
    """The labels a question's probabilities are over, in display order; () when none: the
    categories of a kind with a consensus."""
    kind = question.kind
    return tuple(str(c) for c in kind.categories(question)) if kind.consensus else ()


def is_spans(question: QuestionSpec) -> bool:
    """Its answers are spans (what the span formats, spaCy and CoNLL, write)."""
    return question.kind.release == "spans"


def span_questions(layout: ReleaseLayout, fmt: str) -> list[QuestionSpec]:
    """The spans questions, or InvalidInput naming the format when there are none."""
    found = [q for q in layout.questions if is_spans(q)]
    if not found:
        kinds = ", ".join(f"{q.name} ({q.type})" for q in layout.questions)
        raise InvalidInput(
            f"format {fmt!r} writes span annotations, and this project has no spans question "
            f"(questions: {kinds}); use jsonl, csv, parquet or hf"
        )
    return found


def answer(question: QuestionSpec, value: Any) -> Any:
    """An answer in canonical form (the kind's: spans as {start, end, label} in that order)."""
    return question.kind.canonical(value)


def answers(layout: ReleaseLayout, values: dict[str, Any]) -> dict[str, Any]:
    """Every question's answer, in spec order; None where nothing was settled."""
    return {q.name: answer(q, values.get(q.name)) for q in layout.questions}


def probabilities(question: QuestionSpec, values: dict[str, float] | None) -> dict[str, float]:
    """A question's label probabilities, labels in display order, then any others sorted."""
    if not values:
        return {}
    known = soft_labels(question)
    ordered = {label: values[label] for label in known if label in values}
    ordered.update((label, values[label]) for label in sorted(values) if label not in ordered)
    return ordered


def annotator_answers(layout: ReleaseLayout, row: ReleaseRow) -> list[dict[str, Any]]:
    """Each annotator's answers to the spec's questions, in canonical form."""
    return [
        {
            "annotator": entry.get("annotator"),
            "guideline_version": entry.get("guideline_version"),
            "answers": answers(layout, entry.get("answers") or {}),
        }
        for entry in row.annotations
    ]


def data_cell(value: Any) -> str | None:
    """A data field's cell: text as is, anything else as JSON."""
    return value if value is None or value.__class__ is str else json_text(value)


def json_text(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()


class Column(NamedTuple):
    """One column of a release table: its name, Arrow type, and cell of each row."""

    name: str
    type: pa.DataType
    cell: Callable[[ReleaseRow], Any]


SPAN_TYPE = pa.struct([("start", pa.int64()), ("end", pa.int64()), ("label", pa.string())])
# The Arrow type of each way a release stores an answer (a question kind's `release`).
ANSWER_TYPES: dict[ReleaseValue, pa.DataType] = {
    "label": pa.string(),
    "labels": pa.list_(pa.string()),
    "spans": pa.list_(SPAN_TYPE),
    "ranking": pa.list_(pa.string()),
    "integer": pa.int64(),
    "number": pa.float64(),
    "string": pa.string(),
}


def answer_type(question: QuestionSpec) -> pa.DataType:
    """The Arrow type of a question's answer in the flat table."""
    return ANSWER_TYPES[question.kind.release]


def annotations_type(answer_types: Iterable[tuple[str, pa.DataType]]) -> pa.DataType:
    entry = pa.struct(
        [
            ("annotator", pa.string()),
            ("guideline_version", pa.int64()),
            ("answers", pa.struct(list(answer_types))),
        ]
    )
    return pa.list_(entry)


class Names:
    """Column names handed out once each: a name already taken gets `_` appended."""

    def __init__(self) -> None:
        self._taken: set[str] = set()

    def __call__(self, name: str) -> str:
        while name in self._taken:
            name += "_"
        self._taken.add(name)
        return name


def item_columns(layout: ReleaseLayout, names: Names) -> list[Column]:
    """id, external_id, one column per spec field and other_data: the same in every table."""
    fields = [field.name for field in layout.fields]
    known = set(fields)
    columns = [
        Column(names("id"), pa.int64(), lambda row: row.id),
        Column(names("external_id"), pa.string(), lambda row: row.external_id),
    ]
    columns += [Column(names(name), pa.string(), _field_cell(name)) for name in fields]
    columns.append(Column(names("other_data"), pa.string(), lambda row: _other(row, known)))
    return columns


def _field_cell(name: str) -> Callable[[ReleaseRow], str | None]:
    return lambda row: data_cell(row.data.get(name))


def _other(row: ReleaseRow, known: set[str]) -> str | None:
    rest = {key: value for key, value in row.data.items() if key not in known}
    return json_text(rest) if rest else None


def columns(layout: ReleaseLayout) -> list[Column]:
    """The flat table's columns, shared by CSV and Parquet."""
    names = Names()
    result = item_columns(layout, names)
    for question in layout.questions:
        result += _question_columns(question, layout.soft, names)
    if layout.annotators:
        kinds = [(q.name, answer_type(q)) for q in layout.questions]
        result.append(
            Column(
                names("annotations"),
                annotations_type(kinds),
                lambda r: annotator_answers(layout, r),
            )
        )
    return result


def _question_columns(question: QuestionSpec, soft: bool, names: Names) -> list[Column]:
    q = question.name
    result = [
        Column(names(q), answer_type(question), lambda row: answer(question, row.answers.get(q))),
        Column(names(f"{q}_source"), pa.string(), lambda row: row.sources.get(q)),
    ]
    if soft:
        result += [
            Column(names(f"{q}_p_{label}"), pa.float64(), _probability(q, label))
            for label in soft_labels(question)
        ]
    return result


def _probability(question: str, label: str) -> Callable[[ReleaseRow], float | None]:
    return lambda row: (row.probabilities.get(question) or {}).get(label)


def schema(columns: Sequence[Column], metadata: dict[str, str] | None = None) -> pa.Schema:
    return pa.schema([(c.name, c.type) for c in columns], metadata=metadata)


def record_batch(rows: Sequence[ReleaseRow], columns: Sequence[Column]) -> pa.RecordBatch:
    """The rows as one Arrow batch; InvalidInput naming the item when a value has the wrong
    type for its column (an answer stored before the question changed type, say)."""
    arrays = [_array(rows, column) for column in columns]
    return pa.RecordBatch.from_arrays(arrays, schema=schema(columns))


def _array(rows: Sequence[ReleaseRow], column: Column) -> pa.Array:
    values = [column.cell(row) for row in rows]
    try:
        return pa.array(values, type=column.type)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError, OverflowError):
        pass
    for row, value in zip(rows, values, strict=True):
        try:
            pa.array([value], type=column.type)
        except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError, OverflowError):
            raise InvalidInput(
                f"item {row.id}: column {column.name!r}: {_show(value)} does not fit "
                f"its type ({column.type})"
            ) from None
    raise AssertionError("a batch failed that no single row fails")  # pragma: no cover


def _show(value: Any) -> str:
    text = json_text(value) if value is not None else "null"
    return text if len(text) <= 60 else text[:57] + "..."


def batches(rows: Iterable[ReleaseRow], size: int = BATCH) -> Iterator[list[ReleaseRow]]:
    """The rows in lists of `size`, so Arrow writers hold one batch at a time."""
    batch: list[ReleaseRow] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch
