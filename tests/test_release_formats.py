"""Release formats: each one written, read back with its own reader, and written twice."""

from __future__ import annotations

import csv
import importlib
import io
import json
import sys
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from labelwise.errors import InvalidInput
from labelwise.formats import (
    FORMATS,
    ReleaseLayout,
    ReleaseRow,
    conll,
    format_for_path,
    get_format,
    get_release_format,
    hfdataset,
    release_format_for_path,
    release_formats,
    release_table,
    write_release,
)
from labelwise.spec import parse_spec
from tests.conftest import need

SPEC = parse_spec(
    {
        "name": "Releases",
        "slug": "releases",
        "fields": [
            {"name": "text", "type": "text"},
            {"name": "meta", "type": "metadata"},
        ],
        "questions": [
            {"name": "sentiment", "type": "single_label", "labels": ["pos", "neg", "so so"]},
            {
                "name": "topics",
                "type": "multi_label",
                "labels": ["billing", {"hardware": ["laptop", "phone"]}],
            },
            {
                "name": "entities",
                "type": "spans",
                "field": "text",
                "labels": ["PER", "LOC", "New Place"],
            },
            {"name": "stars", "type": "rating", "min": 1, "max": 3},
            {"name": "score", "type": "number", "required": False},
            {"name": "note", "type": "text", "required": False},
            {"name": "pick", "type": "preference", "required": False},
        ],
    }
)
NO_SPANS = parse_spec(
    {
        "name": "Plain",
        "slug": "plain",
        "fields": [{"name": "text", "type": "text"}],
        "questions": [{"name": "sentiment", "type": "single_label", "labels": ["pos", "neg"]}],
    }
)

TEXT_1 = 'Ana 🙂 visited Zürich, "the city",\nthen =SUM(A1)'
TEXT_3 = "New York City is big"


def _library(name: str) -> Any:
    """An optional library the test extra installs; CI fails rather than skip without it."""
    try:
        return importlib.import_module(name)
    except ImportError:
        need(False, f"{name} is not installed: pip install -e '.[test]'")


def _span(text: str, part: str, label: str) -> dict[str, Any]:
    start = text.index(part)
    return {"start": start, "end": start + len(part), "label": label}


ROWS = [
    ReleaseRow(
        id=1,
        external_id="a-1",
        data={"text": TEXT_1, "meta": {"lang": "de"}, "source": "web, mail"},
        answers={
            "sentiment": "pos",
            "topics": ["billing", "hardware/laptop"],
            "entities": [_span(TEXT_1, "Ana", "PER"), _span(TEXT_1, "Zürich", "LOC")],
            "stars": 3,
            "score": 0.25,
            "note": '=cmd, "quoted"\nsecond line',
            "pick": "a",
        },
        sources={
            "sentiment": "majority",
            "topics": "majority",
            "entities": "adjudicated",
            "stars": "majority",
            "score": "annotator",
            "note": "annotator",
            "pick": "reviewed",
        },
        probabilities={
            "sentiment": {"pos": 0.75, "neg": 0.25, "so so": 0.0},
            "stars": {"3": 0.5, "2": 0.5},
        },
        annotations=[
            {
                "annotator": "ada",
                "guideline_version": 2,
                "answers": {"sentiment": "pos", "entities": [_span(TEXT_1, "Ana", "PER")]},
            },
            {"annotator": "bo", "guideline_version": 1, "answers": {"sentiment": "neg"}},
        ],
    ),
    ReleaseRow(
        id=2,
        external_id=None,
        data={"text": '=HYPERLINK("http://x")', "meta": None},
        answers={"sentiment": None, "topics": None, "entities": [], "stars": None},
        sources={"entities": "annotator"},
        probabilities={},
        annotations=[],
    ),
    ReleaseRow(
        id=3,
        external_id="c-3",
        data={"text": TEXT_3, "meta": "plain"},
        answers={
            "sentiment": "so so",
            "topics": [],
            # Overlapping, and one that covers part of a token.
            "entities": [
                {"start": 0, "end": 2, "label": "PER"},
                {"start": 0, "end": 8, "label": "New Place"},
                {"start": 4, "end": 13, "label": "LOC"},
            ],
            "stars": 1,
        },
        sources={"sentiment": "dawid-skene", "topics": "majority", "entities": "annotator"},
        probabilities={"sentiment": {"so so": 1.0}},
        annotations=[{"annotator": "ada", "guideline_version": 2, "answers": {}}],
    ),
    ReleaseRow(  # nothing settled for the spans question
        id=4,
        external_id="d-4",
        data={"text": "Lima"},
        answers={"sentiment": "neg"},
        sources={"sentiment": "majority"},
        probabilities={},
        annotations=[],
    ),
]

