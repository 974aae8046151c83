"""The items browser in Chromium: filter by keyboard, open an item from its row."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from labelwise.policies import Role
from tests.browser.site import Site

SPEC = {
    "name": "Browser items",
    "slug": "browse",
    "fields": [{"name": "text", "type": "text"}, {"name": "channel", "type": "metadata"}],
    "questions": [{"name": "team", "type": "single_label", "labels": ["billing", "technical"]}],
    "workflow": {"overlap": 1},
}
ROWS = [
    {"id": "b-1", "text": "Refund my double charge", "channel": "email"},
    {"id": "b-2", "text": "The app crashes on start", "channel": "chat"},
    {"id": "b-3", "text": "Refund for a cancelled plan", "channel": "chat"},
    {"id": "b-4", "text": "Password reset mail never came", "channel": "email"},
]


def test_filter_by_keyboard_and_open_an_item(site: Site, tmp_path: Path) -> None:
    slug = site.project(SPEC, ROWS)
    site.member(slug, "ada", Role.ANNOTATOR)
    site.member(slug, "olive", Role.OWNER)
    with site.api("ada") as api:
        for _ in range(3):
            lease = api.post(f"/projects/{slug}/next").json()
            team = "billing" if "Refund" in lease["item"]["data"]["text"] else "technical"
            body = {"answers": {"team": team}, "time_ms": 900}
            assert api.post(f"/assignments/{lease['assignment_id']}/submit", json=body).is_success

    page = site.page("olive", f"/projects/{slug}/items")
    refused: list[str] = []
    page.on("console", lambda message: _note_refusal(message, refused))
    assert page.locator("a.item-link").count() == 4
    page.keyboard.press("/")  # the text search
    page.keyboard.type("refund")
    page.select_option("#f-question", "team")
    page.fill("#f-label", "billing")
    page.focus("#f-label")
    page.keyboard.press("Enter")  # submits the filter form
    page.wait_for_url("**label=billing**")
    assert page.locator("a.item-link").all_inner_texts() == ["b-1", "b-3"]
    assert page.locator("#f-q").input_value() == "refund"  # the filters stay filled in
    page.screenshot(path=str(tmp_path / "items-browser.png"), full_page=True)
    page.locator("body").click(position={"x": 5, "y": 5})  # out of the form
    page.keyboard.press("j")
    page.keyboard.press("j")
    assert page.evaluate("document.activeElement.textContent") == "b-3"
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/projects/{slug}/items/*")
    page.wait_for_selector("text=Refund for a cancelled plan")
    assert refused == []


def _note_refusal(message: Any, refused: list[str]) -> None:
    if "Content Security Policy" in message.text:
        refused.append(message.text)
