"""Versioned guidelines: publishing, immutability, the version each annotation records,
acknowledgements, diffs, examples, the spec's guidelines file and the CLI (both backends)."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner, Result

from labelwise import demo
from labelwise.cli.main import app
from labelwise.db.engine import Database
from labelwise.db.guideline_models import GuidelineAcknowledgement
from labelwise.db.models import Annotation, AnnotationRevision
from labelwise.errors import InvalidInput, NotFound
from labelwise.policies import EVERYTHING, Role
from labelwise.services import audit, guidelines, projects
from labelwise.services.reporting.quality_data import SpanColumns
from labelwise.spec import SpecError, load_guidelines_file, load_spec_file, parse_spec
from tests.teams import Team
from tests.test_web import log_in

V1 = "# Rules\n\nBilling is about money.\nTech is about software.\n"
V2 = "# Rules\n\nBilling is about money and refunds.\nTech is about software.\n"
BASE = "/api/v1/projects/t/guidelines"


@pytest.fixture
def team(client: TestClient, db: Database) -> Team:
    team = Team(client, db, n_items=6, overlap=2)
    team.member("boss", Role.MANAGER)
    team.member("ann")
    team.member("bob")
    team.member("vic", Role.VIEWER)
    return team


def _publish(team: Team, body: str, note: str, who: str = "boss") -> Any:
    return team.post(who, BASE, {"body": body, "note": note})


def _events(team: Team) -> list[audit.Event]:
    return audit.events(team.db, team.project.id, after=0, limit=1000)[::-1]


def _versions_of(db: Database, model: Any) -> list[int | None]:
    with db.read() as session:
        return list(session.scalars(select(model.guideline_version).order_by(model.id)))


# --- publishing and immutability -----------------------------------------------------------


def test_publish_numbers_versions_and_records_an_audit_event(team: Team) -> None:
    assert _publish(team, V1, "First rules").json() == {"number": 1}
    assert _publish(team, V2, "Refunds are billing").json() == {"number": 2}
    listed = team.client.get(BASE, headers=team.auth("ann")).json()
    assert [(v["number"], v["note"], v["published_by"]) for v in listed] == [
        (2, "Refunds are billing", "boss"),
        (1, "First rules", "boss"),
    ]
    one = team.client.get(f"{BASE}/1", headers=team.auth("ann")).json()
    assert one["body"] == V1 and one["note"] == "First rules"
    current = team.client.get(f"{BASE}/current", headers=team.auth("ann")).json()
    assert current["number"] == 2 and current["body"] == V2
    events = [e for e in _events(team) if e.action.startswith("guide")]
    assert [(e.action, e.after["version"]) for e in events] == [
        ("guidelines.published", 1),
        ("guidelines.published", 2),
    ]
    assert audit.verify(team.db).ok


@pytest.mark.parametrize(
    ("note", "expected"),
    [("", "note: say in one line"), ("   ", "note: say in one line"), ("a\nb", "one line")],
)
def test_publishing_requires_a_one_line_note(team: Team, note: str, expected: str) -> None:
    refused = _publish(team, V1, note)
    assert refused.status_code == 422 and expected in refused.text
    assert team.client.get(BASE, headers=team.auth("boss")).json() == []


def test_empty_guidelines_are_refused(team: Team) -> None:
    refused = _publish(team, "  \n", "nothing")
    assert refused.status_code == 422 and "markdown" in refused.text


def test_no_route_changes_a_published_version(team: Team) -> None:
    _publish(team, V1, "First rules")
    for method in ("PUT", "PATCH", "DELETE"):
        answer = team.client.request(
            method, f"{BASE}/1", json={"body": V2, "note": "sneaky"}, headers=team.auth("boss")
        )
        assert answer.status_code == 405, (method, answer.text)
    assert team.client.get(f"{BASE}/1", headers=team.auth("boss")).json()["body"] == V1
    assert not any(
        hasattr(guidelines, name) for name in ("update", "edit", "change", "delete_version")
    )


def test_missing_version_is_a_clear_404(team: Team) -> None:
    assert team.client.get(f"{BASE}/current", headers=team.auth("ann")).status_code == 404
    _publish(team, V1, "First rules")
    missing = team.client.get(f"{BASE}/7", headers=team.auth("ann"))
    assert missing.status_code == 404 and "version 7" in missing.text


# --- the version each annotation records ----------------------------------------------------


def test_annotations_record_the_version_in_force(team: Team) -> None:
    team.label("ann")  # before any guidelines
    _publish(team, V1, "First rules")
    team.label("ann")
    _publish(team, V2, "Refunds are billing")
    team.label("bob")
    assert _versions_of(team.db, Annotation) == [None, 1, 2]
    assert _versions_of(team.db, AnnotationRevision) == [None, 1, 2]


def test_a_revision_records_the_version_in_force_when_revised(team: Team) -> None:
    _publish(team, V1, "First rules")
    done = team.label("ann")
    _publish(team, V2, "Refunds are billing")
    revised = team.client.put(
        f"/api/v1/annotations/{done['annotation_id']}",
        json={"answers": {"team": "tech"}},
        headers=team.auth("ann"),
    )
    assert revised.status_code == 200, revised.text
    assert _versions_of(team.db, Annotation) == [2]
    assert _versions_of(team.db, AnnotationRevision) == [1, 2]


# --- acknowledging --------------------------------------------------------------------------


def _pending(team: Team, who: str) -> Any:
    answer = team.client.get(f"{BASE}/pending", headers=team.auth(who))
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_annotator_sees_what_changed_and_acknowledges_once(team: Team) -> None:
    _publish(team, V1, "First rules")
    assert _pending(team, "ann")["changes"] == []  # a newcomer reads v1 beside the item
    team.label("ann")  # labeled under v1
    _publish(team, V2, "Refunds are billing")
    pending = _pending(team, "ann")
    assert pending["current"] == 2 and pending["acknowledged"] is None
    assert [(c["number"], c["note"]) for c in pending["changes"]] == [(2, "Refunds are billing")]
    assert "-Billing is about money.\n" in pending["diff"]
    assert "+Billing is about money and refunds.\n" in pending["diff"]
    old = team.post("ann", f"{BASE}/acknowledge", {"version": 1})
    assert old.status_code == 422 and "current version (2)" in old.text
    for _ in range(2):  # idempotent
        assert team.post("ann", f"{BASE}/acknowledge", {"version": 2}).status_code == 204
    assert _pending(team, "ann")["changes"] == []
    assert _pending(team, "ann")["acknowledged"] == 2
    assert _pending(team, "bob")["changes"] == []  # bob never labeled: nothing owed


def test_acknowledged_reader_sees_every_version_since(team: Team) -> None:
    _publish(team, V1, "First rules")
    assert team.post("vic", f"{BASE}/acknowledge", {"version": 1}).status_code == 204
    _publish(team, V2, "Refunds are billing")
    _publish(team, V2 + "\nSpam is tech.\n", "Spam goes to tech")
    pending = _pending(team, "vic")
    assert [c["number"] for c in pending["changes"]] == [2, 3]
    assert pending["diff"].startswith("--- version 1\n+++ version 3\n")


def test_labeling_before_any_guidelines_owes_the_first_version(team: Team) -> None:
    team.label("ann")
    _publish(team, V1, "First rules")
    pending = _pending(team, "ann")
    assert [c["number"] for c in pending["changes"]] == [1]
    assert "+Tech is about software.\n" in pending["diff"]


def test_diff_between_two_versions(team: Team) -> None:
    _publish(team, V1, "First rules")
    _publish(team, V2, "Refunds are billing")
    found = team.client.get(f"{BASE}/diff/1/2", headers=team.auth("ann")).json()
    assert found["diff"].splitlines()[:2] == ["--- version 1", "+++ version 2"]
    assert "+Billing is about money and refunds." in found["diff"].splitlines()
    same = team.client.get(f"{BASE}/diff/2/2", headers=team.auth("ann")).json()
    assert same["diff"] == ""


# --- examples -------------------------------------------------------------------------------


def test_examples_are_validated_linked_to_items_and_audited(team: Team) -> None:
    _publish(team, V1, "First rules")
    path = f"{BASE}/examples"
    added = team.post(
        "boss",
        path,
        {"external_id": "t-1", "answers": {"team": "billing"}, "why": "A refund request."},
    )
    assert added.status_code == 201, added.text
    example = added.json()
    assert example["data"]["text"] == "ticket 1" and example["added_in"] == 1
    assert example["kind"] == "example"
    bad_label = team.post(
        "boss", path, {"external_id": "t-1", "answers": {"team": "x"}, "why": "w"}
    )
    assert bad_label.status_code == 422 and "answers.team" in bad_label.text
    no_item = team.post(
        "boss", path, {"external_id": "nope", "answers": {"team": "tech"}, "why": "w"}
    )
    assert no_item.status_code == 404 and "'nope'" in no_item.text
    no_id = team.post("boss", path, {"answers": {"team": "tech"}, "why": "w"})
    assert no_id.status_code == 422 and "external_id or its item_id" in no_id.text
    blank_why = team.post(
        "boss", path, {"external_id": "t-1", "answers": {"team": "tech"}, "why": " "}
    )
    assert blank_why.status_code == 422 and "why" in blank_why.text
    counter = team.post(
        "boss",
        path,
        {
            "external_id": "t-2",
            "answers": {"team": "tech"},
            "why": "Not tech.",
            "kind": "counterexample",
        },
    )
    assert counter.status_code == 201
    listed = team.client.get(path, headers=team.auth("ann")).json()
    assert [(e["kind"], e["external_id"]) for e in listed] == [
        ("example", "t-1"),
        ("counterexample", "t-2"),
    ]
    removed = team.client.delete(f"{path}/{example['id']}", headers=team.auth("boss"))
    assert removed.status_code == 204
    assert [e["external_id"] for e in team.client.get(path, headers=team.auth("ann")).json()] == [
        "t-2"
    ]
    actions = [e.action for e in _events(team)]
    assert actions.count("guidelines.example_added") == 2
    assert actions.count("guidelines.example_removed") == 1


def test_only_owners_and_managers_publish(team: Team) -> None:
    for who in ("ann", "vic"):
        assert _publish(team, V1, "mine", who=who).status_code == 403
    assert team.client.get(BASE, headers=team.auth("vic")).status_code == 200


# --- the spec's guidelines file -------------------------------------------------------------


SPEC_YAML = """\
name: Tickets
slug: specgl
fields: [{name: text, type: text}]
questions: [{name: team, type: single_label, labels: [billing, tech]}]
guidelines_file: docs/rules.md
"""


def test_a_spec_guidelines_file_publishes_on_change_only(db: Database, tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "rules.md").write_text(V1)
    spec_file = tmp_path / "project.yaml"
    spec_file.write_text(SPEC_YAML)

    def apply() -> projects.ApplyResult:
        spec = load_spec_file(spec_file)
        return projects.apply_spec(db, spec, guidelines_text=load_guidelines_file(spec_file, spec))

    assert apply().created
    project = projects.get(db, "specgl")
    first = guidelines.get(db, project.id)
    assert (first.number, first.body, first.note) == (1, V1, "from docs/rules.md")
    again = apply()
    assert not again.changed and len(guidelines.versions(db, project.id)) == 1
    (tmp_path / "docs" / "rules.md").write_text(V2)
    spec_file.write_text(SPEC_YAML + "guidelines_note: Refunds are billing\n")
    assert apply().changed
    assert [(v.number, v.note) for v in guidelines.versions(db, project.id)] == [
        (2, "Refunds are billing"),
        (1, "from docs/rules.md"),
    ]
    assert not apply().changed


def test_inline_guidelines_in_a_spec_publish_too(db: Database) -> None:
    plain = yaml.safe_load(SPEC_YAML.replace("guidelines_file: docs/rules.md\n", ""))
    spec = parse_spec({**plain, "guidelines": V1})
    project = projects.apply_spec(db, spec).project
    current = guidelines.get(db, project.id)
    assert (current.number, current.body, current.note) == (1, V1, "from the project spec")
    assert not projects.apply_spec(db, spec).changed


def test_guidelines_and_a_guidelines_file_together_are_refused() -> None:
    both = {**yaml.safe_load(SPEC_YAML), "guidelines": V1}
    with pytest.raises(SpecError, match="guidelines_file"):
        parse_spec(both)


def test_a_missing_guidelines_file_names_the_spec_and_the_file(tmp_path: Path) -> None:
    spec_file = tmp_path / "project.yaml"
    spec_file.write_text(SPEC_YAML)
    with pytest.raises(SpecError) as raised:
        load_guidelines_file(spec_file, load_spec_file(spec_file))
    assert "project.yaml: guidelines_file:" in str(raised.value)
    assert "rules.md: no such file" in str(raised.value)


def test_a_multi_line_guidelines_note_is_a_spec_error(tmp_path: Path) -> None:
    spec_file = tmp_path / "project.yaml"
    spec_file.write_text(SPEC_YAML + 'guidelines_note: "one\\ntwo"\n')
    with pytest.raises(SpecError, match="guidelines_note: must be one line"):
        load_spec_file(spec_file)


# --- the service directly -------------------------------------------------------------------


def test_service_refuses_acknowledging_without_guidelines(team: Team) -> None:
    with pytest.raises(NotFound):
        guidelines.acknowledge(team.db, team.project.id, 1, 1)
    with pytest.raises(InvalidInput, match="note"):
        guidelines.publish(team.db, team.project.id, V1, "", None)


# --- the CLI ---------------------------------------------------------------------------------


@pytest.fixture
def run(db: Database, tmp_path: Path) -> Any:
    runner = CliRunner()
    env = {"LABELWISE_DATABASE_URL": db.url, "LABELWISE_DATA_DIR": str(tmp_path / "data")}

    def invoke(*args: str) -> Result:
        return runner.invoke(app, list(args), env=env)

    return invoke


def test_cli_publish_list_show_diff_example(run: Any, team: Team, tmp_path: Path) -> None:
    rules = tmp_path / "rules.md"
    rules.write_text(V1)
    published = run("guidelines", "publish", "t", str(rules), "--note", "First rules")
    assert published.exit_code == 0, published.output
    assert "version 1" in published.output
    rules.write_text(V2)
    assert run("guidelines", "publish", "t", str(rules), "--note", "Refunds").exit_code == 0
    listing = run("guidelines", "list", "t").output
    assert "First rules" in listing and "Refunds" in listing
    shown = run("guidelines", "show", "t", "--version", "1", "--raw")
    assert shown.exit_code == 0 and shown.output == V1
    diffed = run("guidelines", "diff", "t", "1", "2")
    assert "+Billing is about money and refunds." in diffed.output.splitlines()
    example = run(
        "guidelines",
        "example",
        "t",
        "--item",
        "t-3",
        "--answer",
        '{"team": "tech"}',
        "--why",
        "It is about the app.",
        "--counter",
    )
    assert example.exit_code == 0, example.output
    assert [e.kind for e in guidelines.examples(team.db, team.project.id, EVERYTHING)] == [
        "counterexample"
    ]


def test_cli_errors_say_what_and_where(run: Any, team: Team, tmp_path: Path) -> None:
    rules = tmp_path / "rules.md"
    rules.write_text(V1)
    missing = run("guidelines", "publish", "t", str(tmp_path / "nope.md"), "--note", "x")
    assert missing.exit_code == 2 and "nope.md: no such file" in missing.output
    blank = run("guidelines", "publish", "t", str(rules), "--note", "  ")
    assert blank.exit_code == 2 and "note:" in blank.output
    unknown = run(
        "guidelines", "example", "t", "--item", "zzz", "--answer", '{"team": "tech"}', "--why", "w"
    )
    assert unknown.exit_code == 1 and "'zzz'" in unknown.output
    bad = run(
        "guidelines", "example", "t", "--item", "t-1", "--answer", '{"team": "sales"}', "--why", "w"
    )
    assert bad.exit_code == 2 and "answers.team" in bad.output
    not_json = run("guidelines", "example", "t", "--item", "t-1", "--answer", "{", "--why", "w")
    assert not_json.exit_code == 2 and "--answer: not valid JSON" in not_json.output
    assert guidelines.versions(team.db, team.project.id) == []


# --- agreement per guideline version --------------------------------------------------------


def _label_by_item(team: Team, who: str, answers: dict[str, str], n: int) -> None:
    for _ in range(n):
        lease = team.next(who)
        assert lease is not None
        done = team.submit(who, lease["assignment_id"], answers[lease["item"]["external_id"]])
        assert done.status_code == 200, done.text


def test_quality_report_gives_agreement_per_guideline_version(team: Team, run: Any) -> None:
    ann = {"t-0": "billing", "t-1": "billing", "t-2": "billing", "t-3": "tech"}
    bob = {"t-0": "tech", "t-1": "tech", "t-2": "billing", "t-3": "tech"}
    _publish(team, V1, "First rules")
    _label_by_item(team, "ann", ann, 2)  # t-0, t-1 under v1: they disagree on both
    _label_by_item(team, "bob", bob, 2)
    _publish(team, V2, "Refunds are billing")
    _label_by_item(team, "ann", ann, 2)  # t-2, t-3 under v2: they agree on both
    _label_by_item(team, "bob", bob, 2)
    report = team.client.get("/api/v1/projects/t/quality", headers=team.auth("vic")).json()
    rows = next(q for q in report["questions"] if q["name"] == "team")["versions"]
    # v1: 4 values, every pair disagrees: alpha = 1 - (n - 1) * 4 / (2 * 2 * 2) = -0.5.
    assert rows == [
        {"version": 1, "items": 2, "annotations": 4, "agreement": pytest.approx(-0.5)},
        {"version": 2, "items": 2, "annotations": 4, "agreement": pytest.approx(1.0)},
    ]
    printed = run("stats", "t")
    assert printed.exit_code == 0, printed.output
    assert "Per guideline version" in printed.output
    assert "-0.500" in printed.output or "−0.500" in printed.output


def test_answers_before_any_guidelines_are_their_own_group(team: Team) -> None:
    team.label("ann")
    _publish(team, V1, "First rules")
    team.label("bob")  # the same item, under v1: not compared with ann's
    report = team.client.get("/api/v1/projects/t/quality", headers=team.auth("vic")).json()
    rows = next(q for q in report["questions"] if q["name"] == "team")["versions"]
    assert [(r["version"], r["annotations"], r["agreement"]) for r in rows] == [
        (None, 1, None),
        (1, 1, None),
    ]


def test_span_pairs_are_scored_within_one_version_only() -> None:
    columns = SpanColumns(["P"])
    one = [{"start": 0, "end": 3, "label": "P"}]
    other = [{"start": 4, "end": 6, "label": "P"}]
    columns.add_item(0, [(0, one, 1), (1, one, 1)])  # one version: the item's own score
    columns.add_item(1, [(0, other, 1), (1, one, 2), (2, one, 2)])  # v1 alone; v2 pair agrees
    assert list(columns.version_codes) == [1, 2]
    assert list(columns.version_exact) == [2, 2]
    assert list(columns.version_total) == [2, 2]
    assert list(columns.versions) == [1, 1, 1, 2, 2]
    assert list(columns.total) == [2, 6] and list(columns.exact) == [2, 2]  # all three pairs


def test_a_submit_just_after_a_publish_still_owes_the_change(team: Team) -> None:
    _publish(team, V1, "First rules")
    team.label("ann")
    _publish(team, V2, "Refunds are billing")
    team.label("ann")  # recorded under v2, but ann was reading v1 when she started
    assert _versions_of(team.db, Annotation) == [1, 2]
    assert [c["number"] for c in _pending(team, "ann")["changes"]] == [2]


def test_project_page_shows_the_current_version(team: Team) -> None:
    _publish(team, V1, "First rules")
    _publish(team, V2 + "\n<script>alert(1)</script>\n", "Refunds are billing")
    log_in(team.client, "ann")
    page = team.client.get("/projects/t")
    assert page.status_code == 200
    assert "Guidelines, version 2" in page.text and "Refunds are billing" in page.text
    # The markdown travels in an attribute, escaped, and is rendered by the safe renderer.
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert "<script>alert(1)" not in page.text


def test_the_demo_publishes_its_guidelines_once(db: Database) -> None:
    demo.set_up(db)
    demo.set_up(db)
    versions = guidelines.versions(db, projects.get(db, "tickets").id)
    assert [(v.number, v.note) for v in versions] == [(1, "The triage rules, first written down")]
    assert versions[0].body.startswith("# Support ticket triage")


def test_acknowledging_from_two_tabs_at_once_records_it_once(team: Team) -> None:
    _publish(team, V1, "First rules")
    start = threading.Barrier(4)
    answers: list[int] = []

    def acknowledge() -> None:
        start.wait()
        reply = team.post("ann", f"{BASE}/acknowledge", {"version": 1})
        answers.append(reply.status_code)

    threads = [threading.Thread(target=acknowledge) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers == [204] * 4
    with team.db.read() as session:
        rows = session.scalars(select(GuidelineAcknowledgement)).all()
    assert [(r.version, r.user_id) for r in rows] == [(1, rows[0].user_id)]
