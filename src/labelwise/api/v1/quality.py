"""The quality report over HTTP: load -> authorize -> service -> schema.

The report's dataclasses (`services.quality_model`) are the response schema: FastAPI derives
the pydantic model and the OpenAPI document from them, so the JSON, the CLI tables and the
docs cannot drift apart.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from labelwise.api.deps import ActorDep, DbDep
from labelwise.policies import Action, authorize, field_view
from labelwise.services import projects
from labelwise.services.reporting import guideline_gaps, quality_report
from labelwise.services.reporting.quality_model import QualityReport

router = APIRouter(tags=["quality"])


@router.get("/projects/{slug}/quality", response_model=QualityReport)
def quality(slug: str, db: DbDep, actor: ActorDep) -> QualityReport:
    """Progress, agreement per question, label, slice and annotator, each annotator's gold
    accuracy, vote weight and Dawid-Skene confusion matrix, consensus by method, the
    agreement target, review outcomes, the estimated label accuracy with its interval, and
    the findings of the latest automated-check run."""
    project, role = projects.access(db, slug, actor)
    authorize(actor, Action.VIEW_QUALITY, role)
    view = field_view(actor, role, projects.spec_of(project))
    return quality_report.build(db, project, view)


@router.get("/projects/{slug}/gaps", response_model=guideline_gaps.GapsReport)
def gaps(
    slug: str,
    db: DbDep,
    actor: ActorDep,
    limit: Annotated[int, Query(ge=1, le=100, description="How many label pairs.")] = 10,
) -> guideline_gaps.GapsReport:
    """The guideline-gaps report: the most confused label pairs (annotators' disagreements and
    adjudicators' rulings), with example items, the section of the current guidelines that
    names both labels or "not covered", and agreement on the pair per guideline version."""
    project, role = projects.access(db, slug, actor)
    authorize(actor, Action.VIEW_QUALITY, role)
    return guideline_gaps.gaps(db, project, limit)
