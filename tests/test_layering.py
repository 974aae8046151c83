"""The seams of the redesign hold: the domain never looks at which database it runs on, and
only the labeling store runs prepared statements."""

from __future__ import annotations

import re
from pathlib import Path

import labelwise

SRC = Path(labelwise.__file__).parent
# What would mean code decides per database outside db/.
DIALECT = re.compile(r"sqlalchemy\.dialects|is_sqlite|dialect\.name|\bPrepared\b|db\.prepared")


def _modules(*packages: str) -> list[Path]:
    return [path for package in packages for path in sorted((SRC / package).rglob("*.py"))]


def test_no_domain_or_http_module_branches_on_the_database() -> None:
    found = [
        f"{path.relative_to(SRC)}:{n}: {line.strip()}"
        for path in _modules("services", "api", "web", "spec", "quality", "formats")
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if DIALECT.search(line)
    ]
    assert found == []


def test_prepared_statements_live_in_the_labeling_store() -> None:
    users = {
        str(path.relative_to(SRC))
        for path in _modules("db")
        if path.name != "prepared.py" and re.search(r"\bPrepared\(", path.read_text())
    }
    assert users and all(user.startswith("db/labeling/") for user in users), users
