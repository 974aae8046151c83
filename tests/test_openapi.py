"""The response shapes in the OpenAPI document, pinned: SDKs and the UI read these fields.

Most endpoints answer with the services' own dataclasses, so a field renamed, retyped or given
a default in a service changes the API. Each endpoint's response is flattened here into its
fields (nested objects as dicts, lists as one-element lists, a `?` after a field the schema
does not require) and compared with the table, whatever the schemas are named.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from labelwise.app import create_app
from labelwise.settings import Settings

Shape = dict[str, Any] | list[Any] | str

ESCALATION = {
    "id": "integer",
    "item_id": "integer",
    "external_id": "string|null",
    "asked_by": "string",
    "question": "string",
    "created_at": "date-time",
    "answer": "string|null",
    "answered_by": "string|null",
    "answered_at": "date-time|null",
}
COMMENT = {
    "id": "integer",
    "item_id": "integer",
    "author": "string",
    "body": "string",
    "created_at": "date-time",
}
REVIEW = {
    "annotation_id": "integer",
    "reviewer": "string",
    "verdict": "string",
    "feedback": "string|null",
    "corrected_answers": "object|null",
    "revision": "integer",
    "created_at": "date-time",
}
ANNOTATION = {
    "id": "integer",
    "annotator": "string",
    "answers": "object",
    "time_ms": "integer|null",
    "revision": "integer",
    "review_status": "string",
    "created_at": "date-time",
    "updated_at": "date-time",
    "reviews": [REVIEW],
}
VERSION_SUMMARY = {
    "number": "integer",
    "note": "string",
    "published_by": "string|null",
    "published_at": "date-time",
}
VERSION = {**VERSION_SUMMARY, "body": "string"}
EXAMPLE = {
    "id": "integer",
    "item_id": "integer",
    "external_id": "string|null",
    "data": "object",
    "answers": "object",
    "why": "string",
    "kind": "string",
    "added_in": "integer|null",
}
RELEASE = {
    "name": "string",
    "method": "string",
    "items": "integer",
    "content_hash": "string",
    "created_at": "date-time",
    "created_by": "string|null",
}
EVENT = {
    "id": "integer",
    "seq": "integer",
    "actor": "string|null",
    "action": "string",
    "target_type": "string",
    "target_id": "string|null",
    "before": "any",
    "after": "any",
    "created_at": "date-time",
    "hash": "string",
}
MEMBER = {"username": "string", "role": "owner|manager|reviewer|annotator|viewer"}
FINDING = {
    "check": "string",
    "message": "string",
    "item_id": "integer|null",
    "external_id": "string|null",
    "annotation_id": "integer|null",
    "username": "string|null",
    "created_at": "date-time",
}
GOLD_RESULT = {
    "item_id": "integer",
    "external_id": "string|null",
    "answers": "object",
    "gold": "object",
    "explanation": "string|null",
    "correct": "boolean",
}

P = "/api/v1/projects/{slug}"
SHAPES: dict[tuple[str, str], Shape] = {
    ("get", f"{P}/members"): [MEMBER],
    ("put", f"{P}/members/{{username}}"): MEMBER,
    ("get", f"{P}/escalations"): [ESCALATION],
    ("get", f"{P}/items/{{item_id}}/comments"): [COMMENT],
    ("get", f"{P}/items/{{item_id}}"): {
        "id": "integer",
        "external_id": "string|null",
        "status": "string",
        "data": "object",
        "final_answers": "object|null",
        "annotations": [ANNOTATION],
        "comments": [COMMENT],
        "escalations": [ESCALATION],
    },
    ("get", "/api/v1/annotations/{annotation_id}/history"): {
        "annotation": ANNOTATION,
        "revisions": [
            {
                "revision": "integer",
                "answers": "object",
                "time_ms": "integer|null",
                "created_at": "date-time",
            }
        ],
    },
    ("get", f"{P}/feedback"): {"reviews": [REVIEW], "escalations": [ESCALATION]},
    ("get", f"{P}/qualification"): {
        "required": "boolean",
        "status": "string",
        "answered": "integer",
        "correct": "integer",
        "items": "integer",
        "min_accuracy": "number",
        "results": [GOLD_RESULT],
    },
    ("post", f"{P}/checks/run"): {
        "checks": ["string"],
        "counts": "object<integer>",
        "sent_to_review": "integer",
    },
    ("get", f"{P}/checks"): [FINDING],
    ("put", f"{P}/priorities"): {"updated": "integer", "unknown": ["string"]},
    ("get", f"{P}/activity"): {"events": [EVENT], "next_cursor": "string|null"},
    ("get", f"{P}/history/{{target_type}}/{{target_id}}"): [EVENT],
    ("get", f"{P}/guidelines"): [VERSION_SUMMARY],
    ("get", f"{P}/guidelines/current"): VERSION,
    ("get", f"{P}/guidelines/{{number}}"): VERSION,
    ("get", f"{P}/guidelines/pending"): {
        "current": "integer|null",
        "acknowledged": "integer|null",
        "changes": [{"number": "integer", "note": "string", "published_at": "date-time"}],
        "diff": "string",
    },
    ("get", f"{P}/guidelines/diff/{{a}}/{{b}}"): {"a": "integer", "b": "integer", "diff": "string"},
    ("get", f"{P}/guidelines/examples"): [EXAMPLE],
    ("post", f"{P}/guidelines/examples"): EXAMPLE,
    ("get", f"{P}/releases"): [RELEASE],
    ("post", f"{P}/releases"): {**RELEASE, "card": "string"},
    ("get", f"{P}/releases/{{name}}"): {**RELEASE, "card": "string"},
    ("get", f"{P}/releases/{{old}}/diff/{{new}}"): {
        "old": "string",
        "new": "string",
        "added": "integer",
        "removed": "integer",
        "changed": "integer",
        "changed_by_question": "object<integer>",
        "added_items": ["string"],
        "removed_items": ["string"],
        "changes": ["object"],
    },
}

# Field descriptions clients show as help: endpoint -> dotted field path -> text.
EVENT_HELP = {
    "seq": "Position in the project's hash chain, from 1.",
    "actor": "Username; null for the CLI or the system.",
    "action": 'What happened, e.g. "annotation.revised".',
    "hash": "This event's link in the chain (`labelwise audit verify`).",
}
VERSION_HELP = {"note": "The one-line changelog of this version.", "body": "Markdown."}
EXAMPLE_HELP = {
    "data": "The item's data, as imported.",
    "added_in": "The guidelines version current when added.",
}
DESCRIPTIONS: dict[tuple[str, str], dict[str, str]] = {
    ("get", f"{P}/feedback"): {
        "reviews": "Rejections and corrections of your work.",
        "escalations": "Your questions and their answers.",
    },
    ("get", f"{P}/qualification"): {
        "status": "not_required, pending, passed or failed",
        "results": "Each test item, once the test is over.",
    },
    ("get", f"{P}/activity"): {
        "events": "Newest first.",
        "next_cursor": "Pass as `cursor` for the next (older) page; null at the end.",
        **{f"events.{name}": text for name, text in EVENT_HELP.items()},
    },
    ("get", f"{P}/history/{{target_type}}/{{target_id}}"): EVENT_HELP,
    ("put", f"{P}/priorities"): {
        "updated": "Items whose priority was set.",
        "unknown": "Ids with no item in the project.",
    },
    ("get", f"{P}/guidelines/current"): VERSION_HELP,
    ("get", f"{P}/guidelines/{{number}}"): VERSION_HELP,
    ("get", f"{P}/guidelines/pending"): {"changes": "Versions to acknowledge, oldest first."},
    ("get", f"{P}/guidelines/diff/{{a}}/{{b}}"): {
        "diff": "A unified line diff from version a to version b."
    },
    ("get", f"{P}/guidelines/examples"): EXAMPLE_HELP,
    ("post", f"{P}/guidelines/examples"): EXAMPLE_HELP,
}


@pytest.fixture(scope="module")
def document(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    data_dir: Path = tmp_path_factory.mktemp("openapi")
    app = create_app(Settings(data_dir=data_dir, secret_key="k" * 48))
    openapi: dict[str, Any] = app.openapi()
    return openapi


def response_schema(document: dict[str, Any], method: str, path: str) -> dict[str, Any]:
    responses = document["paths"][path][method]["responses"]
    (ok,) = [answer for code, answer in responses.items() if code.startswith("2")]
    schema: dict[str, Any] = ok["content"]["application/json"]["schema"]
    return schema


def shape(schema: dict[str, Any], document: dict[str, Any]) -> Shape:
    """The schema as nested dicts, lists and type names; `$ref`s followed, titles dropped."""
    if "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    if "anyOf" in schema:
        return "|".join(str(shape(part, document)) for part in schema["anyOf"])
    if "enum" in schema:
        return "|".join(schema["enum"])
    kind = schema.get("type", "any")
    if kind == "array":
        return [shape(schema["items"], document)]
    if kind == "object" and "properties" in schema:
        required = set(schema.get("required", ()))
        return {
            name + ("" if name in required else "?"): shape(field, document)
            for name, field in schema["properties"].items()
        }
    if kind == "object" and isinstance(schema.get("additionalProperties"), dict):
        return f"object<{shape(schema['additionalProperties'], document)}>"
    return str(schema.get("format", kind))


def descriptions(schema: dict[str, Any], document: dict[str, Any], at: str = "") -> dict[str, str]:
    """Every field description under the schema, by dotted path (list items share the path)."""
    if "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    if schema.get("type") == "array":
        return descriptions(schema["items"], document, at)
    found: dict[str, str] = {}
    for name, field in schema.get("properties", {}).items():
        path = f"{at}{name}"
        if "description" in field:
            found[path] = field["description"]
        found.update(descriptions(field, document, f"{path}."))
    return found


@pytest.mark.parametrize("endpoint", list(SHAPES), ids=" ".join)
def test_response_shape(document: dict[str, Any], endpoint: tuple[str, str]) -> None:
    assert shape(response_schema(document, *endpoint), document) == SHAPES[endpoint]


@pytest.mark.parametrize("endpoint", list(SHAPES), ids=" ".join)
def test_response_descriptions(document: dict[str, Any], endpoint: tuple[str, str]) -> None:
    found = descriptions(response_schema(document, *endpoint), document)
    assert found == DESCRIPTIONS.get(endpoint, {})
