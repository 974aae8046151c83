"""Dataset releases: frozen answers, content hash, immutability, diff and the dataset card."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from typer.testing import CliRunner, Result

from labelwise.cli.main import app
from labelwise.db.engine import Database
from labelwise.db.models import Item
from labelwise.db.release_models import ReleaseRowRecord
from labelwise.errors import Conflict, InvalidInput, NotFound
from labelwise.formats import FORMATS
from labelwise.policies import Role
from labelwise.services import guidelines, imports, projects, releases
from labelwise.spec import parse_spec
from tests.teams import Team, spec
from tests.test_web import log_in

# Who answers what on t-0..t-3: a clear majority, a tie broken by nobody, unanimity.
VOTES = {
    "t-0": ["billing", "billing", "tech"],
    "t-1": ["tech", "tech", "tech"],
    "t-2": ["billing", "tech", "tech"],
    "t-3": ["billing", "billing", "billing"],
}


@pytest.fixture
def team(client: TestClient, db: Database) -> Team:
    """Four items, three annotators each, every item done; one item left unstarted."""
    team = Team(client, db, 5, overlap=3)
    people = [team.member(name) for name in ("ann", "bob", "cat")]
    for who_index, who in enumerate(people):
        for _ in VOTES:
            lease = team.next(who)
            label = VOTES[lease["item"]["external_id"]][who_index]
            assert team.submit(who, lease["assignment_id"], label).status_code == 200
    return team


def test_release_freezes_the_majority_answers(team: Team) -> None:
    release = releases.create(team.db, team.project, "v1", "majority", actor_id=None)
    assert release.items == 4  # t-4 was never labeled: not finished, not released
    rows = {row.external_id: row for row in releases.rows(team.db, team.project, "v1")}
    assert {k: r.answers["team"] for k, r in rows.items()} == {
        "t-0": "billing",
        "t-1": "tech",
        "t-2": "tech",
        "t-3": "billing",
    }
    assert rows["t-0"].sources["team"] == "majority"
    assert rows["t-0"].probabilities["team"] == pytest.approx({"billing": 2 / 3, "tech": 1 / 3})
    assert rows["t-0"].answers["urgency"] is None and rows["t-0"].sources["urgency"] == "unanswered"
    assert sorted(a["annotator"] for a in rows["t-2"].annotations) == ["ann", "bob", "cat"]
    assert rows["t-2"].data == {"text": "ticket 2", "channel": "email"}


def test_content_hash_covers_the_stored_rows_and_verify_notices_an_edit(team: Team) -> None:
    release = releases.create(team.db, team.project, "v1", "majority", actor_id=None)
    with team.db.read() as session:
        texts = session.scalars(select(ReleaseRowRecord.row).order_by(ReleaseRowRecord.item_id))
        expected = hashlib.sha256(b"".join(t.encode() + b"\n" for t in texts)).hexdigest()
    assert release.content_hash == expected
    assert releases.verify(team.db, team.project, "v1") == (True, expected, [])
    with team.db.write() as session:
        session.execute(
            update(ReleaseRowRecord)
            .values(row=ReleaseRowRecord.row + " ")
            .where(ReleaseRowRecord.item_id == team.item("t-1").id)
        )
    assert releases.verify(team.db, team.project, "v1") == (False, expected, [])


def test_a_release_does_not_change_when_the_project_does(team: Team) -> None:
    releases.create(team.db, team.project, "v1", "majority", actor_id=None)
    before = list(releases.rows(team.db, team.project, "v1"))
    manager = team.member("meg", Role.MANAGER)
    # An adjudicator settles t-0 the other way, and a new item is labeled.
    with team.db.write() as session:
        item = session.get(Item, team.item("t-0").id)
        assert item is not None
        item.final_answers = {"team": "tech"}
    for who in ("ann", "bob", "cat"):
        team.label(who, "tech")
    assert list(releases.rows(team.db, team.project, "v1")) == before
    v2 = releases.create(team.db, team.project, "v2", "majority", actor_id=None)
    assert v2.items == 5
    change = releases.diff(team.db, team.project, "v1", "v2")
    assert (change.added, change.removed, change.changed) == (1, 0, 1)
    assert change.added_items == ["t-4"]
    assert change.changed_by_question == {"team": 1}
    assert change.changes == [
        {"item": "t-0", "answers": {"team": {"before": "billing", "after": "tech"}}}
    ]
    back = releases.diff(team.db, team.project, "v2", "v1")
    assert (back.added, back.removed, back.removed_items) == (0, 1, ["t-4"])
    assert manager  # a member who changed nothing in v1


def test_diff_limit_caps_the_listing_not_the_counts(team: Team) -> None:
    releases.create(team.db, team.project, "v1", "majority", actor_id=None)
    with team.db.write() as session:
        for external_id in ("t-0", "t-1", "t-2"):
            item = session.get(Item, team.item(external_id).id)
            assert item is not None
            item.final_answers = {"team": "billing" if external_id != "t-0" else "tech"}
    releases.create(team.db, team.project, "v2", "majority", actor_id=None)
    capped = releases.diff(team.db, team.project, "v1", "v2", limit=1)
    assert capped.changed == 3 and len(capped.changes) == 1
    assert len(releases.diff(team.db, team.project, "v1", "v2", limit=0).changes) == 3


def test_adjudicated_answers_win_and_say_so(team: Team) -> None:
    with team.db.write() as session:
        item = session.get(Item, team.item("t-1").id)
        assert item is not None
        item.final_answers = {"team": "billing", "urgency": 4}
    releases.create(team.db, team.project, "v1", "dawid-skene", actor_id=None)
    rows = {row.external_id: row for row in releases.rows(team.db, team.project, "v1")}
    assert rows["t-1"].answers == {"team": "billing", "urgency": 4}
    assert rows["t-1"].sources == {"team": "adjudicated", "urgency": "adjudicated"}
    assert rows["t-0"].sources["team"] == "dawid-skene"


def test_annotations_carry_their_guideline_version(team: Team) -> None:
    guidelines.publish(
        team.db, team.project.id, "# Rules\n\nBilling is money.", "first rules", actor_id=None
    )
    for who in ("ann", "bob", "cat"):
        team.label(who, "billing")
    release = releases.create(team.db, team.project, "v1", "majority", actor_id=None)
    rows = {row.external_id: row for row in releases.rows(team.db, team.project, "v1")}
    assert {a["guideline_version"] for a in rows["t-4"].annotations} == {1}
    assert {a["guideline_version"] for a in rows["t-0"].annotations} == {None}
    assert "| v1 | 3 | first rules |" in release.card
    # Agreement per version: before any guidelines, 4 items; under v1 only t-4, where all
    # three agree and alpha, with no variation at all, is undefined.
    assert "| team | none | 4 | 0.389 |" in release.card
    assert "| team | v1 | 1 | — |" in release.card


def test_dataset_card(team: Team) -> None:
    card = releases.create(team.db, team.project, "v1", "majority", actor_id=None).card
    for heading in (
        "# Tickets — release v1",
        "## Goal",
        "## Schema",
        "## Guidelines",
        "## Counts",
        "## Class balance",
        "## Agreement",
        "## Gold accuracy",
        "## Review estimate",
        "## Known issues",
    ):
        assert heading in card
    assert "| items released (status done) | 4 |" in card
    assert "| items not released yet | 1 (new 1) |" in card
    assert "| annotators | 3 |" in card
    assert "| annotations | 12 |" in card
    assert "| time spent annotating | 0.0 h |" in card  # 12 x 1.5 s
    # Class balance overall and per slice (channel: t-0, t-2 email; t-1, t-3 chat).
    assert "| all | 2 (50%) | 2 (50%) |" in card
    assert "**team** by `channel`" in card
    assert "| email | 1 (50%) | 1 (50%) |" in card
    assert "| team | single_label | billing, tech |" in card


def test_card_gives_the_coverage_of_each_slice(team: Team) -> None:
    """Released of all items per metadata value (t-0, t-2, t-4 email; t-1, t-3 chat; t-4 is
    not finished, one more item has no channel), the same bytes for the same data."""
    parsed = parse_spec(spec(overlap=3))
    imports.import_items(
        team.db, team.project.id, parsed, [(1, {"id": "t-5", "text": "?"}, None)], source="test"
    )
    first = releases.create(team.db, team.project, "v1", "majority", actor_id=None).card
    assert "## Coverage by slice" in first
    assert "| channel | released | items | coverage |" in first
    assert "| chat | 2 | 2 | 100% |" in first
    assert "| email | 2 | 3 | 67% |" in first
    assert "| (no value) | 0 | 1 | 0% |" in first
    second = releases.create(team.db, team.project, "v2", "majority", actor_id=None).card
    assert _unnamed(first) == _unnamed(second)


def _unnamed(card: str) -> str:
    """The card without what differs between two releases of the same data: name, time."""
    return "\n".join(
        line for line in card.splitlines() if not line.startswith(("# ", "| Released |"))
    )


def test_card_lists_open_escalations(team: Team) -> None:
    lease = team.next("ann")
    assert lease is not None
    asked = team.post(
        "ann", f"/api/v1/assignments/{lease['assignment_id']}/escalate", {"question": "Spam?"}
    )
    assert asked.status_code in (200, 201), asked.text
    card = releases.create(team.db, team.project, "v1", "majority", actor_id=None).card
    assert "- 1 open escalations (questions not answered yet)" in card
    assert "- open question on `t-4`: Spam?" in card


def test_bad_names_methods_and_duplicates_are_refused(team: Team) -> None:
    releases.create(team.db, team.project, "v1", "majority", actor_id=None)
    with pytest.raises(Conflict, match="already exists"):
        releases.create(team.db, team.project, "v1", "majority", actor_id=None)
    with pytest.raises(InvalidInput, match="release name"):
        releases.create(team.db, team.project, "../v2", "majority", actor_id=None)
    with pytest.raises(InvalidInput, match="majority, dawid-skene"):
        releases.create(team.db, team.project, "v2", "mean", actor_id=None)
    with pytest.raises(NotFound, match="'v9'"):
        releases.diff(team.db, team.project, "v1", "v9")
    assert [r.name for r in releases.listing(team.db, team.project)] == ["v1"]


# --- export: the same bytes at any later time ---------------------------------------------


def _download(team: Team, who: str, name: str, query: str = "format=jsonl") -> Any:
    return team.client.get(
        f"/api/v1/projects/t/releases/{name}/export?{query}", headers=team.auth(who)
    )


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "parquet"])
def test_export_gives_the_same_bytes_whatever_changes_later(team: Team, fmt: str) -> None:
    team.member("olga", Role.OWNER)
    made = team.post("olga", "/api/v1/projects/t/releases", {"name": "v1"})
    assert made.status_code == 201, made.text
    first = _download(team, "olga", "v1", f"format={fmt}&soft=true&annotators=true")
    assert first.status_code == 200 and first.content
    # The project moves on: an adjudication, new work, a spec with one more question.
    with team.db.write() as session:
        item = session.get(Item, team.item("t-0").id)
        assert item is not None
        item.final_answers = {"team": "tech"}
    for who in ("ann", "bob", "cat"):
        team.label(who, "tech")
    changed = {**spec(), "questions": [*spec()["questions"], {"name": "note", "type": "text"}]}
    projects.apply_spec(team.db, parse_spec({**changed, "workflow": {"overlap": 3}}))
    again = _download(team, "olga", "v1", f"format={fmt}&soft=true&annotators=true")
    assert again.content == first.content
    assert f"t-v1{FORMATS[fmt].extensions[0]}" in again.headers["content-disposition"]


def test_jsonl_export_holds_answers_sources_soft_labels_and_annotators(team: Team) -> None:
    team.member("olga", Role.OWNER)
    team.post("olga", "/api/v1/projects/t/releases", {"name": "v1"})
    plain = [orjson.loads(line) for line in _download(team, "olga", "v1").content.splitlines()]
    assert [row["external_id"] for row in plain] == ["t-0", "t-1", "t-2", "t-3"]
    assert plain[0]["answers"]["team"] == "billing"
    full = _download(team, "olga", "v1", "format=jsonl&soft=true&annotators=true").content
    row = orjson.loads(full.splitlines()[0])
    assert row["probabilities"]["team"] == pytest.approx({"billing": 2 / 3, "tech": 1 / 3})
    assert sorted(a["annotator"] for a in row["annotations"]) == ["ann", "bob", "cat"]


def test_export_refusals_are_clear(team: Team) -> None:
    team.member("olga", Role.OWNER)
    team.post("olga", "/api/v1/projects/t/releases", {"name": "v1"})
    unknown = _download(team, "olga", "v1", "format=xml")
    assert unknown.status_code == 422 and "jsonl" in unknown.json()["detail"]
    directory = _download(team, "olga", "v1", "format=hf")
    assert directory.status_code == 422 and "--format hf --output DIR" in directory.json()["detail"]
    no_spans = _download(team, "olga", "v1", "format=conll")
    assert no_spans.status_code == 422 and "span" in no_spans.json()["detail"]
    assert _download(team, "olga", "v9").status_code == 404


def test_only_owners_create_releases_and_members_read_them(team: Team) -> None:
    team.member("meg", Role.MANAGER)
    team.member("vic", Role.VIEWER)
    refused = team.post("meg", "/api/v1/projects/t/releases", {"name": "v1"})
    assert refused.status_code == 403
    releases.create(team.db, team.project, "v1", "majority", actor_id=None)
    listed = team.client.get("/api/v1/projects/t/releases", headers=team.auth("vic")).json()
    assert [(r["name"], r["items"]) for r in listed] == [("v1", 4)]
    card = team.client.get("/api/v1/projects/t/releases/v1/card", headers=team.auth("vic"))
    assert card.headers["content-type"].startswith("text/markdown")
    assert card.text.startswith("# Tickets — release v1")
    assert _download(team, "ann", "v1").status_code == 403  # annotators never export


def test_api_diff(team: Team) -> None:
    releases.create(team.db, team.project, "v1", "majority", actor_id=None)
    for who in ("ann", "bob", "cat"):
        team.label(who, "tech")
    releases.create(team.db, team.project, "v2", "majority", actor_id=None)
    team.member("vic", Role.VIEWER)
    answer = team.client.get("/api/v1/projects/t/releases/v1/diff/v2", headers=team.auth("vic"))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["added"], body["removed"], body["changed"], body["added_items"]) == (
        1,
        0,
        0,
        ["t-4"],
    )


# --- the CLI ---------------------------------------------------------------------------------


@pytest.fixture
def run(team: Team, tmp_path: Path) -> Callable[..., Result]:
    env = {"LABELWISE_DATABASE_URL": team.db.url, "LABELWISE_DATA_DIR": str(tmp_path / "data")}
    return lambda *args: CliRunner().invoke(app, list(args), env=env)


def test_cli_release_create_list_card_verify_diff(run: Callable[..., Result]) -> None:
    made = run("release", "create", "t", "--name", "v1", "--method", "dawid-skene")
    assert made.exit_code == 0, made.output
    assert "release v1: 4 items, sha256" in made.output
    assert "v1" in run("release", "list", "t").output
    assert run("release", "card", "t", "v1").output.startswith("# Tickets — release v1")
    assert "release v1 intact" in run("release", "verify", "t", "v1").output
    run("release", "create", "t", "--name", "v2")
    diff = run("release", "diff", "t", "v1", "v2")
    assert diff.exit_code == 0 and "v1 → v2: 0 added, 0 removed, 0 changed" in diff.output
    taken = run("release", "create", "t", "--name", "v1")
    assert taken.exit_code == 1 and "already exists" in taken.output


def test_cli_export_release_to_files_and_a_directory(
    run: Callable[..., Result], tmp_path: Path
) -> None:
    run("release", "create", "t", "--name", "v1")
    first, second = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    for path in (first, second):
        done = run("export", "t", "--release", "v1", "--output", str(path), "--soft")
        assert done.exit_code == 0, done.output
    assert first.read_bytes() == second.read_bytes()
    assert len(first.read_bytes().splitlines()) == 4
    folder = tmp_path / "hf"
    done = run("export", "t", "--release", "v1", "--format", "hf", "--output", str(folder))
    assert done.exit_code == 0, done.output
    assert (folder / "dataset_info.json").is_file()
    wrong = run("export", "t", "--release", "v1", "--output", str(tmp_path / "x.conll"))
    assert wrong.exit_code == 2 and "span" in wrong.output
    mixed = run("export", "t", "--release", "v1", "-o", str(first), "--consensus", "majority")
    assert mixed.exit_code == 2 and "--consensus" in mixed.output
    taken = tmp_path / "taken.jsonl"
    (taken / "inside").mkdir(parents=True)
    onto = run("export", "t", "--release", "v1", "--output", str(taken))
    assert onto.exit_code == 2 and "cannot write: Is a directory" in onto.output, onto.output
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".taken")] == []


# --- the browser pages -----------------------------------------------------------------------


def test_release_pages(client: TestClient, team: Team) -> None:
    team.member("olga", Role.OWNER)
    token = log_in(client, "olga")
    page = client.get("/projects/t").text
    assert "No releases yet." in page and 'action="/projects/t/releases"' in page
    made = client.post(
        "/projects/t/releases",
        data={"csrf_token": token, "name": "v1", "method": "majority"},
        follow_redirects=False,
    )
    assert made.status_code == 303 and made.headers["location"] == "/projects/t/releases/v1"
    release = client.get("/projects/t/releases/v1").text
    assert "Release v1" in release and "data-markdown=" in release
    assert '<option value="jsonl">' in release and '<option value="hf">' not in release
    again = client.post("/projects/t/releases", data={"csrf_token": token, "name": "v1"})
    assert again.status_code == 409 and "already exists" in again.text
    forged = client.post("/projects/t/releases", data={"csrf_token": "x", "name": "v2"})
    assert forged.status_code == 403


def test_release_pages_follow_the_roles(client: TestClient, team: Team) -> None:
    releases.create(team.db, team.project, "v1", "majority", actor_id=None)
    team.member("vic", Role.VIEWER)
    token = log_in(client, "vic")
    page = client.get("/projects/t").text
    assert "/projects/t/releases/v1" in page and 'action="/projects/t/releases"' not in page
    assert client.get("/projects/t/releases/v1").status_code == 200
    refused = client.post("/projects/t/releases", data={"csrf_token": token, "name": "v2"})
    assert refused.status_code == 403
    client.cookies.clear()
    log_in(client, "ann")
    assert client.get("/projects/t/releases/v1").status_code == 403


def test_two_people_releasing_the_same_name_at_once_get_one_release(team: Team) -> None:
    start = threading.Barrier(2)
    outcomes: list[str] = []

    def release() -> None:
        start.wait()
        try:
            releases.create(team.db, team.project, "v1", "majority", actor_id=None)
            outcomes.append("created")
        except Conflict:
            outcomes.append("conflict")

    threads = [threading.Thread(target=release) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["conflict", "created"]
    assert [r.name for r in releases.listing(team.db, team.project)] == ["v1"]
    assert releases.verify(team.db, team.project, "v1")[0]


def test_answers_that_no_longer_fit_the_spec_are_left_out_and_named(team: Team) -> None:
    changed = spec()
    changed["questions"][0]["labels"] = ["billing", "hardware"]  # "tech" is gone
    projects.apply_spec(team.db, parse_spec({**changed, "workflow": {"overlap": 3}}))
    project = projects.get(team.db, "t")
    release = releases.create(team.db, project, "v1", "majority", actor_id=None)
    rows = {row.external_id: row for row in releases.rows(team.db, project, "v1")}
    assert (rows["t-1"].answers["team"], rows["t-1"].sources["team"]) == (None, "invalid")
    assert (rows["t-0"].answers["team"], rows["t-0"].sources["team"]) == ("billing", "majority")
    # t-2 (billing, tech, tech) now has one vote that fits: billing.
    assert (rows["t-2"].answers["team"], rows["t-2"].sources["team"]) == ("billing", "majority")
    assert "- 1 answers left out: they no longer fit the questions." in release.card
    assert "tied votes" not in release.card
    team.member("olga", Role.OWNER)
    parquet = _download(team, "olga", "v1", "format=parquet")
    assert parquet.status_code == 200 and parquet.content.startswith(b"PAR1")
