"""Coding rows into arrays, and the public surface of the package."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import numpy as np
import pytest

import labelwise.quality
from labelwise.quality import encode, find_duplicates, label_values, sort_labels, vote_counts


def test_encode_codes_by_appearance_and_sorts_labels() -> None:
    coded = encode([("q1", "ann", "10"), ("q1", "bob", "2"), ("q2", "ann", "2")])
    assert coded.items.tolist() == [0, 0, 1]
    assert coded.annotators.tolist() == [0, 1, 0]
    assert coded.label_names == ("2", "10")  # numerically, not as text
    assert coded.labels.tolist() == [1, 0, 0]


def test_encode_follows_a_given_label_order() -> None:
    coded = encode([("a", "x", "low"), ("b", "x", "high")], label_order=["low", "mid", "high"])
    assert coded.labels.tolist() == [0, 2]
    assert coded.label_names == ("low", "mid", "high")
    with pytest.raises(ValueError, match="'other'"):
        encode([("a", "x", "other")], label_order=["low"])


def test_sort_labels_and_values() -> None:
    assert sort_labels(["b", "a", "10"]) == ("10", "a", "b")
    assert sort_labels([3, "1.5", 2]) == ("1.5", 2, 3)
    assert label_values(["1.5", 2, "-3"]).tolist() == [1.5, 2.0, -3.0]
    with pytest.raises(ValueError, match="'cat'"):
        label_values(["1", "cat"])


def test_duplicates_and_vote_counts() -> None:
    # Row 3 repeats (item 0, annotator 1) from row 1.
    assert find_duplicates([0, 0, 1, 0], [0, 1, 1, 1]).tolist() == [3]
    assert find_duplicates([], []).tolist() == []
    counts = vote_counts([0, 0, 1], [1, 1, 0], 2, 3)
    assert counts.tolist() == [[0, 2, 0], [1, 0, 0]]


def test_all_is_explicit_and_complete() -> None:
    exported = set(labelwise.quality.__all__)
    public = {name for name in vars(labelwise.quality) if not name.startswith("_")}
    modules = {name for name in public if isinstance(getattr(labelwise.quality, name), type(sys))}
    assert exported == public - modules
    assert all(hasattr(labelwise.quality, name) for name in exported)


def test_the_core_imports_only_numpy_scipy_and_the_standard_library() -> None:
    allowed = {"numpy", "scipy", "labelwise", "__future__"} | set(sys.stdlib_module_names)
    package = Path(labelwise.quality.__file__).parent
    for module in package.glob("*.py"):
        for node in ast.walk(ast.parse(module.read_text())):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            for name in names:
                assert name.split(".")[0] in allowed, f"{module.name} imports {name}"
                if name.startswith("labelwise"):
                    assert name.startswith("labelwise.quality"), f"{module.name} imports {name}"


def test_codes_are_machine_integers() -> None:
    coded = encode([("a", "x", "y")])
    assert coded.items.dtype == np.intp
