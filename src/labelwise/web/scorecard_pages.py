"""An annotator's scorecard page: the same service and the same policy as the JSON one; its
weekly trend drawn by the dashboard's server-side SVG charts."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from labelwise.api.deps import DbDep
from labelwise.policies import Action
from labelwise.services.reporting import scorecard
from labelwise.services.reporting.scorecard_model import Scorecard
from labelwise.web.charts import Chart, Point, bar_chart, line_chart
from labelwise.web.rendering import PageRoute, SessionUser, project_access, render

router = APIRouter(include_in_schema=False, route_class=PageRoute)


@router.get("/projects/{slug}/annotators/{username}", response_class=HTMLResponse)
def scorecard_page(
    slug: str, username: str, request: Request, db: DbDep, user: SessionUser
) -> Response:
    access = project_access(db, user, slug, Action.VIEW_OWN_SCORECARD)
    card = scorecard.for_reader(db, access.project, access.actor, access.role, username)
    context = {"user": user, "access": access, "card": card, "charts": _charts(card)}
    return render(request, "scorecard.html", context)


def _charts(card: Scorecard) -> list[Chart]:
    weeks = [row.week.isoformat() for row in card.trend]
    shares = {
        "gold accuracy": [Point(row.gold_accuracy) for row in card.trend],
        "with consensus": [Point(row.consensus) for row in card.trend],
    }
    return [
        bar_chart(
            "Annotations per week",
            "week",
            "annotations",
            [(week, row.annotations) for week, row in zip(weeks, card.trend, strict=True)],
        ),
        line_chart("Gold accuracy and agreement with consensus", "week", weeks, shares),
    ]
