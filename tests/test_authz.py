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
from labelwise.services.file_store import project_folder
from labelwise.settings import Settings
from labelwise.spec import parse_spec
from tests.conftest import bearer, make_token

SPEC: dict[str, Any] = {
    "name": "Secret project",
    "slug": "secret",
    "goal": "Confidential goal text",
    "fields": [
        {"name": "text", "type": "text"},
        {"name": "picture", "type": "image", "required": False},
    ],
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


ITEM = [{"id": "s-1", "text": "Confidential item text", "picture": "s-1.png"}]
PICTURE = b"\x89PNG\r\n\x1a\nConfidential"
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
    Endpoint(  # authorized callers get as far as the refusal of a loopback backend
        "POST",
        "/api/v1/projects/secret/predictions/fetch",
        _row(422, 422, 403, 403, 403, 404, 422),
        {"url": "http://127.0.0.1:9/"},
    ),
    Endpoint(
        "PUT",
        "/api/v1/projects/secret/priorities",
        _row(200, 200, 403, 403, 403, 404, 200),
        [{"id": "s-1", "priority": 3}],
    ),
    Endpoint("GET", "/api/v1/projects/secret/items", _row(200, 200, 200, 403, 200, 404, 200)),
    Endpoint(
        "GET",
        "/api/v1/projects/secret/items?status=new&gold=false&q=confidential",
        _row(200, 200, 200, 403, 200, 404, 200),
    ),
    Endpoint("GET", "/api/v1/projects/secret/export", _row(200, 200, 200, 403, 200, 404, 200)),
    Endpoint("GET", "/api/v1/projects/secret/activity", _row(200, 200, 200, 403, 200, 404, 200)),
    Endpoint("GET", "/api/v1/projects/secret/quality", _row(200, 200, 200, 403, 200, 404, 200)),
    Endpoint("GET", "/api/v1/projects/secret/gaps", _row(200, 200, 200, 403, 200, 404, 200)),
    Endpoint("GET", "/api/v1/projects/secret/dashboard", _row(200, 200, 200, 403, 200, 404, 200)),
    # Scorecards: anyone's for readers of quality; an annotator only their own.
    Endpoint(
        "GET",
        "/api/v1/projects/secret/annotators/annotator",
        _row(200, 200, 200, 200, 200, 404, 200),
    ),
    Endpoint(
        "GET",
        "/api/v1/projects/secret/annotators/reviewer",
        _row(200, 200, 200, 404, 200, 404, 200),
    ),
    Endpoint(
        "GET",
        "/api/v1/projects/secret/annotators/target",
        _row(404, 404, 404, 404, 404, 404, 404),
    ),
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
        "GET",
        "/api/v1/projects/secret/items/1/files/picture",
        _row(200, 200, 200, 404, 200, 404, 200),
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
    # Hard delete: the owner erases item 1; the admin, last, then finds it gone.
    Endpoint(
        "DELETE",
        "/api/v1/projects/secret/items/1?hard=true",
        _row(200, 403, 403, 403, 403, 404, 404),
    ),
    Endpoint("DELETE", "/api/v1/users/target?hard=true", _row(403, 403, 403, 403, 403, 403, 200)),
]


@pytest.fixture
def tokens(db: Database, settings: Settings) -> dict[str, str]:
    secret = projects.apply_spec(db, parse_spec(SPEC)).project
    other = projects.apply_spec(db, parse_spec(OTHER)).project
    tokens = {role: make_token(db, role, admin=role == "admin") for role in ROLES}
    for role in ROLES[:5]:
        projects.set_member(db, secret, role, Role(role))
    projects.set_member(db, other, "outsider", Role.OWNER)
    make_token(db, "target")
    guidelines.publish(db, secret.id, "# Rules", "First rules", None)
    folder = project_folder(settings.data_dir, "secret")
    folder.mkdir(parents=True)
    (folder / "s-1.png").write_bytes(PICTURE)
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


# --- Fields hidden from roles (spec `fields[].visible_to`) ---------------------------------

