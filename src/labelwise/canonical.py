"""Answers compared as canonical JSON: the same when they serialise alike with sorted keys.

Gold scoring, the disagreement test before adjudication, a release's majority of texts and
a repeated submit compare answers this one way, so two answers are never equal in one place
and not another.
"""

from __future__ import annotations

from typing import Any

import orjson


def canonical_json(value: Any) -> bytes:
    """`value` as JSON with sorted keys: a key to group or compare answers by."""
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)


def same_json(a: Any, b: Any) -> bool:
    return canonical_json(a) == canonical_json(b)
