"""The dashboard in Chromium: server-drawn charts under the strict CSP, each with its table.

It also remakes docs/dashboard.png, the README's picture of the page.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select, update

from labelwise.db.models import Annotation, Item, Project
from labelwise.policies import Role
from tests.browser.site import Site

SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "dashboard.png"
LABELS = ["billing", "technical", "account"]
PEOPLE = ["amara", "bo", "chen", "dita"]
SPEC = {
    "name": "Support tickets",
    "slug": "board",
    "fields": [{"name": "text", "type": "text"}, {"name": "channel", "type": "metadata"}],
    "questions": [{"name": "team", "type": "single_label", "labels": LABELS}],
    "workflow": {"overlap": 2},
    "quality": {"agreement_target": {"metric": "krippendorff_alpha", "min": 0.6}},
}


def _label_everything(site: Site, slug: str, rng: random.Random) -> None:
    """Each person labels 30 items (all 60 get their 2 answers), mostly agreeing on the truth."""
    truth = {f"b-{n}": rng.choice(LABELS) for n in range(60)}
    for who in PEOPLE:
        with site.api(who) as api:
            for _ in range(30):
                lease = api.post(f"/projects/{slug}/next")
                assert lease.status_code == 200, lease.text
                body = lease.json()
                right = truth[body["item"]["external_id"]]
                answer = right if rng.random() < 0.8 else rng.choice(LABELS)
                sent = api.post(
                    f"/assignments/{body['assignment_id']}/submit",
                    json={"answers": {"team": answer}, "time_ms": rng.randint(2000, 30000)},
                )
                assert sent.status_code == 200, sent.text


def _spread_over_days(site: Site, slug: str, rng: random.Random) -> None:
    """Date the work over the last ten days, as a project that has run for a while."""
    start = datetime.now(UTC) - timedelta(days=10)
    with site.db.write() as session:
        project = session.scalar(select(Project.id).where(Project.slug == slug))
        ids = session.scalars(select(Annotation.id).where(Annotation.project_id == project))
        for n, annotation_id in enumerate(sorted(ids)):
            moment = start + timedelta(days=n // 12, minutes=rng.randrange(600))
            session.execute(
                update(Annotation).where(Annotation.id == annotation_id).values(created_at=moment)
            )
        items = session.scalars(
            select(Item.id).where(Item.project_id == project, Item.done_at.is_not(None))
        )
        for n, item_id in enumerate(sorted(items)):
            moment = start + timedelta(days=n // 6, hours=12)
            session.execute(update(Item).where(Item.id == item_id).values(done_at=moment))


def test_the_dashboard_draws_its_charts_under_the_strict_csp(site: Site) -> None:
    rng = random.Random(3)
    rows = [
        {"id": f"b-{n}", "text": f"ticket {n}", "channel": ["email", "chat"][n % 2]}
        for n in range(60)
    ]
    slug = site.project(SPEC, rows)
    for who in PEOPLE:
        site.member(slug, who, Role.ANNOTATOR)
    site.member(slug, "olive", Role.OWNER)
    _label_everything(site, slug, rng)
    _spread_over_days(site, slug, rng)

    violations: list[str] = []
    page = site.page("olive", f"/projects/{slug}")
    page.on("console", lambda message: _keep_violation(message, violations))
    page.click("text=Dashboard")
    page.wait_for_url(f"**/projects/{slug}/dashboard")
    charts = page.locator("svg.chart")
    assert charts.count() >= 8
    assert page.locator("svg.chart rect").count() > 20
    # a chart's figures are readable as a table too
    first = page.locator(".chart-figure details").first
    assert not first.locator("table").is_visible()
    first.locator("summary").click()
    assert first.locator("tbody tr").count() >= 10
    assert "Agreement per guideline version" in page.inner_text("#quality")
    # nothing was refused by the content security policy (no inline style or script)
    page.reload()
    assert violations == []
    page.set_viewport_size({"width": 1366, "height": 1300})
    SCREENSHOT.parent.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOT))
    page.context.close()


def _keep_violation(message: Any, violations: list[str]) -> None:
    if "Content Security Policy" in message.text:
        violations.append(message.text)
