"""Browser tests: Debian's Chromium, driven by Playwright, against the real `labelwise serve`.

They run on SQLite only: what they check is the browser app, and the API and workflow
beneath it are tested on both databases elsewhere. Without Chromium (or Playwright) they
skip, except under LABELWISE_REQUIRE_ALL=1, where that is a failure. No browser is ever
downloaded: the executable is the system's.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from labelwise.db.engine import Database
from labelwise.db.migrate import upgrade
from tests.browser.site import Site
from tests.conftest import need
from tests.test_serve import running

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="package")
def browser() -> Iterator[Any]:
    need(CHROMIUM.exists(), f"{CHROMIUM} is missing: apt-get install chromium")
    need(importlib.util.find_spec("playwright") is not None, "playwright is not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="package")
def site(browser: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """One server for the browser tests (stopped after them); each test makes its own project."""
    data_dir = tmp_path_factory.mktemp("browser-data")
    db = Database(f"sqlite:///{data_dir / 'labelwise.db'}")
    upgrade(db.engine)
    env = {"LABELWISE_DATA_DIR": str(data_dir), "LABELWISE_DATABASE_URL": db.url}
    with running("serve", env) as (base, _):
        yield Site(base, db, browser, data_dir)
    db.dispose()
