"""Answers are the same when their canonical JSON is: key order aside, JSON's own types."""

from __future__ import annotations

from labelwise.canonical import canonical_json, same_json


def test_key_order_does_not_count() -> None:
    spans = [{"start": 0, "end": 4, "label": "PRODUCT"}]
    reordered = [{"label": "PRODUCT", "end": 4, "start": 0}]
    assert same_json({"spans": spans, "team": "billing"}, {"team": "billing", "spans": reordered})
    assert canonical_json({"b": 1, "a": 2}) == b'{"a":2,"b":1}'


def test_what_json_tells_apart_stays_apart() -> None:
    assert not same_json(["a", "b"], ["b", "a"])
    assert not same_json(1, True)
    assert not same_json(1, 1.0)
    assert not same_json(None, "")
