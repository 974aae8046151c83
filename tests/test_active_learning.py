"""`workflow.order: uncertainty`: after labels arrive over HTTP, the background sweep retrains
the built-in model and the queue serves the items it is least sure of first."""

from __future__ import annotations

import random

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from labelwise.db.audit_models import AuditEvent
from labelwise.db.engine import Database
from labelwise.db.models import Item
from labelwise.services import active_learning, imports, projects
from labelwise.services.background import Sweeper
from labelwise.spec import SpecError, parse_spec
from tests.teams import Team, spec

BILLING = ["invoice", "refund", "charged", "payment", "bill", "card", "price", "receipt"]
TECH = ["crash", "error", "login", "bug", "screen", "app", "freezes", "password"]
UNCERTAIN = {"order": "uncertainty", "retrain_every": 5}


def _team(client: TestClient, db: Database) -> Team:
    """30 clear tickets (t-0..t-29, alternating teams), then 10 that mix both (t-30..t-39)."""
    team = Team(client, db, 0, **UNCERTAIN)
    rng = random.Random(3)
    items = [
        {"id": f"t-{i}", "text": " ".join(rng.choices([BILLING, TECH][i % 2], k=6))}
        for i in range(30)
    ]
    items += [
        {"id": f"t-{i}", "text": " ".join(rng.choices(BILLING, k=3) + rng.choices(TECH, k=3))}
        for i in range(30, 40)
    ]
    rows = [(i + 1, item, None) for i, item in enumerate(items)]
    imports.import_items(db, team.project.id, parse_spec(spec(**UNCERTAIN)), rows, source="t")
    team.member("ana")
    team.member("ben")
    return team


def _label(team: Team, who: str, n: int) -> None:
    """Label n items as their words say (the clear ones come first in import order)."""
    for _ in range(n):
        lease = team.next(who)
        words = set(lease["item"]["data"]["text"].split())
        answer = team.submit(
            who, lease["assignment_id"], "tech" if words & set(TECH) else "billing"
        )
        assert answer.status_code == 200, answer.text


def _orderings(db: Database) -> int:
    with db.read() as session:
        query = select(func.count()).where(AuditEvent.action == "items.prioritized")
        return int(session.scalar(query) or 0)


def test_the_least_sure_items_come_first_after_a_retrain(client: TestClient, db: Database) -> None:
    team = _team(client, db)
    _label(team, "ana", 10)
    assert Sweeper(db).sweep() == ["t"] and _orderings(db) == 1
    served = [team.next(who)["item"]["external_id"] for who in ("ben", "ana")]
    assert all(int(external_id[2:]) >= 30 for external_id in served), served
    assert team.item("t-35").priority > team.item("t-20").priority > 0


def test_retrained_only_after_retrain_every_new_annotations(
    client: TestClient, db: Database
) -> None:
    team = _team(client, db)
    _label(team, "ana", 10)
    now = [0.0]
    sweeper = Sweeper(db, clock=lambda: now[0])  # no time passes within a run: no cool-down
    sweeper.sweep()
    _label(team, "ana", 4)
    sweeper.sweep()
    assert _orderings(db) == 1  # 4 new annotations, fewer than retrain_every
    _label(team, "ana", 1)
    sweeper.sweep()
    assert _orderings(db) == 2


def test_nothing_to_learn_from_one_label_yet(client: TestClient, db: Database) -> None:
    team = _team(client, db)
    _label(team, "ana", 1)  # one item, one label: no model
    Sweeper(db).sweep()
    assert _orderings(db) == 0 and team.next("ben")["item"]["external_id"] == "t-1"


def test_uncertainty_needs_something_to_learn() -> None:
    bad = spec(order="uncertainty")
    bad["questions"] = [{"name": "urgency", "type": "rating", "min": 1, "max": 5}]
    with pytest.raises(
        SpecError, match=r"workflow\.order.*single_label or multi_label question and a text"
    ):
        parse_spec(bad)


def test_a_training_moves_only_the_front_of_the_queue_ahead_of_all_others(
    client: TestClient, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each training writes the FRONT least sure items, above every open item's priority."""
    monkeypatch.setattr(active_learning, "FRONT", 3)
    team = _team(client, db)
    _label(team, "ana", 10)
    first = active_learning.reorder(db, team.project)
    assert first is not None and (first.scored, first.ranked) == (30, 3)
    front = {i.external_id: i.priority for i in _open_items(db) if i.priority >= 1}
    assert len(front) == 3 and all(int(eid[2:]) >= 30 for eid in front), front
    assert all(1 <= p < 2 for p in front.values())
    _label(team, "ben", 2)  # the front goes first
    assert len([i for i in _open_items(db) if i.external_id in front]) == 1
    assert active_learning.reorder(db, team.project) is not None
    newest = {i.external_id for i in _open_items(db) if i.priority >= 2}
    assert len(newest) == 3  # the next generation, above what is left of the first
    assert team.next("ben")["item"]["external_id"] in newest


def _open_items(db: Database) -> list[Item]:
    with db.read() as session:
        return list(session.scalars(select(Item).where(Item.status.in_(["new", "in_progress"]))))


def test_a_multi_label_question_is_learned_a_label_at_a_time(
    client: TestClient, db: Database
) -> None:
    """The first learnable question is multi-label: the texts that mix both come first."""
    team = _team(client, db)
    raw = spec(**UNCERTAIN)
    tags = {"name": "tags", "type": "multi_label", "labels": ["billing", "tech"]}
    raw["questions"] = [tags, *raw["questions"]]
    projects.apply_spec(db, parse_spec(raw))
    for _ in range(10):  # the clear ones come first in import order
        lease = team.next("ana")
        words = set(lease["item"]["data"]["text"].split())
        given = ["tech"] if words & set(TECH) else ["billing"]
        assert team.submit("ana", lease["assignment_id"], tags=given).status_code == 200
    assert Sweeper(db).sweep() == ["t"] and _orderings(db) == 1
    served = [team.next(who)["item"]["external_id"] for who in ("ben", "ana")]
    assert all(int(external_id[2:]) >= 30 for external_id in served), served