NOTES, NOTE_VALUE = "secret_notes", "Whispered-7f3"  # seen by owners and managers
REGION, REGION_VALUE = "hidden_region", "Atlantis-9q"  # and by reviewers
SEES = {
    NOTES: {"owner", "manager", "admin"},
    NOTE_VALUE: {"owner", "manager", "admin"},
    REGION: {"owner", "manager", "reviewer", "admin"},
    REGION_VALUE: {"owner", "manager", "reviewer", "admin"},
}
VEILED = {
    "name": "Veiled project",
    "slug": "veiled",
    "fields": [
        {"name": "text", "type": "text"},
        {"name": NOTES, "type": "text", "visible_to": ["owner", "manager"]},
        {"name": REGION, "type": "metadata", "visible_to": ["owner", "manager", "reviewer"]},
    ],
    "questions": [{"name": "q", "type": "single_label", "labels": ["a", "b"]}],
    "workflow": {"overlap": 2, "review": {"policy": "all"}, "adjudicate": "disagreement"},
}
# Labeled by a1 and a2 in this order (priority first): v-1 and v-5 they disagree on, and
# after r2 accepts their answers on v-1, v-2 and v-5 those two wait for adjudication and v-2
# is done (released as r0); v-3 and v-4 wait for review; v-6 and v-7 for labeling.
PRIORITY = {"v-1": 5, "v-2": 5, "v-5": 5}
SECOND_ANSWER = {"v-1": "b", "v-5": "b"}


def _veiled_items() -> list[ParsedRow]:
    return [
        ParsedRow(
            n,
            {
                "id": f"v-{n}",
                "text": f"Visible text {n}",
                NOTES: NOTE_VALUE,
                REGION: REGION_VALUE,
                "priority": PRIORITY.get(f"v-{n}", 0),
            },
        )
        for n in range(1, 8)
    ]


def _as(client: TestClient, token: str, method: str, path: str, body: Any = None) -> Any:
    answer = client.request(method, f"/api/v1{path}", json=body, headers=bearer(token))
    assert 200 <= answer.status_code < 300, (path, answer.status_code, answer.text)
    return answer


@pytest.fixture
def veiled(client: TestClient, db: Database, tokens: dict[str, str]) -> dict[str, int]:
    """The members of the matrix, plus annotators a1, a2 and reviewer r2, on VEILED; item
    ids by external id."""
    spec = parse_spec(VEILED)
    project = projects.apply_spec(db, spec).project
    for role in ROLES[:5]:
        projects.set_member(db, project, role, Role(role))
    helpers = {"a1": Role.ANNOTATOR, "a2": Role.ANNOTATOR, "r2": Role.REVIEWER}
    for name, role in helpers.items():
        tokens[name] = make_token(db, name)
        projects.set_member(db, project, name, role)
    imports.import_items(db, project.id, spec, _veiled_items(), source="fixture")
    ids = {}
    for who in ("a1", "a2"):
        for _ in range(5):
            lease = _as(client, tokens[who], "POST", "/projects/veiled/next").json()
            external = lease["item"]["external_id"]
            ids[external] = lease["item"]["id"]
            answer = SECOND_ANSWER.get(external, "a") if who == "a2" else "a"
            submit = f"/assignments/{lease['assignment_id']}/submit"
            _as(client, tokens[who], "POST", submit, {"answers": {"q": answer}})
    for _ in range(6):
        lease = _as(client, tokens["r2"], "POST", "/projects/veiled/review/next").json()
        verdict = f"/assignments/{lease['assignment_id']}/verdict"
        _as(client, tokens["r2"], "POST", verdict, {"verdict": "accept"})
    guidelines.publish(db, project.id, "# Rules", "First rules", None)
    example = {"external_id": "v-2", "answers": {"q": "a"}, "why": "Plainly a."}
    _as(client, tokens["owner"], "POST", "/projects/veiled/guidelines/examples", example)
    releases.create(db, project, "r0", "majority", actor_id=None)
    return ids


