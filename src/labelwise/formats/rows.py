"""The shapes every import reader yields and every export writer takes."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import IO, Any, NamedTuple

import orjson

from labelwise.spec import FieldSpec, QuestionSpec

# Writers hand back output about this big at a time, however large or small the items are.
CHUNK_BYTES = 1 << 20


class ParsedRow(NamedTuple):
    """One input record: its position (line, or row for binary formats; a folder of images:
    the file's path in it) and value or error."""

    position: int | str
    value: Any
    error: str | None = None


class ExportRow(NamedTuple):
    """One item to export. A tuple, since an export makes one per item and that adds up."""

    id: int
    external_id: str | None
    status: str
    data_json: str  # stored JSON text, spliced into output without re-parsing
    annotations: list[dict[str, Any]]
    # What people settled about the item: final_answers, escalations, comments.
    outcome: dict[str, Any]


class ReleaseRow(NamedTuple):
    """One item of a dataset release as it was frozen; every release format writes these."""

    id: int
    external_id: str | None
    data: dict[str, Any]
    answers: dict[str, Any]  # the final answer to each question; None where nothing was settled
    sources: dict[str, str]  # how each answer was settled: adjudicated, majority, annotator...
    probabilities: dict[str, dict[str, float]]  # soft labels, for the questions that have them
    # Each annotator's answers: {"annotator": name, "answers": {...}, "guideline_version": n}
    annotations: list[dict[str, Any]]


@dataclass(frozen=True)
class ReleaseLayout:
    """What a release writer needs besides the rows: the schema and the optional parts."""

    fields: Sequence[FieldSpec]
    questions: Sequence[QuestionSpec]
    soft: bool = False  # write each question's label probabilities
    annotators: bool = False  # write each annotator's answers


Reader = Callable[[IO[bytes]], Iterator[ParsedRow]]
Writer = Callable[[Iterable[ExportRow], list[str]], Iterator[bytes]]


def json_error(error: orjson.JSONDecodeError, *, column: bool = True) -> str:
    where = f" at column {error.colno}" if column else ""
    return f"invalid JSON{where}: {error.msg}"
