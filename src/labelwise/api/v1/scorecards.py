"""Annotator scorecards over HTTP: load -> authorize -> service -> schema.

The scorecard's dataclasses are the response schema, as for the quality report.
"""

from __future__ import annotations

from fastapi import APIRouter

from labelwise.api.deps import ActorDep, DbDep
from labelwise.services import projects
from labelwise.services.reporting import scorecard
from labelwise.services.reporting.scorecard_model import Scorecard

router = APIRouter(tags=["quality"])


@router.get("/projects/{slug}/annotators/{username}", response_model=Scorecard)
def annotator_scorecard(slug: str, username: str, db: DbDep, actor: ActorDep) -> Scorecard:
    """One annotator's gold accuracy, agreement with the others' consensus and with each
    frequent co-annotator, speed per question type, review verdicts, feedback received and
    weekly trend. Owners, managers, reviewers and viewers see anyone's; an annotator only
    their own (anyone else's is 404)."""
    project, role = projects.access(db, slug, actor)
    return scorecard.for_reader(db, project, actor, role, username)
