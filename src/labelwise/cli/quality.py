"""`labelwise quality`: agreement and aggregation on a file of annotations, offline.

The file is CSV or JSONL with one (item, annotator, label) row per annotation. It is read as a
stream and coded into integer arrays on the way, so only the codes stay in memory; every
input error names the file, the line and the field.
"""

from __future__ import annotations

import csv
import sys
from array import array
from collections.abc import Callable, Hashable, Iterator
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import IO, Annotated, Any

import numpy as np
import numpy.typing as npt
import orjson
import typer
from rich.table import Table

from labelwise.cli.common import console, err_console, fail
from labelwise.quality import (
    UNRESOLVED,
    CodedAnnotations,
    Consensus,
    KappaWeights,
    MeasurementLevel,
    cohen_kappa,
    dawid_skene,
    encode,
    find_duplicates,
    fleiss_kappa,
    krippendorff_alpha,
    label_values,
    majority_vote,
    pairwise_cohen_kappa,
)

app = typer.Typer(
    help="Agreement and aggregation on a CSV or JSONL file of (item, annotator, label) rows.",
    no_args_is_help=True,
)


class Method(StrEnum):
    majority = "majority"
    dawid_skene = "dawid-skene"


class Metric(StrEnum):
    cohen = "cohen"
    fleiss = "fleiss"
    krippendorff = "krippendorff"


class Level(StrEnum):
    nominal = "nominal"
    ordinal = "ordinal"
    interval = "interval"
    ratio = "ratio"


# Weighted kappa is Cohen's answer to ordered labels: linear for ranks, quadratic for scores.
_KAPPA_WEIGHTS: dict[Level, KappaWeights | None] = {
    Level.nominal: None,
    Level.ordinal: "linear",
    Level.interval: "quadratic",
}
_LEVELS: dict[Level, MeasurementLevel] = {
    Level.nominal: "nominal",
    Level.ordinal: "ordinal",
    Level.interval: "interval",
    Level.ratio: "ratio",
}
Codes = npt.NDArray[np.intp]

InputOption = Annotated[
    Path, typer.Option("--input", help="CSV or JSONL file, one annotation per row.")
]
ItemColumn = Annotated[str, typer.Option("--item-column", help="Column naming the item.")]
AnnotatorColumn = Annotated[
    str, typer.Option("--annotator-column", help="Column naming the annotator.")
]
LabelColumn = Annotated[str, typer.Option("--label-column", help="Column holding the label.")]


class InputError(Exception):
    """A problem with the input file, worded for the person who wrote it."""


@dataclass(frozen=True, slots=True)
class Columns:
    """Which columns (CSV) or fields (JSONL) hold the item, the annotator and the label."""

    item: str
    annotator: str
    label: str

    def names(self) -> tuple[str, str, str]:
        return self.item, self.annotator, self.label


@app.command()
def aggregate(
    input_path: InputOption,
    method: Annotated[Method, typer.Option("--method", help="How to combine the labels.")],
    output: Annotated[
        Path | None, typer.Option("--output", help="CSV file to write (default: stdout).")
    ] = None,
    soft: Annotated[
        bool, typer.Option("--soft", help="Add a probability column p_<label> per label.")
    ] = False,
    item_column: ItemColumn = "item",
    annotator_column: AnnotatorColumn = "annotator",
    label_column: LabelColumn = "label",
) -> None:
    """One label per item, written as item,label,confidence (label empty when unresolved).

    Majority vote leaves ties unresolved; Dawid-Skene weighs annotators by their confusions.
    """
    data = _load(input_path, Columns(item_column, annotator_column, label_column))
    shape = (len(data.item_names), len(data.annotator_names), len(data.label_names))
    if method is Method.majority:
        consensus = majority_vote(data.items, data.labels, shape[0], shape[2])
        summary = f"majority vote, tied items left unresolved: {int(consensus.tied.sum()):,}"
    else:
        fitted = dawid_skene(data.items, data.annotators, data.labels, *shape)
        consensus = fitted.consensus
        state = "converged" if fitted.converged else "stopped without converging"
        summary = f"Dawid-Skene {state} after {fitted.n_iterations} iterations"
        if consensus.tied.any():
            summary += f", tied items left unresolved: {int(consensus.tied.sum()):,}"
    try:
        opened: AbstractContextManager[IO[str]] = (
            nullcontext(sys.stdout) if output is None else output.open("w", newline="")
        )
    except OSError as error:
        raise fail(f"{output}: cannot write the file ({error.strerror})", 2) from None
    with opened as stream:
        _write_consensus(stream, data, consensus, soft)
    err_console.print(
        f"{summary}; {shape[0]:,} items from {data.items.size:,} annotations",
        highlight=False,
        soft_wrap=True,
    )


