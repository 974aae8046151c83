"""Suspected label errors: confident learning against cleanlab as the oracle, and the check
"disagreement with a confident model" finding planted errors in labels given over HTTP."""

from __future__ import annotations

import random
from typing import Any

import numpy as np
import pytest
from cleanlab.filter import find_label_issues
from cleanlab.multilabel_classification.filter import find_label_issues as find_multilabel_issues
from fastapi.testclient import TestClient

from labelwise.db.engine import Database
from labelwise.learning.baseline import OutOfFold, out_of_fold
from labelwise.learning.label_errors import suspects
from labelwise.policies import Role
from labelwise.services import imports, projects
from labelwise.services.checks.model_disagreement import HAS, LACKS
from labelwise.spec import parse_spec
from tests.teams import Team, answer_all, spec

WORDS = {
    "billing": [
        "invoice",
        "refund",
        "charged",
        "payment",
        "bill",
        "card",
        "price",
        "overcharged",
        "receipt",
    ],
    "tech": ["crash", "error", "login", "bug", "screen", "app", "freezes", "password", "update"],
}
PLANTED = {"t-3", "t-17", "t-42"}  # labelled as the other team


@pytest.mark.parametrize(("seed", "classes"), [(1, 2), (2, 3), (3, 6)])
def test_the_suspects_are_cleanlabs(seed: int, classes: int) -> None:
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, classes, 3000)
    labels = np.where(rng.random(3000) < 0.1, rng.integers(0, classes, 3000), truth)
    alpha = np.ones((3000, classes)) + 6 * np.eye(classes)[truth]  # sure of the truth, mostly
    probabilities = np.array([rng.dirichlet(a) for a in alpha])
    scored = OutOfFold([f"c{j}" for j in range(classes)], labels, probabilities)
    ours = sorted(s.index for s in suspects(scored))
    mask = find_label_issues(labels, probabilities, filter_by="confident_learning")
    assert ours == np.flatnonzero(mask).tolist() and len(ours) > 50


def test_out_of_fold_needs_two_classes_with_two_items() -> None:
    assert out_of_fold(["a", "b", "c"], ["x", "x", "x"]) is None
    assert out_of_fold(["a", "b", "c"], ["x", "x", "y"]) is None


def _tickets(n: int) -> tuple[list[dict[str, str]], dict[str, dict[str, str]]]:
    """Items whose words tell their team, and the answers to give (the planted ones wrong)."""
    rng = random.Random(7)
    items, answers = [], {}
    for i in range(n):
        team = ["billing", "tech"][i % 2]
        text = " ".join(rng.choices(WORDS[team], k=6))
        wrong = "tech" if team == "billing" else "billing"
        items.append({"id": f"t-{i}", "text": text})
        answers[f"t-{i}"] = {"team": wrong if f"t-{i}" in PLANTED else team}
    return items, answers


def _labelled(client: TestClient, db: Database, checks: dict[str, Any], n: int) -> Team:
    """n tickets, each labelled once by ana over HTTP; boss may run the checks."""
    team = Team(client, db, 0, quality={"checks": checks})
    items, answers = _tickets(n)
    rows = [(i + 1, item, None) for i, item in enumerate(items)]
    parsed = parse_spec(spec({"checks": checks}))
    imports.import_items(db, team.project.id, parsed, rows, source="test")
    team.member("boss", Role.MANAGER)
    team.member("ana")
    answer_all(team, "ana", answers)
    return team


def test_a_confident_model_sends_planted_errors_back_to_review(
    client: TestClient, db: Database
) -> None:
    checks = {"model_disagreement": {"min_items": 40}, "send_to_review": True}
    team = _labelled(client, db, checks, 60)
    run = team.post("boss", "/api/v1/projects/t/checks/run").json()
    assert "model_disagreement" in run["checks"]
    found = team.client.get("/api/v1/projects/t/checks", headers=team.auth("boss")).json()
    flagged = {f["external_id"] for f in found if f["check"] == "model_disagreement"}
    assert flagged >= PLANTED and len(flagged) <= len(PLANTED) + 2
    message = next(f["message"] for f in found if f["external_id"] == "t-3")
    assert "the consensus 'billing' looks wrong" in message and "it gives 'tech'" in message
    assert team.item("t-3").status == "in_review" and team.item("t-4").status == "done"