FULL = ReleaseLayout(SPEC.fields, SPEC.questions, soft=True, annotators=True)
PLAIN = ReleaseLayout(SPEC.fields, SPEC.questions)


def _bytes(name: str, layout: ReleaseLayout = FULL, rows: list[ReleaseRow] = ROWS) -> bytes:
    writer = FORMATS[name].release
    assert writer is not None
    return b"".join(writer(iter(rows), layout))


def _answer(row: ReleaseRow, question: str) -> Any:
    return row.answers.get(question)


# JSONL


def test_jsonl_round_trip() -> None:
    records = [orjson.loads(line) for line in _bytes("jsonl").splitlines()]
    assert [r["id"] for r in records] == [1, 2, 3, 4]
    first = records[0]
    assert list(first) == [
        "id",
        "external_id",
        "data",
        "answers",
        "sources",
        "probabilities",
        "annotations",
    ]
    assert first["data"] == ROWS[0].data
    assert first["answers"] == ROWS[0].answers
    assert list(first["answers"]) == [q.name for q in SPEC.questions]
    assert first["probabilities"]["stars"] == {"2": 0.5, "3": 0.5}  # in label order
    assert list(first["probabilities"]["stars"]) == ["2", "3"]
    assert first["annotations"][1] == {
        "annotator": "bo",
        "guideline_version": 1,
        "answers": {q.name: ("neg" if q.name == "sentiment" else None) for q in SPEC.questions},
    }
    second = records[1]
    assert second["external_id"] is None
    assert second["answers"]["entities"] == []  # "nothing to mark" stays apart from null
    assert second["answers"]["sentiment"] is None
    assert second["probabilities"] == {}


def test_jsonl_leaves_out_what_was_not_asked_for() -> None:
    record = orjson.loads(_bytes("jsonl", PLAIN).splitlines()[0])
    assert "probabilities" not in record and "annotations" not in record


# CSV


def _csv(layout: ReleaseLayout = FULL) -> list[dict[str, str]]:
    text = _bytes("csv", layout).decode()
    return list(csv.DictReader(io.StringIO(text, newline="")))


def test_csv_round_trip() -> None:
    rows = _csv()
    first = rows[0]
    assert first["id"] == "1" and first["external_id"] == "a-1"
    assert first["text"] == TEXT_1  # commas, quotes, a newline and an emoji, as they were
    assert json.loads(first["meta"]) == {"lang": "de"}
    assert json.loads(first["other_data"]) == {"source": "web, mail"}
    assert first["sentiment"] == "pos" and first["sentiment_source"] == "majority"
    assert json.loads(first["topics"]) == ["billing", "hardware/laptop"]
    assert first["entities"] == orjson.dumps(ROWS[0].answers["entities"]).decode()
    assert first["stars"] == "3" and first["score"] == "0.25"
    assert first["pick"] == "a" and first["pick_source"] == "reviewed"
    assert float(first["sentiment_p_pos"]) == 0.75
    assert float(first["sentiment_p_so so"]) == 0.0
    assert first["stars_p_1"] == "" and float(first["stars_p_3"]) == 0.5
    annotations = json.loads(first["annotations"])
    assert [a["annotator"] for a in annotations] == ["ada", "bo"]
    assert annotations[0]["answers"]["entities"] == [_span(TEXT_1, "Ana", "PER")]
    second = rows[1]
    assert second["external_id"] == "" and second["sentiment"] == ""
    assert second["entities"] == "[]" and second["meta"] == ""
    assert json.loads(rows[2]["topics"]) == []


