"""Guidelines in Chromium: beside the item with their examples, and a new version's changes
shown once, acknowledged by keyboard, then gone."""

from __future__ import annotations

from typing import Any

from labelwise.policies import Role
from labelwise.services import guidelines, projects
from tests.browser.site import Site, next_item

HOSTILE = "<img src=x onerror=alert(1)>"
SPEC = {
    "name": "Browser guidelines",
    "slug": "rules",
    "fields": [{"name": "text", "type": "text"}],
    "questions": [{"name": "team", "type": "single_label", "labels": ["billing", "tech"]}],
}
V1 = f"# Routing rules\n\nRefunds go to **billing**.\n\nNever trust {HOSTILE}\n"
V2 = V1 + "\nPassword resets go to **tech**.\n"


def test_guidelines_beside_the_item_and_a_new_version_acknowledged_once(site: Site) -> None:
    rows = [{"id": f"g-{i}", "text": f"ticket {i} {HOSTILE}"} for i in range(6)]
    slug = site.project(SPEC, rows)
    site.member(slug, "gus", Role.ANNOTATOR)
    project = projects.get(site.db, slug)
    guidelines.publish(site.db, project.id, V1, "First routing rules", None)
    spec = projects.spec_of(project)
    guidelines.add_example(
        site.db, project.id, spec, "g-5", {"team": "billing"}, "A refund request.", "example", None
    )
    dialogs: list[str] = []
    page = site.page("gus", f"/projects/{slug}/annotate")
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))

    assignment = next_item(page)
    panel = page.locator("#guidelines-panel")
    panel.locator(".guidelines-body h1").wait_for()
    assert panel.get_attribute("open") is not None  # beside the item on a laptop screen
    assert "Refunds go to billing." in panel.inner_text()
    assert panel.locator(".guidelines-body strong").inner_text() == "billing"
    assert HOSTILE in panel.inner_text()  # shown as text, never parsed
    assert panel.locator("img, script").count() == 0
    example = panel.locator(".guideline-examples .example")
    assert "A refund request." in example.inner_text() and "ticket 5" in example.inner_text()
    assert page.locator("#guidelines-changed").count() == 0  # nothing changed for a newcomer

    page.keyboard.press("1")
    page.keyboard.press("Enter")  # labeled under version 1
    assignment = next_item(page, assignment)
    guidelines.publish(site.db, project.id, V2, "Password resets go to tech", None)
    page.keyboard.press("2")
    page.keyboard.press("Enter")

    changed = page.locator("#guidelines-changed")
    changed.wait_for()
    assert "Version 2: Password resets go to tech" in changed.inner_text()
    added = [line.strip() for line in changed.locator(".diff-add").all_inner_texts()]
    assert added == ["+", "+Password resets go to **tech**."]
    assert changed.locator(".diff-file").count() == 2
    page.keyboard.press("Enter")  # acknowledges
    changed.wait_for(state="detached")
    assert panel.get_attribute("data-version") == "2"
    assert "Password resets go to tech." in panel.inner_text()

    _wait_acknowledged(site, "gus", slug)
    page.reload()
    next_item(page)
    page.wait_for_timeout(300)  # time for the pending check after loading
    assert page.locator("#guidelines-changed").count() == 0
    page.keyboard.press("1")
    page.keyboard.press("Enter")
    page.wait_for_selector("#save-state.saved")
    assert page.locator("#guidelines-changed").count() == 0
    assert dialogs == []


def _wait_acknowledged(site: Site, who: str, slug: str) -> None:
    with site.api(who) as api:
        pending: Any = api.get(f"/projects/{slug}/guidelines/pending").json()
    assert pending["acknowledged"] == 2 and pending["changes"] == []
