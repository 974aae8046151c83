"""A project with items and people, driven over HTTP like the UI and scripts drive it."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from labelwise.db.engine import Database
from labelwise.db.models import Item
from labelwise.policies import Role
from labelwise.services import imports, projects
from labelwise.spec import parse_spec
from tests.conftest import bearer, make_token


def spec(quality: dict[str, Any] | None = None, **workflow: Any) -> dict[str, Any]:
    return {
        "quality": quality or {},
        "name": "Tickets",
        "slug": "t",
        "fields": [{"name": "text", "type": "text"}, {"name": "channel", "type": "metadata"}],
        "questions": [
            {"name": "team", "type": "single_label", "labels": ["billing", "tech"]},
            {"name": "urgency", "type": "rating", "min": 1, "max": 5, "required": False},
        ],
        "workflow": {"overlap": 1, **workflow},
    }


class Team:
    """A project with items and people, driven over HTTP like the UI and scripts do."""

    def __init__(self, client: TestClient, db: Database, n_items: int, **workflow: Any) -> None:
        self.client, self.db = client, db
        parsed = parse_spec(spec(**workflow))
        self.project = projects.apply_spec(db, parsed).project
        rows = [
            (
                i + 1,
                {"id": f"t-{i}", "text": f"ticket {i}", "channel": ["email", "chat"][i % 2]},
                None,
            )
            for i in range(n_items)
        ]
        imports.import_items(db, self.project.id, parsed, rows, source="test")
        self.tokens: dict[str, str] = {}

    def member(self, name: str, role: Role = Role.ANNOTATOR) -> str:
        self.tokens[name] = make_token(self.db, name)
        projects.set_member(self.db, self.project, name, role)
        return name

    def auth(self, who: str) -> dict[str, str]:
        return bearer(self.tokens[who])

    def post(self, who: str, path: str, body: Any = None) -> Any:
        return self.client.post(path, json=body, headers=self.auth(who))

    def next(self, who: str, queue: str = "") -> Any:
        answer = self.post(who, f"/api/v1/projects/t/{queue}next")
        assert answer.status_code in (200, 204), answer.text
        return answer.json() if answer.status_code == 200 else None

    def submit(self, who: str, assignment_id: int, team: str = "billing", **extra: Any) -> Any:
        body = {"answers": {"team": team, **extra}, "time_ms": 1500}
        return self.post(who, f"/api/v1/assignments/{assignment_id}/submit", body)

    def label(self, who: str, team: str = "billing") -> Any:
        lease = self.next(who)
        assert lease is not None
        answer = self.submit(who, lease["assignment_id"], team)
        assert answer.status_code == 200, answer.text
        return answer.json()

    def item(self, external_id: str) -> Item:
        with self.db.read() as session:
            return session.scalars(select(Item).where(Item.external_id == external_id)).one()


def answer_all(team: Team, who: str, answers: dict[str, dict[str, Any]]) -> None:
    """Label every item the queue hands `who`, with the answers given for its external id."""
    while (lease := team.next(who)) is not None:
        body = {"answers": answers[lease["item"]["external_id"]], "time_ms": 900}
        done = team.post(who, f"/api/v1/assignments/{lease['assignment_id']}/submit", body)
        assert done.status_code == 200, done.text


PRODUCT = {"start": 0, "end": 6, "label": "PRODUCT"}  # "ticket" of "ticket 0"
PERSON = {"start": 7, "end": 8, "label": "PERSON"}  # its "0"
# Three annotators on two items; t-0 is a gold item (team: billing) that each gets first as
# a qualification test. Only ana is right on it; on t-1 she alone says tech.
JUDGED = {
    "ana": {
        "t-0": {"team": "billing", "who": [PRODUCT], "amount": 1},
        "t-1": {"team": "tech", "who": [PRODUCT], "amount": 2},
    },
    "ben": {
        "t-0": {"team": "tech", "who": [PRODUCT], "amount": 2},
        "t-1": {"team": "billing", "who": [], "amount": 2},
    },
    "cy": {
        "t-0": {"team": "tech", "who": [PERSON], "amount": 6},
        "t-1": {"team": "billing", "who": [PRODUCT], "amount": 2},
    },
}


def judged_team(client: TestClient, db: Database) -> Team:
    """JUDGED, with a spans and a number question besides the team and the urgency; the
    manager is "boss"."""
    qualification = {"qualification": {"items": 1, "min_accuracy": 0.0}}
    team = Team(client, db, 2, overlap=3, quality=qualification)
    base = spec(qualification, overlap=3)
    extra = [
        {"name": "who", "type": "spans", "field": "text", "labels": ["PRODUCT", "PERSON"]},
        {"name": "amount", "type": "number", "min": 0, "max": 100},
    ]
    projects.apply_spec(db, parse_spec({**base, "questions": base["questions"] + extra}))
    team.member("boss", Role.MANAGER)
    gold = [{"id": "t-0", "answers": {"team": "billing"}}]
    assert team.post("boss", "/api/v1/projects/t/gold", gold).status_code == 200
    for who, answers in JUDGED.items():
        team.member(who)
        answer_all(team, who, answers)
    return team