def test_csv_neutralises_formulas() -> None:
    rows = _csv()
    assert rows[0]["note"] == "'" + ROWS[0].answers["note"]
    assert rows[1]["text"] == "'" + ROWS[1].data["text"]


def test_csv_columns_follow_the_layout() -> None:
    header = next(csv.reader(io.StringIO(_bytes("csv", PLAIN).decode())))
    assert header == [
        "id",
        "external_id",
        "text",
        "meta",
        "other_data",
        *(name for q in SPEC.questions for name in (q.name, f"{q.name}_source")),
    ]
    full = next(csv.reader(io.StringIO(_bytes("csv").decode())))
    soft = [name for name in full if "_p_" in name]
    assert soft == [
        "sentiment_p_pos",
        "sentiment_p_neg",
        "sentiment_p_so so",
        "topics_p_billing",
        "topics_p_hardware/laptop",
        "topics_p_hardware/phone",
        "stars_p_1",
        "stars_p_2",
        "stars_p_3",
        "pick_p_a",
        "pick_p_b",
        "pick_p_tie",
    ]
    assert full[-1] == "annotations"


# Parquet


def _parquet(layout: ReleaseLayout = FULL, rows: list[ReleaseRow] = ROWS) -> pa.Table:
    return pq.read_table(io.BytesIO(_bytes("parquet", layout, rows)))


def test_parquet_round_trip() -> None:
    table = _parquet()
    assert table.schema.field("stars").type == pa.int64()
    assert table.schema.field("score").type == pa.float64()
    records = table.to_pylist()
    for record, row in zip(records, ROWS, strict=True):
        assert record["id"] == row.id and record["external_id"] == row.external_id
        assert record["text"] == row.data["text"]  # no formula quoting in a typed format
        for question in SPEC.questions:
            assert record[question.name] == _answer(row, question.name), question.name
            assert record[f"{question.name}_source"] == row.sources.get(question.name)
    assert records[0]["sentiment_p_neg"] == 0.25 and records[0]["stars_p_1"] is None
    assert records[2]["sentiment_p_so so"] == 1.0
    annotations = records[0]["annotations"]
    assert annotations[0]["answers"]["entities"] == [_span(TEXT_1, "Ana", "PER")]
    assert annotations[1]["answers"]["sentiment"] == "neg"
    assert annotations[1]["guideline_version"] == 1


def test_parquet_writes_a_row_group_per_batch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(release_table, "BATCH", 3)
    monkeypatch.setattr(release_table.batches, "__defaults__", (3,))
    many = [row._replace(id=n) for n in range(10) for row in ROWS[:1]]
    data = _bytes("parquet", PLAIN, many)
    parquet = pq.ParquetFile(io.BytesIO(data))
    assert parquet.metadata.num_row_groups == 4
    assert parquet.read().column("id").to_pylist() == list(range(10))


def test_a_wrongly_typed_answer_names_the_item() -> None:
    bad = ROWS[0]._replace(id=7, answers={**ROWS[0].answers, "stars": "three"})
    with pytest.raises(InvalidInput, match=r"item 7: column 'stars': \"three\""):
        _parquet(PLAIN, [ROWS[1], bad])


# Hugging Face


def _hf(tmp_path: Path, layout: ReleaseLayout = FULL, rows: list[ReleaseRow] = ROWS) -> Path:
    tmp_path.mkdir(exist_ok=True)
    out = tmp_path / "dataset"
    write_release(FORMATS["hf"], iter(rows), layout, out)
    return out


