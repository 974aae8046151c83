"""An annotator's scorecard in the browser: reached from the project's member list, its
figures and inline SVG charts drawn under the strict CSP, with no console error."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select, update

from labelwise.db.models import Annotation, Item, User
from labelwise.policies import Role
from labelwise.services import gold, projects
from tests.browser.site import Site

SPEC: dict[str, Any] = {
    "name": "Scorecard page",
    "slug": "scorecard-page",
    "fields": [{"name": "text", "type": "text"}],
    "questions": [
        {"name": "team", "type": "single_label", "labels": ["billing", "tech"]},
        {"name": "urgency", "type": "rating", "min": 1, "max": 5},
    ],
    "workflow": {"overlap": 3, "review": {"policy": "all"}},
}
ITEMS = 12
PEOPLE = ("ana", "ben", "cy")


GOLD_ITEMS = (0, 1, 2, 4, 5, 8, 10)


def _right(number: int) -> str:
    return "billing" if number % 2 == 0 else "tech"


def _answer(who: str, number: int) -> dict[str, Any]:
    """The right team but where ben strays (every third ticket) and cy (every fourth)."""
    wrong = {"ben": number % 3 == 0, "cy": number % 4 == 0}.get(who, False)
    team = ("tech" if _right(number) == "billing" else "billing") if wrong else _right(number)
    return {"team": team, "urgency": 1 + number % 3 + (who == "cy")}


def _review(site: Site, slug: str) -> None:
    """Rex rejects wrong teams with a reason and accepts the rest."""
    with site.api("rex") as api:
        while (lease := api.post(f"/projects/{slug}/review/next")).status_code == 200:
            work = lease.json()
            right = _right(int(work["item"]["external_id"].removeprefix("s-")))
            verdict = {"verdict": "accept"}
            if work["answers"]["team"] != right:
                verdict = {"verdict": "reject", "feedback": f"Read the sender: this is {right}."}
            path = f"/assignments/{work['assignment_id']}/verdict"
            assert api.post(path, json=verdict).status_code == 200


def _label(site: Site, slug: str) -> None:
    for index, who in enumerate(PEOPLE):
        with site.api(who) as api:
            while (lease := api.post(f"/projects/{slug}/next")).status_code == 200:
                number = int(lease.json()["item"]["external_id"].removeprefix("s-"))
                body = {"answers": _answer(who, number), "time_ms": 1200 + 700 * number + index}
                done = api.post(f"/assignments/{lease.json()['assignment_id']}/submit", json=body)
                assert done.status_code == 200, done.text


def _spread_over_weeks(site: Site, username: str) -> None:
    """Date the annotations back over three weeks, as a real project's would be."""
    with site.db.write() as session:
        user_id = session.scalar(select(User.id).where(User.username == username))
        rows = session.execute(
            select(Annotation.id, Annotation.created_at)
            .where(Annotation.user_id == user_id)
            .order_by(Annotation.id)
        ).all()
        for position, (annotation_id, created_at) in enumerate(rows):
            moved = created_at - timedelta(days=7 * (2 - position * 3 // len(rows)))
            session.execute(
                update(Annotation).where(Annotation.id == annotation_id).values(created_at=moved)
            )


def test_the_owner_opens_a_scorecard_from_the_member_list(site: Site, tmp_path: Path) -> None:
    rows = [{"id": f"s-{n}", "text": f"ticket {n}"} for n in range(ITEMS)]
    slug = site.project(SPEC, rows)
    site.member(slug, "olive", Role.OWNER)
    site.member(slug, "rex", Role.REVIEWER)
    for who in PEOPLE:
        site.member(slug, who, Role.ANNOTATOR)
    _label(site, slug)
    _review(site, slug)
    _spread_over_weeks(site, "ben")
    project = projects.get(site.db, slug)
    spec = projects.spec_of(project)
    with site.db.read() as session:
        ids = session.scalars(
            select(Item.id).where(Item.project_id == project.id).order_by(Item.id)
        ).all()
    for number in GOLD_ITEMS:
        answer = {"team": _right(number)}
        gold.set_gold(site.db, project.id, spec, ids[number], answer, None, None)
    with site.api("rex") as api:
        note = {"body": "Billing questions mention an invoice."}
        assert api.post(f"/projects/{slug}/items/{ids[3]}/comments", json=note).status_code == 201

    errors: list[str] = []
    page = site.page("olive", f"/projects/{slug}")
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.click("a[href$='/annotators/ben']")
    page.wait_for_url(f"**/projects/{slug}/annotators/ben")
    assert page.inner_text("h1") == "Scorecard: ben"
    assert page.locator("svg.chart").count() == 2  # annotations; gold and consensus
    assert page.locator("#trend tbody tr").count() == 3  # three weeks
    rows_shown = page.locator("#agreement tbody tr")
    assert rows_shown.count() == 2 and "ana" in rows_shown.first.inner_text()
    assert "every item" in page.inner_text("#speed")
    assert "Read the sender" in page.inner_text("#feedback-title + h3 + ul")
    assert "invoice" in page.inner_text("section[aria-labelledby=feedback-title]")
    shot = tmp_path / "scorecard.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.read_bytes().startswith(b"\x89PNG")
    assert errors == []
