"""A project spec to send: a dict as it is, or a YAML/JSON file read here.

A file is read on the caller's machine, as `labelwise projects apply` reads it: the files it
`extends` are found beside it and merged in, and the markdown of its `guidelines_file` is
sent inline as `guidelines` (the server cannot see the caller's files).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from labelwise.client._errors import Invalid


def spec_body(spec: Mapping[str, Any] | str | os.PathLike[str]) -> dict[str, Any]:
    if isinstance(spec, Mapping):
        return dict(spec)
    # Only here: the spec loader needs pydantic, which the rest of the SDK does not.
    from labelwise.spec import SpecError, read_spec_file

    path = Path(spec)
    try:
        data = read_spec_file(path)
    except SpecError as error:
        raise Invalid("invalid project spec", error.errors) from None
    if not isinstance(data, dict):
        raise Invalid(f"{path}: a project spec must be a mapping (name, slug, fields, ...)")
    return _inline_guidelines(data, path)


def _inline_guidelines(data: dict[str, Any], path: Path) -> dict[str, Any]:
    name = data.get("guidelines_file")
    if not isinstance(name, str):
        return data  # absent, or not a path: the server's answer names the problem
    target = path.parent / name
    try:
        text = target.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        reason = getattr(error, "strerror", None) or str(error)
        raise Invalid(f"{path}: guidelines_file: {target}: {reason}") from None
    body = {k: v for k, v in data.items() if k != "guidelines_file"}
    body["guidelines"] = text
    body.setdefault("guidelines_note", f"from {name}")
    return body
