"""An annotator's scorecard page: the same service and the same policy as the JSON one."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup

from labelwise.api.deps import DbDep
from labelwise.policies import Action
from labelwise.services.reporting import scorecard
from labelwise.services.reporting.scorecard_model import Scorecard
from labelwise.web import sparkline
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


def _charts(card: Scorecard) -> dict[str, Markup]:
    weeks = card.trend
    return {
        "annotations": sparkline.bars([w.annotations for w in weeks], "annotations per week"),
        "gold": sparkline.line([w.gold_accuracy for w in weeks], "gold accuracy per week"),
        "consensus": sparkline.line(
            [w.consensus for w in weeks], "agreement with consensus per week"
        ),
    }
