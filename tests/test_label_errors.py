"""Suspected label errors: confident learning against cleanlab as the oracle, and the check
"disagreement with a confident model" finding planted errors in labels given over HTTP."""

from __future__ import annotations

import random
from typing import Any

import numpy as np
import pytest
from cleanlab.filter import find_label_issues
from fastapi.testclient import TestClient

from labelwise.db.engine import Database
from labelwise.learning.baseline import OutOfFold, out_of_fold
from labelwise.learning.label_errors import suspects
from labelwise.policies import Role
from labelwise.services import imports
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
