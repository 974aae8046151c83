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
