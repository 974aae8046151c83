"""The demo: a support-ticket triage project with hand-written tickets and a small team."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from pathlib import Path

from labelwise.db.engine import Database
from labelwise.errors import Conflict
from labelwise.formats import FORMATS
from labelwise.policies import Role
from labelwise.services import accounts, gold, imports, projects
from labelwise.spec import load_guidelines_file, load_spec_file

HERE = Path(__file__).parent
SPEC_FILE = HERE / "project.yaml"
ITEMS_FILE = HERE / "items.jsonl"
GOLD_FILE = HERE / "gold.jsonl"
# username, project role (None: the server admin)
TEAM: list[tuple[str, Role | None]] = [
    ("admin", None),
    ("alice", Role.ANNOTATOR),
    ("bob", Role.ANNOTATOR),
    ("rita", Role.REVIEWER),
]


@dataclass
class DemoSetup:
    slug: str
    new_items: int
    passwords: dict[str, str] = field(default_factory=dict)  # only accounts made just now
    existing_users: list[str] = field(default_factory=list)


def set_up(db: Database) -> DemoSetup:
    """Idempotent: a second run adds nothing and leaves passwords as they were."""
    spec = load_spec_file(SPEC_FILE)
    text = load_guidelines_file(SPEC_FILE, spec)
    project = projects.apply_spec(db, spec, guidelines_text=text).project
    reader = FORMATS["jsonl"].read
    assert reader is not None
    with ITEMS_FILE.open("rb") as handle:
        summary = imports.import_items(db, project.id, spec, reader(handle), source=ITEMS_FILE.name)
    with GOLD_FILE.open("rb") as handle:
        gold.import_gold(db, project.id, spec, reader(handle), source=GOLD_FILE.name)
    setup = DemoSetup(slug=spec.slug, new_items=summary.created)
    for username, role in TEAM:
        password = secrets.token_urlsafe(9)
        try:
            accounts.create_user(db, username, password, is_admin=role is None)
            setup.passwords[username] = password
        except Conflict:
            setup.existing_users.append(username)
        if role is not None:
            projects.set_member(db, project, username, role)
    return setup
