"""A release page in the browser: the owner creates a release, the card renders as tables."""

from __future__ import annotations

from labelwise.policies import Role
from tests.browser.site import Site

HOSTILE_GOAL = "Route tickets. <img src=x onerror=alert(1)> [click](javascript:alert(1))"
SPEC = {
    "name": "Release page",
    "slug": "release-page",
    "goal": HOSTILE_GOAL,
    "fields": [{"name": "text", "type": "text"}],
    "questions": [{"name": "team", "type": "single_label", "labels": ["billing", "tech"]}],
}


def test_owner_creates_a_release_and_reads_its_card(site: Site) -> None:
    slug = site.project(SPEC, [{"id": f"r-{n}", "text": f"ticket {n}"} for n in range(3)])
    site.member(slug, "rita", Role.OWNER)
    with site.api("rita") as api:
        for _ in range(3):
            lease = api.post(f"/projects/{slug}/next").json()
            submitted = api.post(
                f"/assignments/{lease['assignment_id']}/submit",
                json={"answers": {"team": "tech"}, "time_ms": 900},
            )
            assert submitted.status_code == 200, submitted.text
    dialogs: list[str] = []
    page = site.page("rita", f"/projects/{slug}")
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.fill("#release-name", "v1")
    page.click("text=Create release")
    page.wait_for_url(f"**/projects/{slug}/releases/v1")
    card = page.locator(".dataset-card")
    card.locator("h1").wait_for()
    assert card.locator("h1").inner_text() == "Release page — release v1"
    assert card.locator("table").count() >= 5  # facts, schema, counts, balance, agreement
    assert "| ---" not in card.inner_text()  # tables rendered, not shown as source
    balance = card.locator("table", has_text="100%").inner_text()
    assert balance.splitlines()[:2] == ["\tbilling\ttech", "all\t0 (0%)\t3 (100%)"]
    # The goal is shown as the text it is: no image, no javascript: link, no dialog.
    assert "<img src=x onerror=alert(1)>" in card.inner_text()
    assert card.locator("img, script, a[href^=javascript]").count() == 0
    assert dialogs == []
    hash_shown = page.inner_text("#content-hash")
    with site.api("rita") as api:
        assert api.get(f"/projects/{slug}/releases/v1").json()["content_hash"] == hash_shown
    with page.expect_download() as download:
        page.click("button:has-text('Download')")
    assert download.value.suggested_filename == f"{slug}-v1.jsonl"