def test_too_few_items_train_no_model(client: TestClient, db: Database) -> None:
    checks = {"model_disagreement": {"min_items": 100}}
    team = _labelled(client, db, checks, 30)
    assert team.post("boss", "/api/v1/projects/t/checks/run").json()["counts"] == {}


@pytest.mark.parametrize("seed", [4, 5])
def test_multi_label_suspects_are_cleanlabs(seed: int) -> None:
    """A label at a time, as cleanlab's multi-label filter: given or left out, per label."""
    rng = np.random.default_rng(seed)
    n, k = 2000, 4
    truth = rng.random((n, k)) < 0.35
    given = truth ^ (rng.random((n, k)) < 0.08)
    probabilities = np.clip(np.where(truth, 0.8, 0.2) + rng.normal(0, 0.15, (n, k)), 0.01, 0.99)
    ours: set[int] = set()
    for j in range(k):
        # the two classes in out_of_fold's order: "given" < "left out"
        binary = OutOfFold(
            [HAS, LACKS],
            np.where(given[:, j], 0, 1),
            np.column_stack([probabilities[:, j], 1 - probabilities[:, j]]),
        )
        ours |= {s.index for s in suspects(binary)}
    labels = [np.flatnonzero(row).tolist() for row in given]
    mask = find_multilabel_issues(labels, probabilities, filter_by="confident_learning")
    assert sorted(ours) == np.flatnonzero(mask).tolist() and len(ours) > 50


TAG_WORDS = {
    "refund": ["refund", "reimburse", "chargeback", "repay"],
    "login": ["login", "password", "signin", "locked"],
    "outage": ["down", "outage", "unavailable", "offline"],
}
# t-5 is about a refund but not tagged so; t-8 is tagged outage without a word of one
LEFT_OUT, ADDED = {"t-5": "refund"}, {"t-8": "outage"}


def test_a_multi_label_error_is_found_for_its_label(client: TestClient, db: Database) -> None:
    checks = {"model_disagreement": {"min_items": 40}}
    team = Team(client, db, 0, quality={"checks": checks})
    raw = spec({"checks": checks})
    raw["questions"].append({"name": "tags", "type": "multi_label", "labels": sorted(TAG_WORDS)})
    parsed = parse_spec(raw)
    projects.apply_spec(db, parsed)
    rng = random.Random(11)
    rows, answers = [], {}
    for i in range(150):
        tags = [t for t in sorted(TAG_WORDS) if rng.random() < 0.4] or ["refund"]
        if f"t-{i}" in LEFT_OUT:
            tags = ["login", LEFT_OUT[f"t-{i}"]]
        if f"t-{i}" in ADDED:
            tags = ["login", "refund"]
        words = [w for t in tags for w in rng.choices(TAG_WORDS[t], k=3)]
        rng.shuffle(words)
        rows.append((i + 1, {"id": f"t-{i}", "text": " ".join(words)}, None))
        given = set(tags) - {LEFT_OUT.get(f"t-{i}")} | {ADDED.get(f"t-{i}")} - {None}
        answers[f"t-{i}"] = {"team": "billing", "tags": sorted(given)}
    imports.import_items(db, team.project.id, parsed, rows, source="test")
    team.member("boss", Role.MANAGER)
    team.member("ana")
    answer_all(team, "ana", answers)
    assert team.post("boss", "/api/v1/projects/t/checks/run").status_code == 200
    found = team.client.get("/api/v1/projects/t/checks", headers=team.auth("boss")).json()
    flagged = {f["external_id"]: f["message"] for f in found if f["check"] == "model_disagreement"}
    assert {"t-5", "t-8"} <= set(flagged) and len(flagged) <= 4, flagged
    assert flagged["t-5"].startswith("tags: the consensus has 'refund' left out; that looks")
    assert flagged["t-8"].startswith("tags: the consensus has 'outage' given; that looks wrong")
