"""`extends`: templates from files and built-ins, the merge rules, cycles and missing ones."""

from pathlib import Path

import pytest

from labelwise.spec import SpecError, load_spec_file, parse_spec
from labelwise.spec._extends import builtin_templates


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_builtin_templates_are_listed_and_each_makes_a_valid_spec() -> None:
    assert builtin_templates() == ["ner", "pairwise-preference", "sentiment"]
    for name in builtin_templates():
        spec = parse_spec({"extends": name, "name": name, "slug": name})
        assert spec.slug == name and spec.questions


def test_a_file_template_merges_deeply_and_questions_merge_by_name(tmp_path: Path) -> None:
    (tmp_path / "base").mkdir()
    _write(
        tmp_path / "base" / "base.yaml",
        "name: Base\nslug: base\nworkflow: {overlap: 3, lease_minutes: 5}\n"
        "fields: [{name: text, type: text}]\n"
        "questions:\n  - {name: topic, type: single_label, labels: [a, b], title: Topic}\n"
        "  - {name: note, type: text, required: false}\n",
    )
    spec = load_spec_file(
        _write(
            tmp_path / "child.yaml",
            "extends: base/base.yaml\nslug: child\nworkflow: {lease_minutes: 20}\n"
            "questions:\n  - {name: topic, labels: [x, y, z]}\n  - {name: score, type: rating,"
            " min: 1, max: 5}\n",
        )
    )
    assert spec.slug == "child" and spec.name == "Base"
    assert spec.workflow.overlap == 3 and spec.workflow.lease_minutes == 20
    assert [q.name for q in spec.questions] == ["topic", "note", "score"]
    assert spec.questions[0].title == "Topic" and spec.questions[0].choices == ("x", "y", "z")


def test_a_template_may_extend_a_builtin(tmp_path: Path) -> None:
    _write(tmp_path / "mid.yaml", "extends: sentiment\ngoal: tweets\n")
    spec = load_spec_file(_write(tmp_path / "s.yaml", "extends: mid.yaml\nname: T\nslug: t\n"))
    assert spec.goal == "tweets" and spec.questions[0].name == "sentiment"


def test_a_cycle_is_one_error_naming_the_file_and_value(tmp_path: Path) -> None:
    _write(tmp_path / "a.yaml", "extends: b.yaml\nname: A\nslug: a\n")
    _write(tmp_path / "b.yaml", "extends: a.yaml\n")
    with pytest.raises(SpecError) as caught:
        load_spec_file(tmp_path / "a.yaml")
    [error] = caught.value.errors
    assert error.startswith(f"{tmp_path / 'b.yaml'}: extends: 'a.yaml': a cycle (")
    assert error.endswith("a.yaml)")


def test_a_file_extending_itself_is_a_cycle(tmp_path: Path) -> None:
    path = _write(tmp_path / "self.yaml", "extends: self.yaml\n")
    with pytest.raises(SpecError, match=r"self.yaml: extends: 'self.yaml': a cycle"):
        load_spec_file(path)


def test_missing_templates_name_the_file_and_the_value(tmp_path: Path) -> None:
    path = _write(tmp_path / "s.yaml", "extends: nowhere.yaml\nname: S\nslug: s\n")
    with pytest.raises(SpecError) as caught:
        load_spec_file(path)
    assert caught.value.errors == [
        f"{path}: extends: 'nowhere.yaml': no such file {tmp_path / 'nowhere.yaml'}"
    ]
    _write(path, "extends: sentimnt\nname: S\nslug: s\n")
    with pytest.raises(SpecError) as caught:
        load_spec_file(path)
    assert caught.value.errors == [
        f"{path}: extends: 'sentimnt': no such built-in template; "
        "they are ner, pairwise-preference, sentiment"
    ]


def test_a_json_spec_may_not_extend_a_path() -> None:
    with pytest.raises(SpecError, match=r"^spec: extends: 'x.yaml': a path needs a spec file"):
        parse_spec({"extends": "x.yaml", "name": "S", "slug": "s"})


def test_errors_after_merging_name_the_spec_file(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "s.yaml",
        "extends: ner\nname: S\nslug: s\nquestions: [{name: entities, min: 1}]\n",
    )
    with pytest.raises(SpecError, match=r"s.yaml: questions\[0\]\.min"):
        load_spec_file(path)
