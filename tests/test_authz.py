"""The authorization matrix: every endpoint x every role, as a member and as a non-member.

A non-member gets 404 for anything inside a project, exactly as for a project that does
not exist, and never a byte of its data.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient

from labelwise.db.engine import Database
from labelwise.formats import ParsedRow
from labelwise.policies import Role
from labelwise.services import guidelines, imports, projects, releases
from labelwise.spec import parse_spec
from tests.conftest import bearer, make_token

SPEC: dict[str, Any] = {
    "name": "Secret project",
    "slug": "secret",
    "goal": "Confidential goal text",
    "fields": [{"name": "text", "type": "text"}],
    "questions": [{"name": "q", "type": "single_label", "labels": ["a", "b"]}],
}
OTHER = {**SPEC, "name": "Other", "slug": "other", "goal": ""}
ROLES = ["owner", "manager", "reviewer", "annotator", "viewer", "outsider", "admin"]


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    expected: dict[str, int]  # by role (200: any success); anonymous callers always get 401
    body: Any = None


def _row(*codes: int) -> dict[str, int]:
    return dict(zip(ROLES, codes, strict=True))


ITEM = [{"id": "s-1", "text": "Confidential item text"}]
ENDPOINTS = [
    #                                                      own mgr rev ann view out admin
    Endpoint("GET", "/api/v1/projects/secret", _row(200, 200, 200, 200, 200, 404, 200)),
    Endpoint("POST", "/api/v1/projects", _row(200, 200, 403, 403, 403, 403, 200), SPEC),
    Endpoint("GET", "/api/v1/projects/secret/members", _row(200, 200, 200, 403, 200, 404, 200)),
    Endpoint(
        "PUT",
        "/api/v1/projects/secret/members/target",
        _row(200, 200, 403, 403, 403, 404, 200),
        {"role": "annotator"},
    ),
    Endpoint(
        "DELETE", "/api/v1/projects/secret/members/target", _row(204, 204, 403, 403, 403, 404, 204)
    ),
    Endpoint(
        "POST", "/api/v1/projects/secret/items", _row(200, 200, 403, 403, 403, 404, 200), ITEM
    ),
    Endpoint(
        "POST",
        "/api/v1/projects/secret/predictions",
        _row(200, 200, 403, 403, 403, 404, 200),
        [{"id": "s-1", "model": "router@1", "answers": {"q": "a"}}],
    ),
    Endpoint(
        "PUT",
        "/api/v1/projects/secret/priorities",
        _row(200, 200, 403, 403, 403, 404, 200),
        [{"id": "s-1", "priority": 3}],
    ),
    Endpoint("GET", "/api/v1/projects/secret/items", _row(200, 200, 200, 403, 200, 404, 200)),
    Endpoint("GET", "/api/v1/projects/secret/export", _row(200, 200, 200, 403, 200, 404, 200)),
    Endpoint("GET", "/api/v1/projects/secret/activity", _row(200, 200, 200, 403, 200, 404, 200)),
    Endpoint("GET", "/api/v1/projects/secret/quality", _row(200, 200, 200, 403, 200, 404, 200)),
    Endpoint(
        "GET",
        "/api/v1/projects/secret/history/project/1",
        _row(200, 200, 200, 403, 200, 404, 200),
    ),
    Endpoint("POST", "/api/v1/projects/secret/next", _row(200, 200, 403, 200, 403, 404, 200)),
    Endpoint(
        "POST", "/api/v1/projects/secret/review/next", _row(200, 200, 200, 403, 403, 404, 200)
    ),
    Endpoint(
        "POST",
        "/api/v1/projects/secret/adjudication/next",
        _row(200, 200, 200, 403, 403, 404, 200),
    ),
    Endpoint("GET", "/api/v1/projects/secret/escalations", _row(200, 200, 403, 403, 403, 404, 200)),
    Endpoint(
        "POST",
        "/api/v1/projects/secret/escalations/999/answer",
        _row(404, 404, 403, 403, 403, 404, 404),
        {"answer": "Use billing."},
    ),
    # Item 1 is the fixture's item; annotators see only items handed to them.
    Endpoint("GET", "/api/v1/projects/secret/items/1", _row(200, 200, 200, 404, 200, 404, 200)),
    Endpoint(
        "GET", "/api/v1/projects/secret/items/1/comments", _row(200, 200, 200, 404, 200, 404, 200)
    ),
    Endpoint(
        "POST",
        "/api/v1/projects/secret/items/1/comments",
        _row(201, 201, 201, 404, 403, 404, 201),
        {"body": "A note."},
    ),
    Endpoint("GET", "/api/v1/projects/secret/feedback", _row(200, 200, 200, 200, 200, 404, 200)),
    Endpoint(
        "PUT",
        "/api/v1/projects/secret/items/1/gold",
        _row(204, 204, 403, 403, 403, 404, 204),
        {"answers": {"q": "a"}},
    ),
    Endpoint(
        "POST",
        "/api/v1/projects/secret/gold",
        _row(200, 200, 403, 403, 403, 404, 200),
        [{"id": "s-1", "answers": {"q": "b"}}],
    ),
    Endpoint(
        "GET", "/api/v1/projects/secret/qualification", _row(200, 200, 200, 200, 200, 404, 200)
    ),
    # Guidelines: version 1 is published by the fixture.
    Endpoint("GET", "/api/v1/projects/secret/guidelines", _row(200, 200, 200, 200, 200, 404, 200)),
    Endpoint(
        "POST",
        "/api/v1/projects/secret/guidelines",
        _row(201, 201, 403, 403, 403, 404, 201),
        {"body": "# Rules v2", "note": "Second rules"},
    ),
    Endpoint(
        "GET", "/api/v1/projects/secret/guidelines/current", _row(200, 200, 200, 200, 200, 404, 200)
    ),
    Endpoint(
        "GET", "/api/v1/projects/secret/guidelines/1", _row(200, 200, 200, 200, 200, 404, 200)
    ),
    Endpoint(
        "GET",
        "/api/v1/projects/secret/guidelines/diff/1/1",
        _row(200, 200, 200, 200, 200, 404, 200),
    ),
    Endpoint(
        "GET", "/api/v1/projects/secret/guidelines/pending", _row(200, 200, 200, 200, 200, 404, 200)
    ),
    Endpoint(
        "POST",
        "/api/v1/projects/secret/guidelines/acknowledge",
        _row(204, 204, 204, 204, 204, 404, 204),
        {"version": 1},
    ),
    Endpoint(
        "GET",
        "/api/v1/projects/secret/guidelines/examples",
        _row(200, 200, 200, 200, 200, 404, 200),
    ),
    Endpoint(
        "POST",
        "/api/v1/projects/secret/guidelines/examples",
        _row(201, 201, 403, 403, 403, 404, 201),
        {"external_id": "s-1", "answers": {"q": "a"}, "why": "Plainly a."},
    ),
    Endpoint(
        "DELETE",
        "/api/v1/projects/secret/guidelines/examples/999",
        _row(404, 404, 403, 403, 403, 404, 404),
    ),
    Endpoint("POST", "/api/v1/projects/secret/checks/run", _row(200, 200, 403, 403, 403, 404, 200)),
    Endpoint("GET", "/api/v1/projects/secret/checks", _row(200, 200, 200, 403, 200, 404, 200)),
    Endpoint("GET", "/api/v1/projects/secret/releases", _row(200, 200, 200, 403, 200, 404, 200)),
    # The owner releases "r1"; the admin, last, then finds the name taken.
    Endpoint(
        "POST",
        "/api/v1/projects/secret/releases",
        _row(201, 403, 403, 403, 403, 404, 409),
        {"name": "r1"},
    ),
    Endpoint("GET", "/api/v1/projects/secret/releases/r0", _row(200, 200, 200, 403, 200, 404, 200)),
    Endpoint(
        "GET", "/api/v1/projects/secret/releases/r0/card", _row(200, 200, 200, 403, 200, 404, 200)
    ),
    Endpoint(
        "GET",
        "/api/v1/projects/secret/releases/r0/diff/r0",
        _row(200, 200, 200, 403, 200, 404, 200),
    ),
]


@pytest.fixture
def tokens(db: Database) -> dict[str, str]:
    secret = projects.apply_spec(db, parse_spec(SPEC)).project
    other = projects.apply_spec(db, parse_spec(OTHER)).project
    tokens = {role: make_token(db, role, admin=role == "admin") for role in ROLES}
    for role in ROLES[:5]:
        projects.set_member(db, secret, role, Role(role))
    projects.set_member(db, other, "outsider", Role.OWNER)
    make_token(db, "target")
    guidelines.publish(db, secret.id, "# Rules", "First rules", None)
    rows = [ParsedRow(1, dict(ITEM[0]))]
    imports.import_items(db, secret.id, parse_spec(SPEC), rows, source="fixture")
    releases.create(db, secret, "r0", "majority", actor_id=None)
    return tokens


def _call(client: TestClient, endpoint: Endpoint, headers: dict[str, str]) -> Any:
    return client.request(endpoint.method, endpoint.path, json=endpoint.body, headers=headers)


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: f"{e.method} {e.path}")
def test_matrix(client: TestClient, tokens: dict[str, str], endpoint: Endpoint) -> None:
    wrong = []
    for role, expected in endpoint.expected.items():
        answer = _call(client, endpoint, bearer(tokens[role]))
        success = expected == 200 and 200 <= answer.status_code < 300
        if answer.status_code != expected and not success:
            wrong.append(f"{role}: expected {expected}, got {answer.status_code} {answer.text}")
        if role == "outsider":
            assert "Confidential" not in answer.text
    anonymous = _call(client, endpoint, {})
    if anonymous.status_code != 401:
        wrong.append(f"anonymous: expected 401, got {anonymous.status_code}")
    assert wrong == []


@pytest.mark.parametrize("endpoint", [e for e in ENDPOINTS if "secret" in e.path])
def test_non_member_cannot_tell_a_project_exists(
    client: TestClient, tokens: dict[str, str], endpoint: Endpoint
) -> None:
    missing = Endpoint(
        endpoint.method, endpoint.path.replace("secret", "nosuch"), {}, endpoint.body
    )
    hidden = _call(client, endpoint, bearer(tokens["outsider"]))
    absent = _call(client, missing, bearer(tokens["outsider"]))
    assert hidden.status_code == absent.status_code == 404
    assert hidden.json() == absent.json()


def test_project_list_shows_only_own_projects(client: TestClient, tokens: dict[str, str]) -> None:
    outsider = client.get("/api/v1/projects", headers=bearer(tokens["outsider"])).json()
    assert [p["slug"] for p in outsider] == ["other"]
    annotator = client.get("/api/v1/projects", headers=bearer(tokens["annotator"])).json()
    assert [(p["slug"], p["role"]) for p in annotator] == [("secret", "annotator")]
    admin = client.get("/api/v1/projects", headers=bearer(tokens["admin"])).json()
    assert [p["slug"] for p in admin] == ["other", "secret"]


def test_only_admins_create_projects(client: TestClient, tokens: dict[str, str]) -> None:
    new = {**SPEC, "slug": "brand-new"}
    refused = client.post("/api/v1/projects", json=new, headers=bearer(tokens["owner"]))
    assert refused.status_code == 403
    created = client.post("/api/v1/projects", json=new, headers=bearer(tokens["admin"]))
    assert created.status_code == 201 and created.json()["created"] is True


def test_only_owners_make_owners(client: TestClient, tokens: dict[str, str]) -> None:
    path = "/api/v1/projects/secret/members/target"
    as_manager = client.put(path, json={"role": "owner"}, headers=bearer(tokens["manager"]))
    assert as_manager.status_code == 403 and "owner" in as_manager.json()["detail"]
    demote = client.put(
        "/api/v1/projects/secret/members/owner",
        json={"role": "viewer"},
        headers=bearer(tokens["manager"]),
    )
    assert demote.status_code == 403
    as_owner = client.put(path, json={"role": "owner"}, headers=bearer(tokens["owner"]))
    assert as_owner.status_code == 200
    members = client.get("/api/v1/projects/secret/members", headers=bearer(tokens["owner"]))
    assert {"username": "target", "role": "owner"} in members.json()


def test_unknown_role_and_user_are_clear_errors(client: TestClient, tokens: dict[str, str]) -> None:
    bad_role = client.put(
        "/api/v1/projects/secret/members/target",
        json={"role": "boss"},
        headers=bearer(tokens["owner"]),
    )
    assert bad_role.status_code == 422 and "role" in bad_role.json()["detail"]
    no_user = client.put(
        "/api/v1/projects/secret/members/ghost",
        json={"role": "viewer"},
        headers=bearer(tokens["owner"]),
    )
    assert no_user.status_code == 404 and "ghost" in no_user.json()["detail"]


def test_assignments_and_annotations_belong_to_their_holder(
    client: TestClient, tokens: dict[str, str]
) -> None:
    lease = client.post("/api/v1/projects/secret/next", headers=bearer(tokens["annotator"])).json()
    assignment = f"/api/v1/assignments/{lease['assignment_id']}"
    calls = [
        ("POST", f"{assignment}/submit", {"answers": {"q": "a"}}),
        ("POST", f"{assignment}/skip", {"reason": "unclear"}),
        ("POST", f"{assignment}/escalate", {"question": "Which label?"}),
        ("POST", f"{assignment}/verdict", {"verdict": "accept"}),
    ]
    for role in ROLES:
        if role == "annotator":
            continue
        for method, path, body in calls:
            answer = client.request(method, path, json=body, headers=bearer(tokens[role]))
            assert answer.status_code == 404, (role, path, answer.text)
            assert "Confidential" not in answer.text
        assert client.request("POST", calls[0][1], json=calls[0][2]).status_code == 401
    done = client.post(calls[0][1], json=calls[0][2], headers=bearer(tokens["annotator"]))
    assert done.status_code == 200
    annotation = f"/api/v1/annotations/{done.json()['annotation_id']}"
    for role, expected in _row(200, 200, 200, 200, 200, 404, 200).items():
        answer = client.get(f"{annotation}/history", headers=bearer(tokens[role]))
        assert answer.status_code == expected, (role, answer.text)
        edit = client.put(annotation, json={"answers": {"q": "b"}}, headers=bearer(tokens[role]))
        assert edit.status_code == (200 if role == "annotator" else 404), (role, edit.text)


def test_a_former_member_cannot_revise_their_annotation(
    client: TestClient, tokens: dict[str, str], db: Database
) -> None:
    headers = bearer(tokens["annotator"])
    lease = client.post("/api/v1/projects/secret/next", headers=headers).json()
    done = client.post(
        f"/api/v1/assignments/{lease['assignment_id']}/submit",
        json={"answers": {"q": "a"}},
        headers=headers,
    ).json()
    projects.set_member(db, projects.get(db, "secret"), "annotator", None)
    edit = client.put(
        f"/api/v1/annotations/{done['annotation_id']}",
        json={"answers": {"q": "b"}},
        headers=headers,
    )
    assert edit.status_code == 404
