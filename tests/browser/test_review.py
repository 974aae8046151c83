"""Review in Chromium: a reviewer rejects with feedback, and the annotator sees it."""

from __future__ import annotations

from labelwise.policies import Role
from tests.browser.site import Site, next_item

SPEC = {
    "name": "Browser review",
    "slug": "review",
    "fields": [{"name": "text", "type": "text"}],
    "questions": [{"name": "team", "type": "single_label", "labels": ["billing", "technical"]}],
    "workflow": {"overlap": 1, "review": {"policy": "all"}},
}
FEEDBACK = "Double charges are billing, not technical: see guideline 2."


def test_a_rejection_with_feedback_reaches_the_annotator(site: Site) -> None:
    slug = site.project(SPEC, [{"id": "r-1", "text": "I was charged twice"}])
    site.member(slug, "ada", Role.ANNOTATOR)
    site.member(slug, "rex", Role.REVIEWER)
    site.member(slug, "owen", Role.OWNER)
    rules = {"body": "## Billing\n\nCharges, refunds, invoices.", "note": "first rules"}
    with site.api("owen") as api:
        assert api.post(f"/projects/{slug}/guidelines", json=rules).is_success
    with site.api("ada") as api:
        lease = api.post(f"/projects/{slug}/next").json()
        body = {"answers": {"team": "technical"}, "time_ms": 900}
        assert api.post(f"/assignments/{lease['assignment_id']}/submit", json=body).is_success

    reviewer = site.page("rex", f"/projects/{slug}/review")
    reviewer.wait_for_selector("table.compare")
    assert "ada" in reviewer.inner_text("table.compare")
    # The reviewer judges by the rules the annotator had: beside the item on a wide screen.
    reviewer.wait_for_selector("#guidelines-panel[data-version='1'][open]")
    assert "Charges, refunds, invoices." in reviewer.inner_text("#guidelines-panel")
    reviewer.keyboard.press("g")  # G folds them away
    reviewer.wait_for_selector("#guidelines-panel:not([open])")
    reviewer.keyboard.press("r")
    reviewer.keyboard.type(FEEDBACK)
    reviewer.keyboard.press("Control+Enter")
    reviewer.wait_for_selector("text=Nothing to review right now")

    annotator = site.page("ada", f"/projects/{slug}/annotate")
    next_item(annotator)
    assert FEEDBACK in annotator.inner_text(".rework")
    assert annotator.is_checked("input[value=technical]")  # the answers come back to fix
    annotator.keyboard.press("f")
    annotator.wait_for_selector(f"#feedback-panel >> text={FEEDBACK}")
    annotator.keyboard.press("1")
    annotator.keyboard.press("Enter")
    annotator.wait_for_selector("#save-state.saved")
    with site.api("rex") as api:
        item_id = lease["item"]["id"]
        (note,) = api.get(f"/projects/{slug}/items/{item_id}").json()["annotations"]
    assert note["answers"] == {"team": "billing"} and note["revision"] == 2
