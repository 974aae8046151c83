"""Every question type's widget, drawn from the layout the server sends, answers in Chromium;
the item page shows each answer as its type reads (spans: tests/browser/test_labeling.py)."""

from __future__ import annotations

from typing import Any

import orjson

from labelwise.policies import Role
from tests.browser.site import Site, next_item

SPEC: dict[str, Any] = {
    "name": "Browser every type",
    "slug": "every-type",
    "fields": [{"name": "text", "type": "text"}, {"name": "pair", "type": "pair"}],
    "questions": [
        {"name": "better", "type": "preference", "field": "pair"},
        {"name": "team", "type": "single_label", "labels": ["billing", "technical"]},
        {"name": "topic", "type": "single_label", "labels": [{"hardware": ["laptop", "phone"]}]},
        {"name": "tags", "type": "multi_label", "labels": ["x", "y", "z"]},
        {"name": "urgency", "type": "rating", "min": 1, "max": 5},
        {"name": "score", "type": "rating", "min": 0, "max": 20},
        {"name": "price", "type": "number", "min": 0},
        {"name": "summary", "type": "text", "max_length": 80},
    ],
}
ROW = {"id": "e-1", "text": "a ticket", "pair": {"a": "first answer", "b": "second answer"}}
EXPECTED = {
    "better": "b",
    "team": "technical",
    "topic": "hardware/phone",
    "tags": ["x", "z"],
    "urgency": 4,
    "score": 17,
    "price": 2.5,
    "summary": "short",
}


def test_each_type_is_answered_through_its_widget(site: Site) -> None:
    slug = site.project(SPEC, [ROW])
    site.member(slug, "types-owner", Role.OWNER)
    site.member(slug, "tia", Role.ANNOTATOR)
    page = site.page("tia", f"/projects/{slug}/annotate")
    next_item(page)

    def question(name: str) -> Any:
        return page.locator(f"[data-question={name}]")

    # The number keys answer the first single-label question, though a preference comes first.
    assert question("team").locator("kbd").count() == 2
    assert question("better").locator("kbd").count() == 0
    page.keyboard.press("2")
    question("better").locator("input[value=b]").check()
    question("topic").locator("input[value='hardware/phone']").check()
    assert question("topic").locator("input[type=search]").count() == 1  # a taxonomy
    for tag in ("x", "z"):
        question("tags").locator(f"input[value={tag}]").check()
    question("urgency").locator("input[value='4']").check()
    question("score").locator("input[type=number]").fill("17")  # too wide for buttons
    question("price").locator("input[type=number]").fill("2.5")
    question("summary").locator("input[type=text]").fill("short")
    question("summary").locator("input[type=text]").press("Enter")
    page.wait_for_selector("#save-state.saved")

    with site.api("types-owner") as api:
        export = api.get(f"/projects/{slug}/export", params={"format": "jsonl"})
    (row,) = [orjson.loads(line) for line in export.content.splitlines()]
    (note,) = row["annotations"]
    assert note["answers"] == EXPECTED

    owner = site.page("types-owner", f"/projects/{slug}/items/{row['id']}")
    owner.wait_for_selector(".compare td")
    cells = owner.locator(".compare tbody td").all_inner_texts()
    assert cells == ["B", "technical", "hardware/phone", "x, z", "4", "17", "2.5", "short"]
