"""A Hugging Face dataset saved to disk, as `Dataset.save_to_disk` lays it out, written with
pyarrow alone: `datasets.load_from_disk(path)` opens it, and labelwise does not need
`datasets` to write it.

The directory holds `data-00000-of-00001.arrow` (an Arrow IPC stream whose schema metadata
carries the features, as `datasets` writes it), `dataset_info.json` (the features) and
`state.json` (the data files and a fingerprint: a hash of the content, so the same release
gives the same files).

Columns: those of the flat table (see release_table) with these differences, by how the
question's kind stores its answer: a "label" (single_label) is a ClassLabel (its index in
the question's labels), "labels" (multi_label) a list of ClassLabels, a "ranking" the list
of its responses' ClassLabels best first, a span's label a ClassLabel; with layout.soft,
each question with a label set has one `<question>_probabilities` column, a list of floats
in the order of its labels (ClassLabel names; a rating's from min to max; a preference's a,
b, tie; a ranking's responses, each the share of annotators who ranked it first).

Features are written in the form every `datasets` release reads (2.x to 5.x): lists of
values as `Sequence`, lists of objects as a JSON list of one object.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa

from labelwise.errors import InvalidInput
from labelwise.formats import release_table
from labelwise.formats.release_table import Column, Names
from labelwise.formats.rows import ReleaseLayout, ReleaseRow
from labelwise.spec import QuestionSpec

DATA_FILE = "data-00000-of-00001.arrow"
INFO_FILE = "dataset_info.json"
STATE_FILE = "state.json"

Feature = dict[str, Any] | list[Any]


def value(dtype: str) -> Feature:
    return {"dtype": dtype, "_type": "Value"}


def class_label(names: Iterable[str]) -> Feature:
    return {"names": list(names), "_type": "ClassLabel"}


def sequence(feature: Feature) -> Feature:
    return {"feature": feature, "length": -1, "_type": "Sequence"}


def write_release(rows: Iterable[ReleaseRow], layout: ReleaseLayout, directory: Path) -> None:
    """Write the dataset into `directory`, which must exist and be empty."""
    columns, features = _columns(layout)
    info = {
        "citation": "",
        "description": "",
        "features": features,
        "homepage": "",
        "license": "",
    }
    metadata = {"huggingface": json.dumps({"info": {"features": features}})}
    schema = release_table.schema(columns, metadata)
    digest = hashlib.sha256()
    with pa.OSFile(str(directory / DATA_FILE), "wb") as sink:
        hashing = _HashingSink(sink, digest)
        with pa.ipc.new_stream(hashing, schema) as writer:
            for batch in release_table.batches(rows):
                writer.write_batch(_with_schema(release_table.record_batch(batch, columns), schema))
    info_text = json.dumps(info, indent=2, ensure_ascii=False) + "\n"
    digest.update(info_text.encode())
    state: dict[str, Any] = {
        "_data_files": [{"filename": DATA_FILE}],
        "_fingerprint": digest.hexdigest()[:16],
        "_format_columns": None,
        "_format_kwargs": {},
        "_format_type": None,
        "_output_all_columns": False,
        "_split": None,
    }
    (directory / INFO_FILE).write_text(info_text, encoding="utf-8")
    (directory / STATE_FILE).write_text(json.dumps(state, indent=2) + "\n", encoding="utf-8")


class _HashingSink:
    """A file-like target that hashes what passes through it on the way to `sink`."""

    def __init__(self, sink: pa.NativeFile, digest: hashlib._Hash) -> None:
        self._sink = sink
        self._digest = digest
        self.closed = False

    def write(self, data: bytes) -> int:
        self._digest.update(data)
        self._sink.write(data)
        return len(data)

    def flush(self) -> None:
        self._sink.flush()


def _with_schema(batch: pa.RecordBatch, schema: pa.Schema) -> pa.RecordBatch:
    return pa.RecordBatch.from_arrays(batch.columns, schema=schema)


def _columns(layout: ReleaseLayout) -> tuple[list[Column], dict[str, Feature]]:
    names = Names()
    columns = release_table.item_columns(layout, names)
    features: dict[str, Feature] = {columns[0].name: value("int64")}
    features.update((column.name, value("string")) for column in columns[1:])
    for question in layout.questions:
        for column, feature in _question_columns(question, layout.soft, names):
            columns.append(column)
            features[column.name] = feature
    if layout.annotators:
        column, feature = _annotations_column(layout, names)
        columns.append(column)
        features[column.name] = feature
    return columns, features


def _question_columns(
    question: QuestionSpec, soft: bool, names: Names
) -> list[tuple[Column, Feature]]:
    q = question.name
    kind, feature, convert = _answer_kind(question)
    result = [
        (Column(names(q), kind, lambda row: convert(row.answers.get(q), row.id)), feature),
        (
            Column(names(f"{q}_source"), pa.string(), lambda row: row.sources.get(q)),
            value("string"),
        ),
    ]
    labels = release_table.soft_labels(question)
    if soft and labels:
        column = Column(
            names(f"{q}_probabilities"),
            pa.list_(pa.float64()),
            lambda row: _vector(row.probabilities.get(q), labels),
        )
        result.append((column, sequence(value("float64"))))
    return result


def _vector(probabilities: dict[str, float] | None, labels: tuple[str, ...]) -> list[Any] | None:
    if not probabilities:
        return None
    return [probabilities.get(label) for label in labels]


# (answer, item id) -> the column's value; the item id names it in an error.
_Convert = Callable[[Any, int], Any]


def _answer_kind(question: QuestionSpec) -> tuple[pa.DataType, Feature, _Convert]:
    """A question's Arrow type, feature, and conversion of an answer to the column value."""
    release = question.kind.release
    if release == "label":
        index = _indexer(question)
        return pa.int64(), class_label(question.choices), index
    if release == "labels":
        index = _indexer(question)
        return (
            pa.list_(pa.int64()),
            sequence(class_label(question.choices)),
            lambda answer, item: None if answer is None else [index(a, item) for a in answer],
        )
    if release == "ranking":
        responses = release_table.soft_labels(question)
        index = _indexer(question, responses)
        return (
            pa.list_(pa.int64()),
            sequence(class_label(responses)),
            lambda answer, item: None if answer is None else [index(a, item) for a in answer],
        )
    if release == "spans":
        index = _indexer(question)
        span = pa.struct([("start", pa.int64()), ("end", pa.int64()), ("label", pa.int64())])
        feature = [
            {
                "start": value("int64"),
                "end": value("int64"),
                "label": class_label(question.choices),
            }
        ]
        return pa.list_(span), feature, lambda answer, item: _spans(answer, item, index)
    arrow = release_table.answer_type(question)
    dtype = {pa.int64(): "int64", pa.float64(): "float64"}.get(arrow, "string")
    return arrow, value(dtype), lambda answer, item: answer


