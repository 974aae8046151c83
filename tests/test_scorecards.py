"""Annotator scorecards on small projects labeled through the real API, against figures
worked out by hand (on both backends), and who may read whose."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from labelwise.db.engine import Database
from labelwise.policies import Role
from labelwise.quality import wilson_interval
from labelwise.services import gold
from labelwise.spec import parse_spec
from tests.teams import Team, answer_all, spec
from tests.test_web import log_in

# Who answers what on items t-0 .. t-3 (team, urgency), and how long each takes (ms).
ANSWERS = {
    "ana": [("billing", 1), ("billing", 3), ("tech", None), ("tech", None)],
    "ben": [("billing", 1), ("billing", 3), ("tech", None), ("billing", None)],
    "cy": [("billing", 2), ("tech", 3), ("tech", None), ("tech", None)],
}
TIMES = [1000, 2000, 3000, 4000]
# The gold answer of t-3: ana and cy are right, ben is not.
GOLD = {"team": "tech"}


def _label(team: Team, who: str) -> None:
    while (lease := team.next(who)) is not None:
        number = int(lease["item"]["external_id"].removeprefix("t-"))
        label, urgency = ANSWERS[who][number]
        answers = {"team": label} | ({"urgency": urgency} if urgency else {})
        body = {"answers": answers, "time_ms": TIMES[number]}
        done = team.post(who, f"/api/v1/assignments/{lease['assignment_id']}/submit", body)
        assert done.status_code == 200, done.text


@pytest.fixture
def labeled(client: TestClient, db: Database) -> Team:
    """Four items, three annotators each; t-3 is made a gold item afterwards."""
    team = Team(client, db, 4, overlap=3)
    team.member("viv", Role.VIEWER)
    for who in ANSWERS:
        team.member(who)
        _label(team, who)
    parsed = parse_spec(spec(overlap=3))
    gold.set_gold(db, team.project.id, parsed, team.item("t-3").id, GOLD, None, None)
    return team


def card(team: Team, reader: str, of: str) -> Any:
    return team.client.get(f"/api/v1/projects/t/annotators/{of}", headers=team.auth(reader))


def scorecard(team: Team, reader: str, of: str) -> dict[str, Any]:
    answer = card(team, reader, of)
    assert answer.status_code == 200, answer.text
    found: dict[str, Any] = answer.json()
    return found


def wilson(successes: int, trials: int) -> dict[str, float]:
    interval = wilson_interval(successes, trials)
    return {"value": interval.estimate, "low": interval.low, "high": interval.high}


def question(found: dict[str, Any], name: str) -> dict[str, Any]:
    row: dict[str, Any] = next(q for q in found["questions"] if q["name"] == name)
    return row


def test_gold_accuracy_is_the_quality_reports(labeled: Team) -> None:
    assert scorecard(labeled, "viv", "ana")["gold_accuracy"] == pytest.approx(wilson(1, 1))
    ben = scorecard(labeled, "viv", "ben")
    assert (ben["gold_answers"], ben["gold_accuracy"]) == (1, pytest.approx(wilson(0, 1)))
    report = labeled.client.get("/api/v1/projects/t/quality", headers=labeled.auth("viv"))
    rows = {row["annotator"]: row["gold_accuracy"] for row in report.json()["annotators"]}
    assert rows["ben"] == ben["gold_accuracy"]


def test_consensus_leaves_the_annotators_own_vote_out(labeled: Team) -> None:
    # Team, others of ana: t-0 billing+billing (she agrees), t-1 and t-3 tie (left out),
    # t-2 tech+tech (agrees): 2 of 2. Ben: t-3 ana and cy say tech, he billing: 2 of 3.
    ana = question(scorecard(labeled, "viv", "ana"), "team")
    assert (ana["answers"], ana["compared"]) == (4, 2)
    assert ana["consensus"] == pytest.approx(wilson(2, 2))
    ben = question(scorecard(labeled, "viv", "ben"), "team")
    assert ben["consensus"] == pytest.approx(wilson(2, 3))
    # Urgency, others of ana: t-0 1 and 2 tie, t-1 3 and 3: she agrees, 1 of 1.
    urgency = question(scorecard(labeled, "viv", "ana"), "urgency")
    assert (urgency["answers"], urgency["compared"]) == (2, 1)


def test_agreement_with_each_co_annotator(labeled: Team) -> None:
    # ana-ben and ana-cy agree on 3 of 4 with chance 1/2: kappa 0.5 (as in the report's test);
    # ben-cy agree on 2 of 4 with chance 0.375: kappa 0.2.
    ana = question(scorecard(labeled, "viv", "ana"), "team")["peers"]
    assert [(p["annotator"], p["shared_items"]) for p in ana] == [("ben", 4), ("cy", 4)]
    assert [p["agreement"] for p in ana] == [0.75, 0.75]
    assert [p["kappa"] for p in ana] == pytest.approx([0.5, 0.5])
    ben = question(scorecard(labeled, "viv", "ben"), "team")["peers"]
    assert {p["annotator"]: p["kappa"] for p in ben} == pytest.approx({"ana": 0.5, "cy": 0.2})


def test_speed_per_question_type(labeled: Team) -> None:
    speed = {row["type"]: row for row in scorecard(labeled, "viv", "ana")["speed"]}
    assert list(speed) == ["all", "rating", "single_label"]
    every = [t / 1000 for t in TIMES]
    assert speed["all"]["annotations"] == 4
    assert speed["all"]["median_seconds"] == pytest.approx(2.5)
    assert speed["all"]["p90_seconds"] == pytest.approx(float(np.percentile(every, 90)))
    # Ana rated urgency on t-0 and t-1 only (1 s and 2 s).
    assert (speed["rating"]["annotations"], speed["rating"]["median_seconds"]) == (2, 1.5)


def test_trend_sums_to_the_totals(labeled: Team) -> None:
    found = scorecard(labeled, "viv", "ana")
    trend = found["trend"]
    assert sum(row["annotations"] for row in trend) == found["annotations"] == 4
    assert sum(row["gold_answers"] for row in trend) == 1
    # Per week, every label question's comparisons: team 2 + urgency 1, all equal.
    assert sum(row["compared"] for row in trend) == 3
    assert all(row["consensus"] == 1.0 for row in trend if row["compared"])


def test_an_annotator_sees_only_their_own(labeled: Team) -> None:
    assert scorecard(labeled, "ana", "ana")["annotator"] == "ana"
    other = card(labeled, "ana", "ben")
    assert other.status_code == 404 and "ben" in other.json()["detail"]
    # Nobody is told whether a name exists, or works elsewhere.
    assert card(labeled, "ana", "nobody").status_code == 404
    assert card(labeled, "viv", "nobody").status_code == 404


def test_verdicts_and_feedback_received(client: TestClient, db: Database) -> None:
    team = Team(client, db, 4, review={"policy": "all"})
    team.member("ana")
    team.member("rev", Role.REVIEWER)
    for _ in range(4):
        team.label("ana")
    verdicts: dict[str, dict[str, Any]] = {
        "t-0": {"verdict": "accept"},
        "t-1": {"verdict": "accept"},
        "t-2": {"verdict": "correct", "answers": {"team": "tech"}},
        "t-3": {"verdict": "reject", "feedback": "It is tech."},
    }
    while (lease := team.next("rev", "review/")) is not None:
        body = verdicts[lease["item"]["external_id"]]
        path = f"/api/v1/assignments/{lease['assignment_id']}/verdict"
        assert team.post("rev", path, body).status_code == 200
    item = team.item("t-1").id
    note = {"body": "Look at the sender."}
    assert team.post("rev", f"/api/v1/projects/t/items/{item}/comments", note).status_code == 201
    found = scorecard(team, "ana", "ana")
    assert found["verdicts"] == {
        "accept": 2,
        "reject": 1,
        "correct": 1,
        "accepted": pytest.approx(wilson(2, 4)),
    }
    feedback = found["feedback"]
    assert feedback["comments"] == 1
    assert [(c["item_id"], c["author"], c["body"]) for c in feedback["recent_comments"]] == [
        (item, "rev", "Look at the sender.")
    ]
    notes = [(r["verdict"], r["feedback"]) for r in feedback["recent_reviews"]]
    assert sorted(notes, key=str) == sorted([("reject", "It is tech."), ("correct", None)], key=str)


def test_the_page_draws_the_same_figures(labeled: Team) -> None:
    log_in(labeled.client, "viv")
    page = labeled.client.get("/projects/t/annotators/ben")
    assert page.status_code == 200, page.text
    assert "Scorecard: ben" in page.text and 'role="img"' in page.text
    assert "0.0%" in page.text  # his gold accuracy, 0 of 1
    assert "style=" not in page.text
    project = labeled.client.get("/projects/t").text
    assert 'href="/projects/t/annotators/ben"' in project


def test_an_annotators_page_is_their_own_only(labeled: Team) -> None:
    log_in(labeled.client, "ana")
    assert 'href="/projects/t/annotators/ana"' in labeled.client.get("/projects/t").text
    assert labeled.client.get("/projects/t/annotators/ana").status_code == 200
    other = labeled.client.get("/projects/t/annotators/ben")
    assert other.status_code == 404 and "text/html" in other.headers["content-type"]


def test_a_member_without_work_has_an_empty_scorecard(labeled: Team) -> None:
    found = scorecard(labeled, "viv", "viv")
    assert (found["annotations"], found["gold_accuracy"], found["speed"]) == (0, None, [])
    assert [(q["answers"], q["consensus"], q["peers"]) for q in found["questions"]] == [
        (0, None, []),
        (0, None, []),
    ]
    assert found["verdicts"]["accepted"] is None and found["trend"] == []


def test_an_answer_a_reviewer_corrected_is_not_scored(client: TestClient, db: Database) -> None:
    team = Team(client, db, 2, overlap=2, review={"policy": "all"})
    given = {"ana": ("billing", "billing"), "ben": ("tech", "billing")}
    for who, (first, second) in given.items():
        team.member(who)
        answer_all(team, who, {"t-0": {"team": first}, "t-1": {"team": second}})
    team.member("rev", Role.REVIEWER)
    while (lease := team.next("rev", "review/")) is not None:
        wrong = lease["item"]["external_id"] == "t-0" and lease["answers"]["team"] == "billing"
        body = (
            {"verdict": "correct", "answers": {"team": "tech"}} if wrong else {"verdict": "accept"}
        )
        path = f"/api/v1/assignments/{lease['assignment_id']}/verdict"
        assert team.post("rev", path, body).status_code == 200
    # Ana's t-0 now holds the reviewer's answer, not hers: she is compared on t-1 only.
    ana = scorecard(team, "rev", "ana")
    assert ana["verdicts"]["correct"] == 1
    assert [(q["answers"], q["compared"]) for q in ana["questions"][:1]] == [(2, 1)]
    assert question(ana, "team")["consensus"] == pytest.approx(wilson(1, 1))
    # Ben is compared with the data as it stands: the correction (tech) on t-0.
    assert question(scorecard(team, "rev", "ben"), "team")["consensus"] == pytest.approx(
        wilson(2, 2)
    )