@app.command()
def agreement(
    input_path: InputOption,
    metric: Annotated[Metric, typer.Option("--metric", help="Agreement coefficient.")],
    level: Annotated[
        Level,
        typer.Option(
            "--level",
            help="Level of measurement (numeric labels beyond nominal). For cohen, ordinal "
            "and interval give linear and quadratic weighted kappa.",
        ),
    ] = Level.nominal,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
    item_column: ItemColumn = "item",
    annotator_column: AnnotatorColumn = "annotator",
    label_column: LabelColumn = "label",
) -> None:
    """Chance-corrected agreement between annotators (1 = perfect, 0 = chance level)."""
    columns = Columns(item_column, annotator_column, label_column)
    data = _load(input_path, columns)
    try:
        report = _AGREEMENT[metric](data, level)
    except ValueError as error:
        raise fail(f"{input_path}: {error}", 2) from None
    report = {
        "metric": metric.value,
        "level": level.value,
        **report,
        "items": len(data.item_names),
        "annotators": len(data.annotator_names),
        "annotations": int(data.items.size),
    }
    if as_json:
        typer.echo(orjson.dumps(report, option=orjson.OPT_INDENT_2 | orjson.OPT_SERIALIZE_NUMPY))
    else:
        console.print(_agreement_table(report))


def _cohen(data: CodedAnnotations, level: Level) -> dict[str, Any]:
    if level not in _KAPPA_WEIGHTS:
        raise ValueError("Cohen's kappa takes --level nominal, ordinal or interval")
    weights = _KAPPA_WEIGHTS[level]
    n_labels = len(data.label_names)
    if len(data.annotator_names) == 2:
        first, second = _aligned(data)
        kappa = cohen_kappa(first, second, n_labels, weights)
        return {"value": _number(kappa), "shared_items": int(first.size)}
    pairs = pairwise_cohen_kappa(data.items, data.annotators, data.labels, n_labels, weights)
    defined = [pair.kappa for pair in pairs if not np.isnan(pair.kappa)]
    return {
        "value": _number(float(np.mean(defined))) if defined else None,
        "summary": "mean pairwise Cohen's kappa (Light's kappa)",
        "pairs_defined": len(defined),
        "pairs": [
            {
                "annotator_a": str(data.annotator_names[pair.annotator_a]),
                "annotator_b": str(data.annotator_names[pair.annotator_b]),
                "kappa": _number(pair.kappa),
                "shared_items": pair.n_items,
            }
            for pair in pairs
        ],
    }


def _fleiss(data: CodedAnnotations, level: Level) -> dict[str, Any]:
    if level is not Level.nominal:
        raise ValueError("Fleiss' kappa is for nominal labels; use --metric krippendorff")
    kappa = fleiss_kappa(data.items, data.labels, len(data.item_names), len(data.label_names))
    return {"value": _number(kappa)}


def _krippendorff(data: CodedAnnotations, level: Level) -> dict[str, Any]:
    values = None
    if level is not Level.nominal:
        try:
            values = label_values(data.label_names)
        except ValueError as error:
            raise ValueError(f"--level {level.value} needs numeric labels: {error}") from None
    alpha = krippendorff_alpha(data.items, data.labels, _LEVELS[level], values)
    return {"value": _number(alpha)}


_AGREEMENT: dict[Metric, Callable[[CodedAnnotations, Level], dict[str, Any]]] = {
    Metric.cohen: _cohen,
    Metric.fleiss: _fleiss,
    Metric.krippendorff: _krippendorff,
}


def _aligned(data: CodedAnnotations) -> tuple[Codes, Codes]:
    """The two annotators' labels on the items both of them labelled, in item order."""
    grid = np.full((2, len(data.item_names)), UNRESOLVED, np.intp)
    grid[data.annotators, data.items] = data.labels
    both = (grid >= 0).all(axis=0)
    return grid[0, both], grid[1, both]


def _number(value: float) -> float | None:
    """JSON has no NaN: an undefined coefficient is null."""
    return None if np.isnan(value) else value


def _agreement_table(report: dict[str, Any]) -> Table:
    names = {
        "cohen": "Cohen's kappa",
        "fleiss": "Fleiss' kappa",
        "krippendorff": "Krippendorff's alpha",
    }
    title = names[report["metric"]]
    if report["metric"] != "fleiss":
        title += f" ({report['level']})"
    table = Table(title=title, show_header=False)
    table.add_column("figure")
    table.add_column("value", justify="right")
    value = report["value"]
    table.add_row(report.get("summary", "value"), "undefined" if value is None else f"{value:.4f}")
    for key in ("shared_items", "pairs_defined", "items", "annotators", "annotations"):
        if key in report:
            table.add_row(key.replace("_", " "), f"{report[key]:,}")
    return table