def _check_markers(role: str, path: str, body: str, carried: tuple[str, ...]) -> list[str]:
    """What is wrong with `body`: a marker `role` may not see, or one it may that is missing."""
    wrong = []
    for marker, seers in SEES.items():
        if role not in seers and marker in body:
            wrong.append(f"{role} {path}: {marker!r} leaked")
        if role in seers and marker in carried and marker not in body:
            wrong.append(f"{role} {path}: {marker!r} missing")
    return wrong


BOTH = (NOTES, NOTE_VALUE, REGION, REGION_VALUE)
# Every read of item data, with the markers it carries for the roles that may see them.
ITEM_DATA = [
    ("/projects/veiled", (NOTES, REGION)),  # the spec names the fields
    ("/projects/veiled/items", BOTH),
    ("/projects/veiled/items?q=visible&disagreement=true", BOTH),
    ("/projects/veiled/items/{v-2}", BOTH),
    ("/projects/veiled/items/{v-2}/comments", ()),
    ("/projects/veiled/export?format=jsonl", BOTH),
    ("/projects/veiled/export?format=csv", BOTH),
    ("/projects/veiled/export?format=parquet", (NOTES, REGION)),  # values compressed
    ("/projects/veiled/guidelines/examples", BOTH),
    ("/projects/veiled/quality", (REGION, REGION_VALUE)),  # slices by metadata
    ("/projects/veiled/releases/r0/export?format=jsonl", BOTH),
    ("/projects/veiled/releases/r0/export?format=csv", BOTH),
    ("/projects/veiled/releases/r0/export?format=jsonl&annotators=true", BOTH),
    # The card is written once for every reader of releases: viewers see neither field.
    ("/projects/veiled/releases/r0", ()),
    ("/projects/veiled/releases/r0/card", ()),
    ("/projects/veiled/releases/r0/diff/r0", ()),
    ("/projects/veiled/feedback", ()),
    ("/projects/veiled/qualification", ()),
    ("/projects/veiled/checks", ()),
    ("/projects/veiled/activity", ()),
]


def _body(answer: Any) -> str:
    """The body as text; a Parquet file's column names are in its footer, as bytes."""
    return answer.content.decode("latin-1")


def test_hidden_fields_never_reach_roles_that_may_not_see_them(
    client: TestClient, tokens: dict[str, str], veiled: dict[str, int]
) -> None:
    wrong, read = [], 0
    for template, carried in ITEM_DATA:
        path = template.replace("{v-2}", str(veiled["v-2"]))
        for role in ROLES:
            answer = client.get(f"/api/v1{path}", headers=bearer(tokens[role]))
            if answer.status_code >= 400:
                assert role in ("annotator", "outsider"), (role, path, answer.text)
                assert not any(marker in answer.text for marker in SEES), (role, path)
                continue
            read += 1
            wrong += _check_markers(role, path, _body(answer), carried)
    assert wrong == []
    assert read > 80


@pytest.mark.usefixtures("veiled")
def test_the_items_browser_searches_only_the_fields_the_reader_sees(
    client: TestClient, tokens: dict[str, str]
) -> None:
    def found(role: str, query: str) -> Any:
        return client.get(f"/api/v1/projects/veiled/items?{query}", headers=bearer(tokens[role]))

    for role in ROLES:
        if role in ("annotator", "outsider"):
            continue
        for marker, value in ((NOTES, NOTE_VALUE), (REGION, REGION_VALUE)):
            by_text = found(role, f"q={value}")
            by_slice = found(role, f"slice_field={marker}&slice_value={value}")
            if role in SEES[value]:
                assert len(by_text.json()["items"]) == 7, (role, marker)
                assert len(by_slice.json()["items"]) == 7, (role, marker)
            else:
                assert by_text.json()["items"] == [], (role, marker)
                assert by_slice.status_code == 422, (role, marker)
                assert f"slice_field: the project has no field {marker!r}" in by_slice.text


