"""The quality report, the stats command and the consensus for the export, on projects
labeled through the real API, checked against figures computed by hand (on both backends)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from labelwise.cli.common import console
from labelwise.cli.main import app
from labelwise.db.engine import Database
from labelwise.errors import InvalidInput
from labelwise.policies import Role
from labelwise.quality import dawid_skene, wilson_interval
from labelwise.quality.stratified import stratified_proportion
from labelwise.services import projects, releases
from labelwise.services.gold import accuracy_by_annotator
from labelwise.services.reporting.consensus import ItemConsensus, consensus
from labelwise.spec import parse_spec
from tests.teams import Team, answer_all, judged_team, spec

# Who answers what on items t-0 .. t-3: (team, urgency). t-0 and t-2 are email, t-1 and t-3 chat.
TEAM_ANSWERS = {
    "ana": [("billing", 1), ("billing", 3), ("tech", None), ("tech", None)],
    "ben": [("billing", 1), ("billing", 3), ("tech", None), ("billing", None)],
    "cy": [("billing", 2), ("tech", 3), ("tech", None), ("tech", None)],
}


def verdict(team: Team, who: str, lease: dict[str, Any], body: dict[str, Any]) -> None:
    done = team.post(who, f"/api/v1/assignments/{lease['assignment_id']}/verdict", body)
    assert done.status_code == 200, done.text


@pytest.fixture
def labeled(client: TestClient, db: Database) -> Team:
    """Four items, three annotators each, an alpha target of 0.5."""
    team = Team(client, db, 4, overlap=3)
    target = {"agreement_target": {"metric": "krippendorff_alpha", "min": 0.5}}
    projects.apply_spec(db, parse_spec({**spec(overlap=3), "quality": target}))
    team.member("viv", Role.VIEWER)
    for who, given in TEAM_ANSWERS.items():
        team.member(who)
        answers = {
            f"t-{i}": {"team": label} | ({"urgency": urgency} if urgency else {})
            for i, (label, urgency) in enumerate(given)
        }
        answer_all(team, who, answers)
    return team


def report_of(team: Team, who: str = "viv") -> dict[str, Any]:
    answer = team.client.get("/api/v1/projects/t/quality", headers=team.auth(who))
    assert answer.status_code == 200, answer.text
    report: dict[str, Any] = answer.json()
    return report


def question(report: dict[str, Any], name: str) -> dict[str, Any]:
    found: dict[str, Any] = next(q for q in report["questions"] if q["name"] == name)
    return found


def test_agreement_equals_the_hand_computed_figures(labeled: Team) -> None:
    report = report_of(labeled)
    assert report["progress"] == {
        "items": 4,
        "by_status": {"done": 4},
        "annotations": 12,
        "annotators": 3,
    }
    team = question(report, "team")
    assert (team["items"], team["annotations"], team["unmatched"]) == (4, 12, 0)
    agreement = team["agreement"]
    # Coincidences (pairs within an item, weight 1/(m-1) = 1/2): BBB gives o_BB 3, TTT o_TT 3,
    # BBT and TBT each o_BB or o_TT 1 and o_BT = o_TB = 1. So o_BT + o_TB = 4 of n = 12 values,
    # n_B = n_T = 6: alpha = 1 - (n - 1) * 4 / (2 * 6 * 6) = 1 - 44/72 = 7/18.
    assert agreement["krippendorff_alpha"]["value"] == pytest.approx(7 / 18)
    low, high = agreement["krippendorff_alpha"]["low"], agreement["krippendorff_alpha"]["high"]
    assert low <= 7 / 18 <= high
    # Fleiss: P_i = 1, 1/3, 1, 1/3, so P = 2/3; chance 1/2 + 1/2 shares -> P_e = 1/2; kappa 1/3.
    assert agreement["fleiss_kappa"]["value"] == pytest.approx(1 / 3)
    # Cohen per pair: ana-ben and ana-cy agree on 3/4 with chance 1/2 -> 0.5; ben-cy agree on
    # 2/4 with chance (3*1 + 1*3)/16 = 0.375 -> 0.2. Light's kappa: (0.5 + 0.5 + 0.2) / 3.
    assert agreement["cohen_kappa"]["value"] == pytest.approx(0.4)

    # Ratings 1,1,2 and 3,3,3 (ordinal): delta^2(1,2) = (3/2)^2, (1,3) = 3.5^2, (2,3) = 2^2.
    # Observed sum 2 * 2.25 (one 1-2 coincidence each way); expected 2 * (2*1*2.25 + 2*3*12.25
    # + 1*3*4) = 180. alpha = 1 - 5 * 4.5 / 180 = 0.875 (nominal would be 0.545).
    urgency = question(report, "urgency")
    assert urgency["agreement"]["krippendorff_alpha"]["value"] == pytest.approx(0.875)
    assert "fleiss_kappa" not in urgency["agreement"]
    assert [(row["label"], row["answers"]) for row in urgency["labels"]] == [
        ("1", 2),
        ("2", 1),
        ("3", 3),
        ("4", 0),
        ("5", 0),
    ]


def test_target_labels_consensus_and_the_overall_figure(labeled: Team) -> None:
    report = report_of(labeled)
    assert report["agreement"] == {
        "metric": "krippendorff_alpha",
        "value": pytest.approx((7 / 18 + 0.875) / 2),
        "questions": 2,
        "target": 0.5,
        "met": False,
    }
    assert question(report, "team")["target_met"] is False
    assert question(report, "urgency")["target_met"] is True
    team = question(report, "team")
    # Majority: billing on t-0, t-1; tech on t-2, t-3. Answers against it: billing 5 of 6
    # right, tech 5 of 6, so F1 = 2*5 / (6 + 6) for both; with two labels each label's
    # kappa against the rest is Fleiss' kappa itself.
    assert team["labels"] == [
        {"label": "billing", "answers": 6, "consensus": 2, "kappa": pytest.approx(1 / 3),
         "f1": pytest.approx(5 / 6)},
        {"label": "tech", "answers": 6, "consensus": 2, "kappa": pytest.approx(1 / 3),
         "f1": pytest.approx(5 / 6)},
    ]  # fmt: skip
    majority = team["consensus"]["majority"]
    assert majority == {"labels": {"billing": 2, "tech": 2}, "unresolved": 0}
    dawid_skene = team["consensus"]["dawid_skene"]
    assert sum(dawid_skene["labels"].values()) + dawid_skene["unresolved"] == 4


def test_per_slice_and_per_annotator(labeled: Team) -> None:
    team = question(report_of(labeled), "team")
    # email: t-0 (BBB) and t-2 (TTT), unanimous: alpha 1. chat: t-1 (BBT) and t-3 (TBT):
    # o_BT + o_TB = 4 of n = 6, n_B = n_T = 3: alpha = 1 - 5 * 4 / (2 * 9) = -1/9.
    assert team["slices"] == {
        "channel": [
            {"value": "email", "items": 2, "annotations": 6, "agreement": pytest.approx(1.0)},
            {"value": "chat", "items": 2, "annotations": 6, "agreement": pytest.approx(-1 / 9)},
        ]
    }
    # Against the majority: ana 4/4; ben misses t-3, cy misses t-1.
    expected = {"ana": (4, 4), "ben": (3, 4), "cy": (3, 4)}
    rows = {row["annotator"]: row for row in team["annotators"]}
    assert set(rows) == set(expected)
    for name, (correct, total) in expected.items():
        interval = wilson_interval(correct, total)
        assert rows[name]["annotations"] == total
        assert rows[name]["accuracy"]["consensus"] == {
            "value": pytest.approx(correct / total),
            "low": pytest.approx(interval.low),
            "high": pytest.approx(interval.high),
        }


def test_every_question_type(client: TestClient, db: Database) -> None:
    team = Team(client, db, 2, overlap=2)
    extra = [
        {"name": "tags", "type": "multi_label", "labels": ["x", "y", "z"]},
        {"name": "who", "type": "spans", "field": "text", "labels": ["PRODUCT", "PERSON"]},
        {"name": "amount", "type": "number", "min": 0, "max": 100},
        {"name": "note", "type": "text", "required": False},
    ]
    base = spec(overlap=2)
    projects.apply_spec(db, parse_spec({**base, "questions": base["questions"] + extra}))
    product, person = {"label": "PRODUCT"}, {"label": "PERSON"}
    answers = {
        "ana": {
            "t-0": {"tags": ["x"], "who": [{"start": 0, "end": 6, **product}], "amount": 1},
            "t-1": {
                "tags": ["x", "y"],
                "who": [{"start": 0, "end": 6, **product}, {"start": 7, "end": 8, **person}],
                "amount": 2,
                "note": "unsure",
            },
        },
        "ben": {
            "t-0": {"tags": ["x"], "who": [{"start": 0, "end": 6, **product}], "amount": 1},
            "t-1": {"tags": ["y"], "who": [{"start": 0, "end": 5, **product}], "amount": 4},
        },
    }
    team.member("viv", Role.VIEWER)
    for who, given in answers.items():
        team.member(who)
        answer_all(team, who, {item: {"team": "billing", **a} for item, a in given.items()})
    report = report_of(team)

    # Multi-label as yes/no units (item, label): 12 values, 5 yes; only (t-1, x) disagrees.
    # alpha = 1 - (n - 1) * 2 / (2 * n_yes * n_no) = 1 - 11 * 2 / (2 * 5 * 7) = 48/70.
    tags = question(report, "tags")
    assert tags["agreement"]["krippendorff_alpha"]["value"] == pytest.approx(48 / 70)
    # Per label: x is (yes, yes), (yes, no): P = 1/2, P_e = 9/16 + 1/16, kappa -1/3; y is
    # (no, no), (yes, yes): kappa 1; nobody chose z: undefined.
    assert [(r["label"], r["answers"], r["consensus"]) for r in tags["labels"]] == [
        ("x", 3, 1),
        ("y", 2, 1),
        ("z", 0, 0),
    ]
    assert [r["kappa"] for r in tags["labels"]] == [pytest.approx(-1 / 3), pytest.approx(1), None]
    assert tags["consensus"]["majority"] == {"labels": {"x": 1, "y": 1, "z": 0}, "unresolved": 1}

    # Spans: t-0 both mark [0,6) PRODUCT: 2 of 2 matched. t-1: 3 spans, none exact; by
    # overlap both PRODUCT spans match each other: 2 of 3. Exact F1 2/5, overlap 4/5.
    spans = question(report, "who")
    assert spans["agreement"]["span_f1"]["value"] == pytest.approx(2 / 5)
    assert spans["agreement"]["span_f1_overlap"]["value"] == pytest.approx(4 / 5)
    assert [(r["label"], r["answers"], r["f1"]) for r in spans["labels"]] == [
        ("PRODUCT", 4, pytest.approx(2 / 4)),
        ("PERSON", 1, pytest.approx(0.0)),
    ]
    assert spans["slices"]["channel"][0]["agreement"] == pytest.approx(1.0)  # t-0, email

    # Numbers 1, 1 and 2, 4 (interval): observed 2 * (4 - 2)^2 = 8; expected over ordered
    # pairs 2 * (2*1*1 + 2*1*9 + 1*1*4) = 48; alpha = 1 - (4 - 1) * 8 / 48 = 0.5.
    amount = question(report, "amount")
    assert amount["agreement"]["krippendorff_alpha"]["value"] == pytest.approx(0.5)

    note = question(report, "note")
    assert (note["items"], note["annotations"], note["agreement"]) == (1, 1, {})
    assert question(report, "team")["agreement"]["krippendorff_alpha"]["value"] is None

    pid = team.project.id
    tag_consensus = consensus(db, pid, "tags")
    t0, t1 = team.item("t-0").id, team.item("t-1").id
    assert tag_consensus[t0] == ItemConsensus(["x"], 1.0, {"x": 1.0, "y": 0.0, "z": 0.0})
    assert tag_consensus[t1] == ItemConsensus(["y"], 0.5, {"x": 0.5, "y": 1.0, "z": 0.0})
    assert consensus(db, pid, "amount")[t1].answer == 3.0  # the median of 2 and 4
    assert consensus(db, pid, "amount", "mean")[t0] == ItemConsensus(1.0, None, None)
    with pytest.raises(InvalidInput, match="spans answers have no consensus"):
        consensus(db, pid, "who")


def test_review_estimate_is_the_stratified_estimator(
    client: TestClient, db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Seven items: email t-0, t-2, t-4, t-6 and chat t-1, t-3, t-5. Rate 1/2 picks the 1st and
    # 3rd finished item of each slice: t-0 and t-4 (email), t-1 and t-5 (chat).
    review = {"policy": "stratified", "rate": 0.5, "slice_by": "channel"}
    team = Team(client, db, 7, review=review)
    team.member("ana")
    team.member("rev", Role.REVIEWER)
    for _ in range(7):
        team.label("ana")
    verdicts: dict[str, dict[str, Any]] = {
        "t-0": {"verdict": "accept"},
        "t-1": {"verdict": "accept"},
        "t-4": {"verdict": "correct", "answers": {"team": "tech"}},
        "t-5": {"verdict": "reject", "feedback": "It is tech."},
    }
    while (lease := team.next("rev", "review/")) is not None:
        verdict(team, "rev", lease, verdicts[lease["item"]["external_id"]])
    rework = team.next("ana")
    assert rework["item"]["external_id"] == "t-5"
    team.submit("ana", rework["assignment_id"], "tech")
    verdict(team, "rev", team.next("rev", "review/"), {"verdict": "accept"})

    review_report = report_of(team, "rev")["review"]
    assert review_report["verdicts"] == {"accept": 3, "correct": 1, "reject": 1}
    estimate = review_report["estimate"]
    # First verdicts only (the rework's accept judges the fix, not the label as given):
    # email y = 1, 0 and chat y = 1, 0, so both means are 1/2 and s^2 = 1/2.
    # v = (4/7)^2 (1 - 2/4) (1/2) / 2 + (3/7)^2 (1 - 2/3) (1/2) / 2 = 2/49 + 0.75/49.
    error = math.sqrt(2.75 / 49)
    assert estimate["accuracy"]["value"] == pytest.approx(0.5)
    assert estimate["standard_error"] == pytest.approx(error)
    assert estimate["accuracy"]["low"] == pytest.approx(0.5 - 1.959964 * error)
    assert estimate["accuracy"]["high"] == pytest.approx(0.5 + 1.959964 * error)
    assert (estimate["finished_items"], estimate["reviewed_items"]) == (7, 4)
    assert estimate["covered"] == 1.0
    half = wilson_interval(1, 2)
    assert estimate["strata"] == [
        {"stratum": "email", "finished_items": 4, "reviewed_items": 2,
         "weight": pytest.approx(4 / 7),
         "accuracy": {"value": 0.5, "low": pytest.approx(half.low),
                      "high": pytest.approx(half.high)}},
        {"stratum": "chat", "finished_items": 3, "reviewed_items": 2,
         "weight": pytest.approx(3 / 7),
         "accuracy": {"value": 0.5, "low": pytest.approx(half.low),
                      "high": pytest.approx(half.high)}},
    ]  # fmt: skip

    monkeypatch.setattr(console, "width", 200)
    env = {"LABELWISE_DATABASE_URL": db.url, "LABELWISE_DATA_DIR": str(tmp_path / "data")}
    printed = CliRunner().invoke(app, ["stats", "t"], env=env).output
    assert "Review (stratified): estimated label accuracy" in printed
    assert "0.500 [0.036, 0.964]" in printed  # 0.5 -+ 1.96 * 0.2369
    assert "verdicts: accept 3, correct 1, reject 1" in printed


def test_annotators_against_gold(client: TestClient, db: Database) -> None:
    qualification = {"qualification": {"items": 1, "min_accuracy": 0.0}}
    team = Team(client, db, 3, overlap=2, quality=qualification)
    team.member("boss", Role.MANAGER)
    for who in ("ana", "ben"):
        team.member(who)
    gold = [{"id": "t-0", "answers": {"team": "billing"}}]
    assert team.post("boss", "/api/v1/projects/t/gold", gold).status_code == 200
    answer_all(team, "ana", {f"t-{i}": {"team": "billing"} for i in range(3)})
    answer_all(team, "ben", {f"t-{i}": {"team": "tech" if i == 0 else "billing"} for i in range(3)})
    rows = question(report_of(team, "boss"), "team")["annotators"]
    gold_scores = {row["annotator"]: row["accuracy"]["gold"] for row in rows}
    assert gold_scores["ana"]["value"] == 1.0 and gold_scores["ben"]["value"] == 0.0
    # t-0 ties (billing, tech): the consensus scores ana and ben on t-1 and t-2 only.
    assert {row["annotator"]: row["accuracy"]["consensus"]["value"] for row in rows} == {
        "ana": 1.0,
        "ben": 1.0,
    }


def test_check_findings_are_counted(client: TestClient, db: Database) -> None:
    team = Team(client, db, 2, quality={"checks": {"too_fast": {"min_ms": 1000}}})
    team.member("boss", Role.MANAGER)
    team.member("ana")
    answer_all(team, "ana", {f"t-{i}": {"team": "billing"} for i in range(2)})  # 900 ms each
    assert report_of(team, "boss")["checks"] == {}
    assert team.post("boss", "/api/v1/projects/t/checks/run").status_code == 200
    assert report_of(team, "boss")["checks"] == {"too_fast": 2}


def test_stratified_estimator_edges() -> None:
    # A stratum reviewed in full adds no sampling error (finite-population correction 0).
    full = stratified_proportion([0, 0, 1], [1.0, 0.0, 1.0], [2, 5])
    assert full.interval.estimate == pytest.approx(2 / 7 * 0.5 + 5 / 7 * 1.0)
    # Stratum 1: one unit of five, so its variance is the [0, 1] maximum 1/4.
    assert full.standard_error == pytest.approx(math.sqrt((5 / 7) ** 2 * (1 - 1 / 5) * 0.25))
    # A stratum without a sample is left out of the weights, and says so.
    partial = stratified_proportion([0, 0], [1.0, 1.0], [2, 6])
    assert partial.interval.estimate == 1.0 and partial.covered == pytest.approx(2 / 8)
    assert list(partial.weights) == [1.0, 0.0]


def test_nothing_labeled_yet(client: TestClient, db: Database) -> None:
    team = Team(client, db, 3, review={"policy": "all"})
    team.member("viv", Role.VIEWER)
    report = report_of(team)
    assert report["progress"]["by_status"] == {"new": 3}
    assert report["agreement"]["value"] is None
    assert report["checks"] == {}
    assert report["review"] == {
        "policy": "all",
        "slice_by": None,
        "verdicts": {},
        "estimate": None,
    }


def test_adjudicated_answer_outranks_the_vote(client: TestClient, db: Database) -> None:
    team = Team(client, db, 1, overlap=2, adjudicate="disagreement")
    for who in ("ana", "ben"):
        team.member(who)
    team.member("boss", Role.MANAGER)
    team.label("ana", "billing")
    team.label("ben", "tech")
    item = team.item("t-0").id
    tied = consensus(db, team.project.id, "team")[item]
    assert tied == ItemConsensus(None, 0.5, {"billing": 0.5, "tech": 0.5})
    lease = team.next("boss", "adjudication/")
    team.submit("boss", lease["assignment_id"], "tech")
    settled = consensus(db, team.project.id, "team", "dawid-skene")
    assert dict(settled) == {item: ItemConsensus("tech", 1.0, {"billing": 0.0, "tech": 1.0})}
    with pytest.raises(InvalidInput, match="majority or dawid-skene"):
        consensus(db, team.project.id, "team", "median")


def test_stats_command_prints_the_report(
    labeled: Team, db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(console, "width", 200)
    env = {"LABELWISE_DATABASE_URL": db.url, "LABELWISE_DATA_DIR": str(tmp_path / "data")}
    printed = CliRunner().invoke(app, ["stats", "t"], env=env)
    assert printed.exit_code == 0, printed.output
    for title in ("Progress of t", "Agreement", "Per label", "Per slice", "Per annotator"):
        assert title in printed.output
    assert "Consensus" in printed.output and "Review (none)" in printed.output
    assert "0.389 [" in printed.output  # alpha of "team", with its interval
    assert "target ≥ 0.5: NOT met" in printed.output
    assert "0.750 [" in printed.output  # ben's and cy's agreement with the consensus

    as_json = CliRunner().invoke(app, ["stats", "t", "--json"], env=env)
    assert as_json.exit_code == 0, as_json.output
    assert json.loads(as_json.output) == report_of(labeled)

    missing = CliRunner().invoke(app, ["stats", "nosuch"], env=env)
    assert missing.exit_code == 1 and "not found" in missing.output


@pytest.fixture
def judged(client: TestClient, db: Database) -> Team:
    return judged_team(client, db)


def wilson(correct: int, total: int) -> dict[str, Any]:
    interval = wilson_interval(correct, total)
    return {
        "value": pytest.approx(interval.estimate),
        "low": pytest.approx(interval.low),
        "high": pytest.approx(interval.high),
    }


def test_gold_accuracy_per_annotator(judged: Team) -> None:
    report = report_of(judged, "boss")
    # t-0 is the one gold item: ana's answer matches it, ben's and cy's do not.
    assert report["annotators"] == [
        {"annotator": "ana", "annotations": 2, "gold_answers": 1, "gold_accuracy": wilson(1, 1)},
        {"annotator": "ben", "annotations": 2, "gold_answers": 1, "gold_accuracy": wilson(0, 1)},
        {"annotator": "cy", "annotations": 2, "gold_answers": 1, "gold_accuracy": wilson(0, 1)},
    ]
    # The same figures as `labelwise gold accuracy`, which reads them from the database.
    scores = accuracy_by_annotator(judged.db, judged.project.id)
    assert [(s.annotator, s.answered, s.correct, s.low, s.high) for s in scores] == [
        (row["annotator"], row["gold_answers"], round(row["gold_accuracy"]["value"]),
         row["gold_accuracy"]["low"], row["gold_accuracy"]["high"])
        for row in report["annotators"]
    ]  # fmt: skip
    rows = question(report, "team")["annotators"]
    assert {row["annotator"]: row["accuracy"]["gold"] for row in rows} == {
        "ana": wilson(1, 1),
        "ben": wilson(0, 1),
        "cy": wilson(0, 1),
    }


def test_span_and_number_figures_per_annotator(judged: Team) -> None:
    report = report_of(judged, "boss")
    # Exact span F1 over the pairs each annotator is in, 2|A & B| / (|A| + |B|) summed:
    # t-0: ana-ben 2 of 2, ana-cy 0 of 2, ben-cy 0 of 2; t-1: ana-ben 0 of 1, ana-cy 2 of 2,
    # ben-cy 0 of 1. ana (2 + 0 + 0 + 2) / (2 + 2 + 1 + 2) = 4/7, ben 2/6, cy 2/7.
    spans = question(report, "who")
    assert spans["agreement"]["span_f1"]["value"] == pytest.approx(4 / 10)
    assert {row["annotator"]: row["agreement"] for row in spans["annotators"]} == {
        "ana": {"span_f1": {"value": pytest.approx(4 / 7), "low": None, "high": None}},
        "ben": {"span_f1": {"value": pytest.approx(2 / 6), "low": None, "high": None}},
        "cy": {"span_f1": {"value": pytest.approx(2 / 7), "low": None, "high": None}},
    }
    # Numbers 1, 2, 6 on t-0 and 2, 2, 2 on t-1; distance from the others' mean on t-0:
    # ana |1 - 4| = 3, ben |2 - 3.5| = 1.5, cy |6 - 1.5| = 4.5; t-1 adds 0 for everybody.
    amount = question(report, "amount")
    deviation = {
        row["annotator"]: row["agreement"]["mean_abs_deviation"]["value"]
        for row in amount["annotators"]
    }
    assert deviation == {"ana": 1.5, "ben": 0.75, "cy": 2.25}
    assert all(row["weight"] is None for row in amount["annotators"] + spans["annotators"])


def test_weighted_vote_weighs_annotators_by_their_gold_accuracy(judged: Team) -> None:
    team = question(report_of(judged, "boss"), "team")
    # Weights log((K - 1) p / (1 - p)) with p = (right + 1) / (gold answers + 2): ana 2/3,
    # log 2; ben and cy 1/3, at or below chance (1/2), so no say.
    weights = {row["annotator"]: row["weight"] for row in team["annotators"]}
    assert weights == {"ana": pytest.approx(math.log(2)), "ben": 0.0, "cy": 0.0}
    # Majority: t-0 tech (2 of 3), t-1 billing; weighted, ana decides: t-0 billing, t-1 tech.
    assert team["consensus"]["majority"] == {"labels": {"billing": 1, "tech": 1}, "unresolved": 0}
    assert team["consensus"]["weighted"] == {"labels": {"billing": 1, "tech": 1}, "unresolved": 0}
    pid, t0, t1 = judged.project.id, judged.item("t-0").id, judged.item("t-1").id
    weighted = consensus(judged.db, pid, "team", "weighted")
    assert weighted[t0] == ItemConsensus("billing", 1.0, {"billing": 1.0, "tech": 0.0})
    assert weighted[t1] == ItemConsensus("tech", 1.0, {"billing": 0.0, "tech": 1.0})
    assert consensus(judged.db, pid, "team")[t1].answer == "billing"

    project = projects.get(judged.db, "t")  # with the spans and number questions
    releases.create(judged.db, project, "v1", "weighted", actor_id=None)
    rows = {row.external_id: row for row in releases.rows(judged.db, project, "v1")}
    assert (rows["t-1"].answers["team"], rows["t-1"].sources["team"]) == ("tech", "weighted")
    # A question without the method takes its default: numbers their median.
    assert rows["t-1"].sources["amount"] == "median"


def test_dawid_skene_confusion_per_annotator(labeled: Team) -> None:
    team = question(report_of(labeled), "team")
    # The same fit on the answers coded by hand: items t-0..t-3, annotators in the order they
    # first answered (ana, ben, cy), billing 0 and tech 1.
    given = [
        [0 if label == "billing" else 1 for label, _ in TEAM_ANSWERS[who]]
        for who in ("ana", "ben", "cy")
    ]
    fit = dawid_skene(
        [i for _ in given for i in range(4)],
        [w for w in range(3) for _ in range(4)],
        [label for labels in given for label in labels],
    )
    confusion = team["confusion"]
    assert confusion["labels"] == ["billing", "tech"]
    assert list(confusion["matrices"]) == ["ana", "ben", "cy"]
    for code, name in enumerate(("ana", "ben", "cy")):
        matrix = confusion["matrices"][name]
        assert np.allclose(matrix, fit.confusion[code])
        assert np.allclose(np.sum(matrix, axis=1), 1.0)
    # cy said tech on t-1, which the others call billing: her billing row shows it.
    assert confusion["matrices"]["cy"][0][1] > confusion["matrices"]["ana"][0][1]
    assert question(report_of(labeled), "urgency")["confusion"]["labels"] == list("12345")
