"""`labelwise quality aggregate|agreement`, driven through typer's runner on real files."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from click.testing import Result
from typer.testing import CliRunner

from labelwise.cli.quality import app


def run(*args: str | Path) -> Result:
    return CliRunner().invoke(app, [str(arg) for arg in args])


# q1: a a b -> a. q2: a b -> tie. q3: b b b -> b.
ROWS = [
    ("q1", "ann", "a"),
    ("q1", "bob", "a"),
    ("q1", "cat", "b"),
    ("q2", "ann", "a"),
    ("q2", "bob", "b"),
    ("q3", "ann", "b"),
    ("q3", "bob", "b"),
    ("q3", "cat", "b"),
]


def write_csv(path: Path, rows: list[tuple[str, ...]]) -> Path:
    path.write_text("item,annotator,label\n" + "".join(",".join(row) + "\n" for row in rows))
    return path


@pytest.fixture
def answers(tmp_path: Path) -> Path:
    return write_csv(tmp_path / "answers.csv", ROWS)


def read_output(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_majority_writes_csv_and_reports_ties(answers: Path) -> None:
    result = run("aggregate", "--input", answers, "--method", "majority")
    assert result.exit_code == 0, result.output
    rows = read_output(result.stdout)
    assert [(r["item"], r["label"], r["confidence"]) for r in rows] == [
        ("q1", "a", "0.666667"),
        ("q2", "", "0.5"),
        ("q3", "b", "1"),
    ]
    assert "tied items left unresolved: 1" in result.stderr


def test_dawid_skene_soft_labels_to_a_file(answers: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.csv"
    options = ("--method", "dawid-skene", "--soft", "--output", out)
    result = run("aggregate", "--input", answers, *options)
    assert result.exit_code == 0, result.output
    rows = read_output(out.read_text())
    assert list(rows[0]) == ["item", "label", "confidence", "p_a", "p_b"]
    for row in rows:
        assert float(row["p_a"]) + float(row["p_b"]) == pytest.approx(1.0, abs=1e-5)
    assert rows[2]["label"] == "b"
    assert "Dawid-Skene converged" in result.stderr


def test_jsonl_with_other_column_names(tmp_path: Path) -> None:
    path = tmp_path / "answers.jsonl"
    path.write_text(
        "".join(
            json.dumps({"question": i, "worker": w, "answer": int(lab == "b")}) + "\n"
            for i, w, lab in ROWS
        )
        + "\n"
    )
    result = run(
        *("agreement", "--input", path, "--metric", "krippendorff", "--json"),
        *("--item-column", "question", "--annotator-column", "worker"),
        *("--label-column", "answer", "--level", "interval"),
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["metric"] == "krippendorff" and report["level"] == "interval"
    assert (report["items"], report["annotators"], report["annotations"]) == (3, 3, 8)
    # Pairable values: q1 0,0,1  q2 0,1  q3 1,1,1 -> n = 8 (four 0s... 3 zeros, 5 ones).
    # D_o: q1 4 pairs / 2 = 2, q2 2 pairs / 1 = 2 -> 4 / 8. D_e = 2*3*5 / (8*7) = 30/56.
    # alpha = 1 - 0.5 / (30/56) = 1 - 28/30 = 1/15
    assert report["value"] == pytest.approx(1 / 15)


def test_fleiss_table(answers: Path) -> None:
    result = run("agreement", "--input", answers, "--metric", "fleiss")
    assert result.exit_code == 0, result.output
    assert "Fleiss' kappa" in result.stdout and "annotations" in result.stdout


def test_cohen_with_two_annotators_and_with_more(answers: Path, tmp_path: Path) -> None:
    pair = write_csv(tmp_path / "pair.csv", [r for r in ROWS if r[1] != "cat"])
    result = run("agreement", "--input", pair, "--metric", "cohen", "--json")
    report = json.loads(result.stdout)
    # ann a,a,b vs bob a,b,b over q1..q3: p_o = 2/3, p_e = (2*1 + 1*2) / 9 = 4/9 -> kappa 0.4
    assert report["value"] == pytest.approx(0.4) and report["shared_items"] == 3
    many = run("agreement", "--input", answers, "--metric", "cohen", "--json")
    assert len(json.loads(many.stdout)["pairs"]) == 3


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("item,annotator,label\nq1,ann,a\nq1,bob,\n", "answers.csv, line 3: column 'label' is"),
        ("item,worker,label\nq1,ann,a\n", "answers.csv, line 1: no column 'annotator'"),
        ("item,annotator,label\nq1,ann,a\nq1,ann,b\n", "line 3: annotator 'ann' already labelled"),
        ("item,annotator,label\n", "no annotations"),
        ("", "the file is empty"),
    ],
)
def test_bad_csv_names_file_line_and_field(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "answers.csv"
    path.write_text(content)
    result = run("aggregate", "--input", path, "--method", "majority")
    assert result.exit_code == 2
    assert message in " ".join(result.stderr.split())
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{not json", "answers.jsonl, line 2: not valid JSON"),
        ('["q", "a", "b"]', "line 2: expected a JSON object"),
        ('{"item": "q", "annotator": "z"}', "line 2: no field 'label'"),
        ('{"item": "q", "annotator": "z", "label": ["a"]}', "field 'label' must be a string"),
        ('{"item": "q", "annotator": "z", "label": " "}', "line 2: field 'label' is empty"),
    ],
)
def test_bad_jsonl_names_file_line_and_field(tmp_path: Path, line: str, message: str) -> None:
    path = tmp_path / "answers.jsonl"
    path.write_text('{"item": "q", "annotator": "y", "label": "a"}\n' + line + "\n")
    result = run("agreement", "--input", path, "--metric", "fleiss")
    assert result.exit_code == 2
    assert message in " ".join(result.stderr.split())


def test_wrong_file_or_level(tmp_path: Path, answers: Path) -> None:
    missing = run("agreement", "--input", tmp_path / "no.csv", "--metric", "fleiss")
    assert missing.exit_code == 2 and "no such file" in missing.stderr
    text = run("agreement", "--input", tmp_path / "a.txt", "--metric", "fleiss")
    assert text.exit_code == 2 and "expected a .csv or .jsonl file" in text.stderr
    ordinal = run("agreement", "--input", answers, "--metric", "krippendorff", "--level", "ordinal")
    assert ordinal.exit_code == 2 and "needs numeric labels" in ordinal.stderr
    unwritable = run("aggregate", "--input", answers, "--method", "majority", "--output", tmp_path)
    assert unwritable.exit_code == 2 and "cannot write the file" in unwritable.stderr
    fleiss = run("agreement", "--input", answers, "--metric", "fleiss", "--level", "interval")
    assert fleiss.exit_code == 2 and "use --metric krippendorff" in fleiss.stderr


def test_undefined_coefficient_is_null_in_json(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "same.csv", [("q1", "a", "x"), ("q1", "b", "x")])
    result = run("agreement", "--input", path, "--metric", "fleiss", "--json")
    assert json.loads(result.stdout)["value"] is None
    table = run("agreement", "--input", path, "--metric", "fleiss")
    assert "undefined" in table.stdout