@pytest.mark.usefixtures("veiled")
def test_work_handed_out_carries_only_the_fields_its_holder_may_see(
    client: TestClient, tokens: dict[str, str]
) -> None:
    # Each queue has two pieces of work left: one for a role that may not see a field, one
    # for an owner, who sees both.
    queues = [
        ("/projects/veiled/next", "annotator", "v-6"),
        ("/projects/veiled/next", "owner", "v-6"),
        ("/projects/veiled/review/next", "reviewer", "v-3"),
        ("/projects/veiled/review/next", "owner", "v-3"),
        ("/projects/veiled/adjudication/next", "reviewer", "v-1"),
        ("/projects/veiled/adjudication/next", "owner", "v-5"),
    ]
    wrong, handed = [], {}
    for path, role, external in queues:
        answer = _as(client, tokens[role], "POST", path)
        assert answer.json()["item"]["external_id"] == external, (path, role)
        handed[external] = answer.json()["item"]["id"]
        wrong += _check_markers(role, path, answer.text, BOTH)
        again = _as(client, tokens[role], "POST", path)  # the lease held, handed out again
        wrong += _check_markers(role, path, again.text, BOTH)
    # An annotator sees the items handed to them, as they may.
    item = f"/projects/veiled/items/{handed['v-6']}"
    wrong += _check_markers(
        "annotator", item, _as(client, tokens["annotator"], "GET", item).text, ()
    )
    examples = "/projects/veiled/guidelines/examples"
    shown = _as(client, tokens["annotator"], "GET", examples).text
    assert "Visible text 2" in shown
    wrong += _check_markers("annotator", examples, shown, ())
    assert wrong == []


def _page_text(client: TestClient, path: str) -> str:
    answer = client.get(path)
    assert answer.status_code == 200, (path, answer.status_code)
    return answer.text


def test_pages_give_the_browser_only_the_fields_the_member_sees(
    client: TestClient, veiled: dict[str, int]
) -> None:
    from tests.test_web import log_in

    item = f"/projects/veiled/items/{veiled['v-2']}"
    names = (NOTES, REGION)  # the pages hand the browser the spec; the data comes by API
    pages = {
        "annotator": [("/projects/veiled", names), ("/projects/veiled/annotate", names)],
        "reviewer": [
            ("/projects/veiled", names),
            ("/projects/veiled/review", names),
            ("/projects/veiled/adjudicate", names),
            (item, names),
            ("/projects/veiled/releases/r0", ()),  # the card, for every reader alike
        ],
        "viewer": [("/projects/veiled", names), (item, names)],
        "manager": [("/projects/veiled", names), ("/projects/veiled/annotate", names)],
    }
    wrong = []
    for role, shown in pages.items():
        log_in(client, role)
        for path, carried in shown:
            wrong += _check_markers(role, path, _page_text(client, path), carried)
    assert wrong == []


def test_a_gold_item_hides_the_same_fields_as_any_other(
    client: TestClient, db: Database, tokens: dict[str, str]
) -> None:
    """A gold item (here the qualification test) comes down its own path in routing."""
    spec = parse_spec(
        {
            **VEILED,
            "slug": "veiled-gold",
            "quality": {"qualification": {"items": 1, "min_accuracy": 0}},
        }
    )
    project = projects.apply_spec(db, spec).project
    for role in ("owner", "annotator"):
        projects.set_member(db, project, role, Role(role))
    imports.import_items(db, project.id, spec, _veiled_items(), source="fixture")
    gold = [{"id": "v-7", "answers": {"q": "a"}}]
    _as(client, tokens["owner"], "POST", "/projects/veiled-gold/gold", gold)
    wrong = []
    for role in ("annotator", "owner"):
        lease = _as(client, tokens[role], "POST", "/projects/veiled-gold/next")
        assert lease.json()["item"]["external_id"] == "v-7", role
        wrong += _check_markers(role, "next (gold)", lease.text, BOTH)
    assert wrong == []