def _spans(answer: Any, item: int, index: _Convert) -> list[dict[str, Any]] | None:
    if answer is None:
        return None
    return [
        {"start": s.get("start"), "end": s.get("end"), "label": index(s.get("label"), item)}
        for s in answer
    ]


def _indexer(question: QuestionSpec, names: Sequence[str] | None = None) -> _Convert:
    """label -> its ClassLabel index; InvalidInput naming the item for a label not in the spec.

    `names`: the class names, when they are not the question's labels (a ranking's responses).
    """
    known = question.choices if names is None else tuple(names)
    rank = {label: position for position, label in enumerate(known)}

    def index(label: Any, item: int) -> int | None:
        if label is None:
            return None
        try:
            return rank[label]
        except (KeyError, TypeError):
            raise InvalidInput(
                f"item {item}: question {question.name!r}: {label!r} is not one of its labels "
                f"({', '.join(known)})"
            ) from None

    return index


def _annotations_column(layout: ReleaseLayout, names: Names) -> tuple[Column, Feature]:
    kinds = [(q, _answer_kind(q)) for q in layout.questions]
    arrow = release_table.annotations_type((q.name, kind[0]) for q, kind in kinds)
    feature = [
        {
            "annotator": value("string"),
            "guideline_version": value("int64"),
            "answers": {q.name: kind[1] for q, kind in kinds},
        }
    ]

    def cell(row: ReleaseRow) -> list[dict[str, Any]]:
        return [
            {
                **entry,
                "answers": {q.name: kind[2](entry["answers"][q.name], row.id) for q, kind in kinds},
            }
            for entry in release_table.annotator_answers(layout, row)
        ]

    return Column(names("annotations"), arrow, cell), feature