def test_hf_dataset_loads_with_datasets(tmp_path: Path) -> None:
    datasets = _library("datasets")
    ds = datasets.load_from_disk(str(_hf(tmp_path)))
    assert ds.num_rows == 4
    features = ds.features
    assert isinstance(features["sentiment"], datasets.ClassLabel)
    assert features["sentiment"].names == ["pos", "neg", "so so"]
    sentiment = features["sentiment"]
    assert [sentiment.int2str(v) if v is not None else None for v in ds["sentiment"]] == [
        _answer(row, "sentiment") for row in ROWS
    ]
    topics = features["topics"].feature
    assert [topics.int2str(v) for v in ds[0]["topics"]] == ["billing", "hardware/laptop"]
    labels = ["PER", "LOC", "New Place"]
    spans = [{**s, "label": labels[s["label"]]} for s in ds[0]["entities"]]
    assert spans == ROWS[0].answers["entities"]
    assert ds[2]["entities"][1] == {"start": 0, "end": 8, "label": 2}
    assert ds[1]["entities"] == [] and ds[3]["entities"] is None
    assert ds["stars"] == [3, None, 1, None] and ds[0]["score"] == 0.25
    assert ds[0]["note"] == ROWS[0].answers["note"] and ds[0]["pick"] == "a"
    assert ds[0]["text"] == TEXT_1 and json.loads(ds[0]["other_data"]) == {"source": "web, mail"}
    assert ds[0]["sentiment_probabilities"] == [0.75, 0.25, 0.0]
    assert ds[0]["stars_probabilities"] == [None, 0.5, 0.5]
    assert ds[1]["sentiment_probabilities"] is None
    assert ds[0]["annotations"][0]["annotator"] == "ada"
    assert ds[0]["annotations"][1]["answers"]["sentiment"] == 1  # "neg"
    assert ds[0]["annotations"][0]["answers"]["entities"] == [{"start": 0, "end": 3, "label": 0}]
    # The fingerprint comes from the content: loading again gives the same one.
    assert datasets.load_from_disk(str(tmp_path / "dataset"))._fingerprint == ds._fingerprint


def test_hf_fingerprint_follows_the_content(tmp_path: Path) -> None:
    def fingerprint(out: Path) -> str:
        return str(json.loads((out / hfdataset.STATE_FILE).read_text())["_fingerprint"])

    first = fingerprint(_hf(tmp_path / "a"))
    changed = [ROWS[0]._replace(answers={**ROWS[0].answers, "stars": 2}), *ROWS[1:]]
    assert len(first) == 16 and int(first, 16) >= 0
    assert fingerprint(_hf(tmp_path / "b")) == first
    assert fingerprint(_hf(tmp_path / "c", FULL, changed)) != first


def test_hf_dataset_without_soft_labels_or_annotators(tmp_path: Path) -> None:
    datasets = _library("datasets")
    ds = datasets.load_from_disk(str(_hf(tmp_path, PLAIN)))
    assert "annotations" not in ds.column_names
    assert not [name for name in ds.column_names if name.endswith("_probabilities")]


