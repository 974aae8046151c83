"""A ranking question in Chromium: ordered by number keys and Alt+arrows alone, or by mouse."""

from __future__ import annotations

from typing import Any

import orjson

from labelwise.policies import Role
from tests.browser.site import Site, next_item

FIELDS = [
    {"name": "prompt", "type": "text"},
    {"name": "reply_a", "type": "text", "title": "Reply A"},
    {"name": "reply_b", "type": "markdown", "title": "Reply B"},
    {"name": "reply_c", "type": "text", "title": "Reply C"},
]
ORDER = {"name": "order", "type": "ranking", "responses": ["reply_a", "reply_b", "reply_c"]}
A, B, C = "reply_a", "reply_b", "reply_c"


def _rows(prefix: str, count: int) -> list[dict[str, Any]]:
    return [
        {"id": f"{prefix}-{i}", "prompt": f"ask {i}", A: "one", B: "two", C: "three"}
        for i in range(count)
    ]


def _ranked(page: Any) -> list[str]:
    """The titles in the ranked list, best first."""
    titles = page.locator("[data-question=order] ol.ranking li .response-title")
    return [text.strip() for text in titles.all_inner_texts()]


def _answers(site: Site, owner: str, slug: str) -> dict[str, Any]:
    with site.api(owner) as api:
        export = api.get(f"/projects/{slug}/export", params={"format": "jsonl"})
    rows = [orjson.loads(line) for line in export.content.splitlines()]
    return {row["external_id"]: [a["answers"] for a in row["annotations"]] for row in rows}


def test_a_ranking_is_made_and_corrected_from_the_keyboard_alone(site: Site) -> None:
    spec = {"name": "Rank keys", "slug": "rank-keys", "fields": FIELDS, "questions": [ORDER]}
    slug = site.project(spec, _rows("k", 2))
    site.member(slug, "rank-owner", Role.OWNER)
    site.member(slug, "rika", Role.ANNOTATOR)
    page = site.page("rika", f"/projects/{slug}/annotate")
    first = next_item(page)
    # Without a single-label or preference question, the number keys rank the responses.
    assert page.locator("[data-question=order] kbd").all_inner_texts() == ["1", "2", "3"]
    assert "press the responses best first" in page.locator("#hints").inner_text()
    page.keyboard.press("?")
    assert "move the focused response of a ranking" in page.locator("dialog.help").inner_text()
    page.keyboard.press("Escape")
    page.keyboard.press("2")
    page.keyboard.press("3")  # the last one left, Reply A, follows by itself
    assert _ranked(page) == ["Reply B", "Reply C", "Reply A"]
    page.keyboard.press("Enter")
    second = next_item(page, first)

    page.keyboard.press("1")
    page.keyboard.press("3")
    assert _ranked(page) == ["Reply A", "Reply C", "Reply B"]
    page.keyboard.press("3")  # a ranked response's number takes it out again
    assert _ranked(page) == ["Reply A", "Reply B"]
    page.keyboard.press("2")
    assert _ranked(page) == ["Reply A"]
    page.keyboard.press("Enter")  # half a ranking is not sent
    assert "Answer “order” first." in page.locator("#notice").inner_text()
    assert page.get_attribute(".item-card", "data-assignment") == second
    page.keyboard.press("2")  # B, and C follows
    assert _ranked(page) == ["Reply A", "Reply B", "Reply C"]
    page.locator("[data-response=reply_c]").focus()
    page.keyboard.press("Alt+ArrowUp")
    page.keyboard.press("Alt+ArrowUp")
    assert _ranked(page) == ["Reply C", "Reply A", "Reply B"]
    assert page.evaluate("document.activeElement.dataset.response") == C  # it keeps the focus
    page.keyboard.press("ArrowDown")  # the focus moves on to Reply A
    page.keyboard.press("Alt+ArrowDown")
    assert _ranked(page) == ["Reply C", "Reply B", "Reply A"]
    page.keyboard.press("Control+z")
    assert _ranked(page) == ["Reply C", "Reply A", "Reply B"]
    page.keyboard.press("Enter")
    page.wait_for_selector(".empty-state, #save-state.saved")

    assert _answers(site, "rank-owner", slug) == {
        "k-0": [{"order": [B, C, A]}],
        "k-1": [{"order": [C, A, B]}],
    }