def _write_consensus(
    stream: IO[str], data: CodedAnnotations, consensus: Consensus, soft: bool
) -> None:
    writer = csv.writer(stream, lineterminator="\n")
    header = ["item", "label", "confidence"]
    if soft:
        header += [f"p_{name}" for name in data.label_names]
    writer.writerow(header)
    for item, (code, confidence) in enumerate(
        zip(consensus.labels.tolist(), consensus.confidence.tolist(), strict=True)
    ):
        label = "" if code == UNRESOLVED else data.label_names[code]
        row = [data.item_names[item], label, f"{confidence:.6g}"]
        if soft:
            row += [f"{p:.6g}" for p in consensus.probabilities[item].tolist()]
        writer.writerow(row)


def _load(path: Path, columns: Columns) -> CodedAnnotations:
    """Read and code the file, or exit with code 2 and a message naming the line and field."""
    lines = array("q")
    try:
        data = encode(_read_rows(path, columns, lines))
    except InputError as error:
        raise fail(str(error), 2) from None
    if data.items.size == 0:
        raise fail(f"{path}: no annotations in the file", 2)
    repeated = find_duplicates(data.items, data.annotators)
    if repeated.size:
        row = int(repeated[0])
        same = np.flatnonzero(
            (data.items[:row] == data.items[row]) & (data.annotators[:row] == data.annotators[row])
        )
        annotator = data.annotator_names[data.annotators[row]]
        item = data.item_names[data.items[row]]
        raise fail(
            f"{path}, line {lines[row]}: annotator {annotator!r} already labelled item "
            f"{item!r} on line {lines[int(same[0])]}",
            2,
        )
    return data


def _read_rows(path: Path, columns: Columns, lines: array[int]) -> Iterator[tuple[str, str, str]]:
    """(item, annotator, label) per row, recording each row's line number in `lines`."""
    suffix = path.suffix.lower()
    if suffix not in {".csv", ".jsonl", ".ndjson"}:
        raise InputError(f"{path}: expected a .csv or .jsonl file")
    try:
        with path.open(encoding="utf-8-sig", newline="") as stream:
            reader = _csv_rows if suffix == ".csv" else _jsonl_rows
            for line, row in reader(stream, str(path), columns):
                lines.append(line)
                yield row
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a directory; expected a .csv or .jsonl file") from None
    except OSError as error:
        raise InputError(f"{path}: cannot read: {error.strerror}") from None
    except UnicodeDecodeError as error:
        raise InputError(f"{path}: not UTF-8 text ({error.reason})") from None


def _csv_rows(
    stream: IO[str], name: str, columns: Columns
) -> Iterator[tuple[int, tuple[str, str, str]]]:
    reader = csv.reader(stream)
    header = next(reader, None)
    if header is None:
        raise InputError(f"{name}: the file is empty")
    positions = []
    for column in columns.names():
        if column not in header:
            raise InputError(
                f"{name}, line 1: no column {column!r} (the header has: {', '.join(header)})"
            )
        positions.append(header.index(column))
    try:
        for record in reader:
            if not record:
                continue
            fields = []
            for column, position in zip(columns.names(), positions, strict=True):
                value = record[position].strip() if position < len(record) else ""
                if not value:
                    raise InputError(f"{name}, line {reader.line_num}: column {column!r} is empty")
                fields.append(value)
            yield reader.line_num, (fields[0], fields[1], fields[2])
    except csv.Error as error:
        raise InputError(f"{name}, line {reader.line_num}: {error}") from None


def _jsonl_rows(
    stream: IO[str], name: str, columns: Columns
) -> Iterator[tuple[int, tuple[str, str, str]]]:
    for line, text in enumerate(stream, start=1):
        if not text.strip():
            continue
        try:
            record = orjson.loads(text)
        except orjson.JSONDecodeError as error:
            raise InputError(f"{name}, line {line}: not valid JSON ({error})") from None
        if not isinstance(record, dict):
            raise InputError(f"{name}, line {line}: expected a JSON object")
        fields = [_json_field(record, column, name, line) for column in columns.names()]
        yield line, (fields[0], fields[1], fields[2])


def _json_field(record: dict[str, Hashable], column: str, name: str, line: int) -> str:
    if column not in record:
        raise InputError(f"{name}, line {line}: no field {column!r}")
    value = record[column]
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise InputError(
            f"{name}, line {line}: field {column!r} must be a string or a number, "
            f"not {orjson.dumps(value).decode()}"
        )
    text = value.strip() if isinstance(value, str) else orjson.dumps(value).decode()
    if not text:
        raise InputError(f"{name}, line {line}: field {column!r} is empty")
    return text