def test_hf_dataset_in_several_batches(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    datasets = _library("datasets")
    monkeypatch.setattr(release_table.batches, "__defaults__", (2,))
    many = [row._replace(id=n) for n in range(5) for row in ROWS[:1]]
    out = _hf(tmp_path, FULL, many)
    with pa.ipc.open_stream(out / hfdataset.DATA_FILE) as reader:
        assert len(list(reader)) == 3
    assert datasets.load_from_disk(str(out))["id"] == list(range(5))


def test_hf_features_need_no_datasets_5(tmp_path: Path) -> None:
    """Features in the form datasets 2.x and 3.x read too: no "List" type."""
    info = (_hf(tmp_path) / hfdataset.INFO_FILE).read_text()
    assert '"List"' not in info and '"Sequence"' in info


def test_hf_label_outside_the_spec_names_the_item(tmp_path: Path) -> None:
    bad = ROWS[0]._replace(id=9, answers={**ROWS[0].answers, "sentiment": "angry"})
    with pytest.raises(InvalidInput, match="item 9: question 'sentiment': 'angry'"):
        _hf(tmp_path, PLAIN, [bad])
    assert list(tmp_path.iterdir()) == []  # nothing half-written is left


# spaCy


def _docs(data: bytes) -> list[Any]:
    spacy = _library("spacy")
    from spacy.tokens import DocBin

    return list(DocBin().from_bytes(data).get_docs(spacy.blank("en").vocab))


def test_spacy_docbin_round_trip() -> None:
    docs = _docs(_bytes("spacy"))
    assert [doc.user_data["id"] for doc in docs] == [1, 2, 3, 4]
    first = docs[0]
    assert first.text == TEXT_1
    assert [(s.start_char, s.end_char, s.label_) for s in first.spans["entities"]] == [
        (s["start"], s["end"], s["label"]) for s in ROWS[0].answers["entities"]
    ]
    assert [(e.text, e.label_) for e in first.ents] == [("Ana", "PER"), ("Zürich", "LOC")]
    assert first.user_data["external_id"] == "a-1" and first.user_data["field"] == "text"
    assert first.user_data["annotations"][1]["answers"]["sentiment"] == "neg"
    # Nothing to mark: an empty group, and every token outside an entity.
    assert list(docs[1].spans["entities"]) == []
    assert {token.ent_iob_ for token in docs[1]} == {"O"}


def test_spacy_expands_partial_tokens_and_leaves_overlapping_ents_unset() -> None:
    third = _docs(_bytes("spacy"))[2]
    assert [(s.text, s.label_) for s in third.spans["entities"]] == [
        ("New", "PER"),  # chars 0-2 expanded to the whole token
        ("New York", "New Place"),
        ("York City", "LOC"),
    ]
    assert third.ents == ()
    assert {token.ent_iob_ for token in third} == {""}  # unknown, not "no entity"


def test_spacy_without_a_settled_answer() -> None:
    fourth = _docs(_bytes("spacy"))[3]
    assert "entities" not in fourth.spans
    assert {token.ent_iob_ for token in fourth} == {""}


def test_spacy_missing_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "spacy", None)  # import spacy now fails
    with pytest.raises(InvalidInput, match=r"pip install 'labelwise\[spacy\]'"):
        _bytes("spacy")


# CoNLL-2003


# A test-side CoNLL-2003 reader: what a consumer of the file would do.


def _read_conll(lines: Iterable[str]) -> Iterator[list[tuple[str, str]]]:
    """The documents of a CoNLL-2003 file as lists of (token, tag); -DOCSTART- lines and
    blank lines separate documents. The NER tag is the last column."""
    document: list[tuple[str, str]] = []
    for line in lines:
        parts = line.split()
        if not parts or parts[0] == "-DOCSTART-":
            if document:
                yield document
            document = []
            continue
        document.append((parts[0], parts[-1]))
    if document:
        yield document


def _entities(tags: Sequence[str]) -> list[conll.Entity]:
    """The entities of IOB2 tags as token ranges; a stray I- starts an entity (IOB1 style)."""
    found: list[conll.Entity] = []
    start, label = -1, ""
    for i, tag in enumerate([*tags, "O"]):
        prefix, _, name = tag.partition("-")
        continues = prefix == "I" and name == label and start >= 0
        if start >= 0 and not continues:
            found.append((start, i, label))
            start = -1
        if prefix in ("B", "I") and not continues:
            start, label = i, name
    return found


def _conll_documents(data: bytes) -> list[list[tuple[str, str]]]:
    return list(_read_conll(data.decode().splitlines()))


