"""Model suggestions on the labeling page in Chromium: pre-filled, marked as the model's, and
recorded as accepted when sent back as they were; shown after the answer under after_submit."""

from __future__ import annotations

from typing import Any

from labelwise.policies import Role
from tests.browser.site import Site, next_item

TEAMS = ["billing", "technical", "account"]


def _spec(slug: str, **workflow: Any) -> dict[str, Any]:
    return {
        "name": f"Browser {slug}",
        "slug": slug,
        "fields": [{"name": "text", "type": "text"}],
        "questions": [
            {"name": "team", "type": "single_label", "labels": TEAMS},
            {"name": "urgency", "type": "rating", "min": 1, "max": 5, "required": False},
        ],
        "workflow": workflow,
    }


def _predict(site: Site, owner: str, slug: str, rows: list[dict[str, Any]]) -> None:
    with site.api(owner) as api:
        answer = api.post(f"/projects/{slug}/predictions", json=rows)
    assert answer.status_code == 200, answer.text


def test_the_suggestion_is_pre_filled_and_marked_as_the_models(site: Site) -> None:
    slug = site.project(_spec("pre"), [{"id": "p-1", "text": "my invoice is wrong"}])
    site.member(slug, "pre-owner", Role.OWNER)
    site.member(slug, "pia", Role.ANNOTATOR)
    prediction = {"team": "account", "urgency": 4}
    _predict(
        site,
        "pre-owner",
        slug,
        [{"id": "p-1", "model": "router@3", "answers": prediction, "scores": {"team": 0.8}}],
    )
    page = site.page("pia", f"/projects/{slug}/annotate")
    next_item(page)
    note = page.locator("#suggestion")
    assert note.get_attribute("data-model") == "router@3"
    assert "Pre-filled by a model: router@3" in note.inner_text()
    assert "team 80%" in note.inner_text()
    assert page.is_checked("[data-question='team'] input[value='account']")
    assert page.is_checked("[data-question='urgency'] input[value='4']")
    page.keyboard.press("Enter")
    page.wait_for_selector("#save-state.saved >> text=1 this session")
    with site.api("pre-owner") as api:
        report = api.get(f"/projects/{slug}/quality").json()
    assert [(m["model"], m["outcomes"]["accepted"]) for m in report["prelabels"]] == [
        ("router@3", 1)
    ]


def test_after_submit_shows_the_suggestion_once_the_answer_is_in(site: Site) -> None:
    ids = ["a-0", "a-1"]
    rows = [{"id": i, "text": f"ticket {i}"} for i in ids]
    slug = site.project(_spec("after", prelabels="after_submit"), rows)
    site.member(slug, "after-owner", Role.OWNER)
    site.member(slug, "abe", Role.ANNOTATOR)
    predicted = [{"id": i, "model": "router@3", "answers": {"team": "account"}} for i in ids]
    _predict(site, "after-owner", slug, predicted)
    page = site.page("abe", f"/projects/{slug}/annotate")
    first = next_item(page)
    assert page.locator("#suggestion").count() == 0
    assert not page.is_checked("[data-question='team'] input[value='account']")
    label = page.inner_text("#item-label").removeprefix("Item ")
    page.keyboard.press("1")
    page.keyboard.press("Enter")
    next_item(page, first)
    shown = page.locator("#suggestion-after")
    assert shown.get_attribute("data-model") == "router@3"
    assert f"On item {label} the model router@3 had suggested:" in shown.inner_text()
    assert "account" in shown.inner_text()
    assert not page.is_checked("[data-question='team'] input[value='account']")
    second = page.inner_text("#item-label").removeprefix("Item ")
    page.keyboard.press("2")
    page.keyboard.press("Enter")
    page.wait_for_selector(".empty-state")  # nothing left: the note shows there too
    assert f"On item {second} the model" in page.inner_text(".empty-state #suggestion-after")
