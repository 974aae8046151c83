"""Hostile item data shows as the text it is, on every screen, and never runs."""

from __future__ import annotations

from typing import Any

from labelwise.policies import Role
from tests.browser.site import Site, next_item

PAYLOADS = ["<img src=x onerror=alert(1)>", "<script>alert(1)</script>"]
SPEC = {
    "name": "Browser safety",
    "slug": "safety",
    "fields": [
        {"name": "text", "type": "text"},
        {"name": "notes", "type": "markdown"},
        {"name": "convo", "type": "chat"},
        {"name": "answers", "type": "pair"},
        {"name": "source", "type": "metadata"},
        {"name": "picture", "type": "image", "required": False},
    ],
    "questions": [
        {"name": "ok", "type": "single_label", "labels": ["yes", "no"]},
        {"name": "why", "type": "text", "required": False},
    ],
}


def _row(n: int, payload: str) -> dict[str, Any]:
    return {
        "id": f"x-{n}",
        "text": payload,
        "notes": f"**bold** {payload} [link](javascript:alert(1))",
        "convo": [{"role": "user", "content": payload}, {"role": payload, "content": "hi"}],
        "answers": {"a": payload, "b": payload},
        "source": payload,
        "picture": "javascript:alert(1)",
    }


def _assert_inert(page: Any, where: str) -> None:
    assert page.locator(f"{where} img, {where} script, {where} a[href^=javascript]").count() == 0


def test_item_text_is_shown_literally_and_never_runs(site: Site) -> None:
    slug = site.project(SPEC, [_row(n, payload) for n, payload in enumerate(PAYLOADS)])
    site.member(slug, "eve", Role.ANNOTATOR)
    site.member(slug, "oz", Role.OWNER)
    dialogs: list[str] = []
    page = site.page("eve", f"/projects/{slug}/annotate")
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    assignment = None
    item_ids = []
    for payload in PAYLOADS:
        assignment = next_item(page, assignment)
        shown = page.inner_text(".item-card")
        assert shown.count(payload) >= 5, shown  # text, markdown, chat, pair, metadata
        assert "bold" in page.inner_text(".item-card strong")
        _assert_inert(page, ".item-card")
        item_ids.append(
            page.get_attribute(".item-card [href*='/items/'], #screen a[href*='/items/']", "href")
        )
        page.keyboard.press("1")
        page.fill("textarea", payload)  # answers are data too
        page.keyboard.press("Control+Enter")
    page.wait_for_selector("text=Nothing to label right now")

    owner = site.page("oz", item_ids[0] or "/")
    owner.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    owner.wait_for_selector("table.compare")
    assert PAYLOADS[0] in owner.inner_text("table.compare")
    assert owner.inner_text("#item-fields").count(PAYLOADS[0]) >= 5
    _assert_inert(owner, "main")
    owner.wait_for_timeout(300)  # time for an onerror handler to fire, if one ever got in
    assert dialogs == []