def _char_entities(text: str, tags: list[str]) -> list[tuple[str, str]]:
    tokens = conll.tokenize(text)
    return [
        (text[tokens[first][0] : tokens[last - 1][1]], label)
        for first, last, label in _entities(tags)
    ]


def test_conll_round_trip() -> None:
    data = _bytes("conll")
    assert data.startswith(b"-DOCSTART- -X- -X- O\n\n")
    assert data.endswith(b" O\n\n")
    documents = _conll_documents(data)
    assert len(documents) == 3  # item 4 has no settled spans
    first = documents[0]
    assert [token for token, _ in first] == [TEXT_1[a:b] for a, b in conll.tokenize(TEXT_1)]
    assert ("🙂", "O") in first
    assert _char_entities(TEXT_1, [tag for _, tag in first]) == [("Ana", "PER"), ("Zürich", "LOC")]
    assert {tag for _, tag in documents[1]} == {"O"}
    for line in data.decode().splitlines():
        assert line == "" or len(line.split(" ")) == 4


def test_conll_keeps_the_earliest_longest_of_overlapping_spans() -> None:
    third = _conll_documents(_bytes("conll"))[2]
    assert third[:4] == [
        ("New", "B-New_Place"),  # a space in a label becomes _
        ("York", "I-New_Place"),
        ("City", "O"),  # "York City" overlaps and is dropped, "Ne" is shorter
        ("is", "O"),
    ]


def test_conll_entities_reads_iob2() -> None:
    assert _entities(["B-X", "I-X", "B-X", "O", "I-Y", "I-Z"]) == [
        (0, 2, "X"),
        (2, 3, "X"),
        (4, 5, "Y"),
        (5, 6, "Z"),
    ]


def test_conll_partial_token_takes_the_label() -> None:
    tokens = conll.tokenize("Ab cd, ef")
    assert tokens == [(0, 2), (3, 5), (5, 6), (7, 9)]
    found = conll.token_entities(tokens, [{"start": 4, "end": 8, "label": "L"}])
    assert found == [(1, 4, "L")]
    assert conll.iob_tags(4, found) == ["O", "B-L", "I-L", "I-L"]


# Every format


RELEASE_FORMATS = ["jsonl", "csv", "parquet", "hf", "spacy", "conll"]


def _written(tmp_path: Path, name: str, rows: list[ReleaseRow], tag: str) -> dict[str, bytes]:
    if name == "spacy":
        _library("spacy")
    out = write_release(FORMATS[name], iter(rows), FULL, tmp_path / f"{tag}.{name}")
    if out.is_dir():
        return {path.name: path.read_bytes() for path in sorted(out.iterdir())}
    return {out.name.removeprefix(tag): out.read_bytes()}


@pytest.mark.parametrize("name", RELEASE_FORMATS)
def test_same_rows_give_the_same_bytes(tmp_path: Path, name: str) -> None:
    once = _written(tmp_path, name, ROWS, "once")
    twice = _written(tmp_path, name, ROWS, "twice")
    assert once == twice
    assert all(once.values())


def _reordered(row: ReleaseRow) -> ReleaseRow:
    """The same row with every mapping in another key order, as another database returns it."""

    def flip(value: Any) -> Any:
        if isinstance(value, dict):
            return {key: flip(value[key]) for key in reversed(list(value))}
        if isinstance(value, list):
            return [flip(v) for v in value]
        return value

    return ReleaseRow(
        row.id,
        row.external_id,
        flip(row.data),
        flip(row.answers),
        flip(row.sources),
        flip(row.probabilities),
        flip(row.annotations),
    )


@pytest.mark.parametrize("name", ["jsonl", "csv", "parquet", "hf", "conll"])
def test_key_order_does_not_change_the_bytes(tmp_path: Path, name: str) -> None:
    once = _written(tmp_path, name, ROWS, "once")
    reordered = _written(tmp_path, name, [_reordered(row) for row in ROWS], "again")
    assert once == reordered


