"""A running server as the browser tests use it: projects, people, logged-in pages, the API."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from labelwise.db.engine import Database
from labelwise.policies import Role
from labelwise.services import imports, projects
from labelwise.spec import parse_spec
from tests.conftest import TEST_PASSWORD, bearer, make_token

VIEWPORT = {"width": 1366, "height": 768}  # a common laptop screen


class Site:
    def __init__(self, base: str, db: Database, browser: Any, data_dir: Path) -> None:
        self.base, self.db, self.browser, self.data_dir = base, db, browser, data_dir
        self.tokens: dict[str, str] = {}

    def project(self, spec: dict[str, Any], rows: list[dict[str, Any]]) -> str:
        parsed = parse_spec(spec)
        project = projects.apply_spec(self.db, parsed).project
        numbered = [(n, row, None) for n, row in enumerate(rows, start=1)]
        imports.import_items(self.db, project.id, parsed, numbered, source="test")
        return parsed.slug

    def member(self, slug: str, username: str, role: Role) -> str:
        if username not in self.tokens:
            self.tokens[username] = make_token(self.db, username)
        projects.set_member(self.db, projects.get(self.db, slug), username, role)
        return username

    def api(self, username: str) -> httpx.Client:
        return httpx.Client(base_url=f"{self.base}/api/v1", headers=bearer(self.tokens[username]))

    def page(self, username: str, path: str) -> Any:
        """A fresh browser context (own cookies and storage), logged in, at `path`."""
        context = self.browser.new_context(viewport=VIEWPORT, base_url=self.base)
        page = context.new_page()
        page.goto(f"/login?next={path}")
        page.fill("#username", username)
        page.fill("#password", TEST_PASSWORD)
        page.press("#password", "Enter")
        page.wait_for_url(f"**{path}")
        return page


def next_item(page: Any, previous: str | None = None) -> str:
    """Wait until the labeling page shows an item other than `previous`; its assignment id."""
    page.wait_for_function(
        "previous => { const card = document.querySelector('.item-card[data-assignment]');"
        " return card && card.dataset.assignment !== previous; }",
        arg=previous,
    )
    return str(page.get_attribute(".item-card", "data-assignment"))
