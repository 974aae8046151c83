"""Dataset releases: frozen answers, content hash, immutability, diff and the dataset card."""

from __future__ import annotations

import hashlib

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from labelwise.db.engine import Database
from labelwise.db.models import Item
from labelwise.db.release_models import ReleaseRowRecord
from labelwise.errors import Conflict, InvalidInput, NotFound
from labelwise.policies import Role
from labelwise.services import releases
from tests.teams import Team

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
    assert releases.verify(team.db, team.project, "v1") == (True, expected)
    with team.db.write() as session:
        session.execute(
            update(ReleaseRowRecord).values(row=ReleaseRowRecord.row + " ").where(
                ReleaseRowRecord.item_id == team.item("t-1").id
            )
        )
    assert releases.verify(team.db, team.project, "v1") == (False, expected)


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
    guidelines.publish(team.db, team.project, "# Rules\n\nBilling is money.", "first rules", actor_id=None)
    for who in ("ann", "bob", "cat"):
        team.label(who, "billing")
    release = releases.create(team.db, team.project, "v1", "majority", actor_id=None)
    rows = {row.external_id: row for row in releases.rows(team.db, team.project, "v1")}
    assert {a["guideline_version"] for a in rows["t-4"].annotations} == {1}
    assert {a["guideline_version"] for a in rows["t-0"].annotations} == {None}
    assert "| v1 | 3 | first rules |" in release.card


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


def test_card_lists_open_escalations(team: Team) -> None:
    lease = team.next("ann")
    assert lease is not None
    asked = team.post(
        "ann", f"/api/v1/assignments/{lease['assignment_id']}/escalate", {"question": "Spam?"}
    )
    assert asked.status_code in (200, 201), asked.text
    card = releases.create(team.db, team.project, "v1", "majority", actor_id=None).card
    assert "- 1 open escalations:" in card
    assert "  - `t-4`: Spam?" in card


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