def test_writers_stream_in_chunks() -> None:
    writer = FORMATS["jsonl"].release
    assert writer is not None
    chunks: Iterator[bytes] = writer(iter(ROWS), FULL)
    assert isinstance(chunks, Iterator)  # nothing built before the caller asks


# The registry and its errors


def test_release_formats_are_listed() -> None:
    assert release_formats() == RELEASE_FORMATS
    no_spans = ReleaseLayout(NO_SPANS.fields, NO_SPANS.questions)
    assert release_formats(no_spans) == ["jsonl", "csv", "parquet", "hf"]
    assert get_release_format("hf").release_directory is hfdataset.write_release
    assert get_release_format("conll").release is conll.write_release


@pytest.mark.parametrize("name", ["json", "xlsx"])
def test_an_unknown_release_format_lists_the_usable_ones(name: str) -> None:
    with pytest.raises(InvalidInput) as error:
        get_release_format(name)
    assert str(error.value) == (
        f"format {name!r} cannot export a release; use one of jsonl, csv, parquet, hf, spacy, conll"
    )


@pytest.mark.parametrize("name", ["spacy", "conll"])
def test_span_formats_refuse_a_project_without_spans(tmp_path: Path, name: str) -> None:
    layout = ReleaseLayout(NO_SPANS.fields, NO_SPANS.questions)
    message = rf"format '{name}' writes span annotations.*no spans question.*sentiment"
    with pytest.raises(InvalidInput, match=message):
        get_release_format(name, layout)
    with pytest.raises(InvalidInput, match=message):
        write_release(FORMATS[name], iter([]), layout, tmp_path / f"out.{name}")
    writer = FORMATS[name].release
    assert writer is not None
    with pytest.raises(InvalidInput, match=message):
        writer(iter([]), layout)  # at the call, before any byte is asked for
    assert list(tmp_path.iterdir()) == []


def test_release_format_for_path() -> None:
    assert release_format_for_path("out/v1.CONLL") is FORMATS["conll"]
    assert release_format_for_path("v1.spacy") is FORMATS["spacy"]
    assert release_format_for_path("v1.pq") is FORMATS["parquet"]
    with pytest.raises(InvalidInput, match="say which format with --format"):
        release_format_for_path("v1-dataset")  # a directory: hf has no extension


def test_release_only_formats_stay_out_of_import_and_live_export() -> None:
    for name in ("hf", "spacy", "conll"):
        with pytest.raises(InvalidInput):
            get_format(name, for_export=True)
    with pytest.raises(InvalidInput, match=r"unknown file type '\.conll'"):
        format_for_path("items.conll")
    assert get_format("csv", for_export=True).write is not None


def test_write_release_refuses_a_directory_with_files(tmp_path: Path) -> None:
    out = tmp_path / "dataset"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    with pytest.raises(InvalidInput, match="not an empty directory"):
        write_release(FORMATS["hf"], iter(ROWS), FULL, out)
    assert [p.name for p in out.iterdir()] == ["keep.txt"]


def test_a_failed_release_leaves_no_file(tmp_path: Path) -> None:
    def rows() -> Iterator[ReleaseRow]:
        yield ROWS[0]
        raise RuntimeError("the database went away")

    target = tmp_path / "release.jsonl"
    target.write_bytes(b"the previous export\n")
    with pytest.raises(RuntimeError):
        write_release(FORMATS["jsonl"], rows(), FULL, target)
    assert [p.name for p in tmp_path.iterdir()] == ["release.jsonl"]
    assert target.read_bytes() == b"the previous export\n"


def test_write_release_into_a_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="does not exist"):
        write_release(FORMATS["csv"], iter(ROWS), FULL, tmp_path / "nowhere" / "r.csv")