def test_a_ranking_is_made_with_the_mouse_beside_a_keyed_label_question(site: Site) -> None:
    team = {"name": "team", "type": "single_label", "labels": ["billing", "tech"]}
    spec = {
        "name": "Rank mouse",
        "slug": "rank-mouse",
        "fields": FIELDS,
        "questions": [ORDER, team],
    }
    slug = site.project(spec, _rows("m", 1))
    site.member(slug, "mouse-owner", Role.OWNER)
    site.member(slug, "milo", Role.ANNOTATOR)
    page = site.page("milo", f"/projects/{slug}/annotate")
    next_item(page)
    ranking = page.locator("[data-question=order]")
    assert ranking.locator("kbd").count() == 0  # the single-label question has the keys
    ranking.locator("[data-response=reply_c]").click()
    ranking.locator("[data-response=reply_a]").click()  # and B follows
    assert _ranked(page) == ["Reply C", "Reply A", "Reply B"]
    ranking.get_by_role("button", name="Move Reply C down").click()
    assert _ranked(page) == ["Reply A", "Reply C", "Reply B"]
    ranking.get_by_role("button", name="Take Reply B out of the ranking").click()
    assert _ranked(page) == ["Reply A", "Reply C"]
    rest = ranking.locator("ul.ranking-rest li")
    assert rest.locator(".response-title").all_inner_texts() == ["Reply B"]
    assert not rest.locator("button").first.is_visible()  # no moves before it is ranked
    ranking.locator("[data-response=reply_b]").click()
    page.keyboard.press("2")  # team: tech
    page.locator("#submit").click()
    page.wait_for_selector(".empty-state, #save-state.saved")

    answers = _answers(site, "mouse-owner", slug)
    assert answers == {"m-0": [{"order": [A, C, B], "team": "tech"}]}
    with site.api("mouse-owner") as api:
        listed = api.get(f"/projects/{slug}/items").json()["items"]
    owner = site.page("mouse-owner", f"/projects/{slug}/items/{listed[0]['id']}")
    owner.wait_for_selector(".compare td")
    shown = owner.locator(".compare tbody td").first.locator("ol.ranking-summary li")
    assert shown.all_inner_texts() == ["Reply A", "Reply C", "Reply B"]


def test_an_adjudicator_takes_one_ranking_and_corrects_it(site: Site) -> None:
    spec = {
        "name": "Rank settle",
        "slug": "rank-settle",
        "fields": FIELDS,
        "questions": [ORDER],
        "workflow": {"overlap": 2, "adjudicate": "disagreement"},
    }
    slug = site.project(spec, _rows("j", 1))
    site.member(slug, "settle-boss", Role.MANAGER)
    for who, order in (("jo", [A, B, C]), ("kai", [C, B, A])):
        site.member(slug, who, Role.ANNOTATOR)
        with site.api(who) as api:
            lease = api.post(f"/projects/{slug}/next").json()
            body = {"answers": {"order": order}, "time_ms": 900}
            assert api.post(f"/assignments/{lease['assignment_id']}/submit", json=body).is_success
    page = site.page("settle-boss", f"/projects/{slug}/adjudicate")
    page.wait_for_selector(".compare ol.ranking-summary")
    assert _ranked(page) == []  # the annotators differ: nothing is filled in
    page.keyboard.press("Shift+Digit2")  # kai's ranking
    assert _ranked(page) == ["Reply C", "Reply B", "Reply A"]
    page.locator("[data-response=reply_a]").focus()
    page.keyboard.press("Alt+ArrowUp")
    page.keyboard.press("Enter")
    page.wait_for_selector(".empty-state")

    with site.api("settle-boss") as api:
        export = api.get(f"/projects/{slug}/export", params={"format": "jsonl"})
    (row,) = [orjson.loads(line) for line in export.content.splitlines()]
    assert row["final_answers"] == {"order": [C, A, B]}
