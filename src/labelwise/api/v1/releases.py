"""Dataset releases: create (owners), list, read with the card, diff, export."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Query
from fastapi.responses import PlainTextResponse, StreamingResponse
from pydantic import BaseModel, Field

from labelwise.api.deps import ActorDep, DbDep
from labelwise.api.v1.downloads import download
from labelwise.formats import get_release_format
from labelwise.policies import Action, authorize, field_view
from labelwise.services import projects, releases

router = APIRouter(tags=["releases"])


class ReleaseIn(BaseModel):
    name: str = Field(description="1-64 letters, digits, '.', '_' or '-', e.g. v1")
    method: str = Field("majority", description="majority, dawid-skene or weighted")


# The listing's own shape: releases.ReleaseInfo without its card, which runs to pages.
class ReleaseOut(BaseModel):
    name: str
    method: str
    items: int
    content_hash: str
    created_at: datetime
    created_by: str | None


@router.get("/projects/{slug}/releases", response_model=list[ReleaseOut])
def list_releases(slug: str, db: DbDep, actor: ActorDep) -> list[releases.ReleaseInfo]:
    project, role = projects.access(db, slug, actor)
    authorize(actor, Action.EXPORT, role)
    return releases.listing(db, project)


@router.post("/projects/{slug}/releases", response_model=releases.ReleaseInfo, status_code=201)
def create_release(slug: str, body: ReleaseIn, db: DbDep, actor: ActorDep) -> releases.ReleaseInfo:
    """Freeze the finished items' final answers; 409 if the name is taken."""
    project, role = projects.access(db, slug, actor)
    authorize(actor, Action.CREATE_RELEASE, role)
    return releases.create(db, project, body.name, body.method, actor.user_id)


@router.get("/projects/{slug}/releases/{name}", response_model=releases.ReleaseInfo)
def get_release(slug: str, name: str, db: DbDep, actor: ActorDep) -> releases.ReleaseInfo:
    project, role = projects.access(db, slug, actor)
    authorize(actor, Action.EXPORT, role)
    return releases.get(db, project, name)


@router.get("/projects/{slug}/releases/{name}/card", response_class=PlainTextResponse)
def release_card(slug: str, name: str, db: DbDep, actor: ActorDep) -> PlainTextResponse:
    """The dataset card, as markdown."""
    project, role = projects.access(db, slug, actor)
    authorize(actor, Action.EXPORT, role)
    card = releases.get(db, project, name).card
    return PlainTextResponse(card, media_type="text/markdown; charset=utf-8")


@router.get(
    "/projects/{slug}/releases/{name}/export",
    response_class=StreamingResponse,
    responses={200: {"description": "the release in the format asked for, streamed"}},
)
def export_release(
    slug: str,
    name: str,
    db: DbDep,
    actor: ActorDep,
    format: str = Query("jsonl", description="jsonl, csv, parquet, spacy or conll"),
    soft: bool = Query(False, description="Each question's label probabilities too."),
    annotators: bool = Query(False, description="Each annotator's answers too."),
) -> StreamingResponse:
    """The same bytes every time: the rows and the schema were frozen with the release.

    Fields hidden from the caller's role, in the project now or in the release's spec, are
    left out (the content hash is of the rows with every field)."""
    project, role = projects.access(db, slug, actor)
    authorize(actor, Action.EXPORT, role)
    fmt = get_release_format(format)
    view = field_view(actor, role, projects.spec_of(project))
    chunks = releases.export(db, project, name, fmt, view=view, soft=soft, annotators=annotators)
    return download(chunks, fmt, f"{project.slug}-{name}")


@router.get("/projects/{slug}/releases/{old}/diff/{new}", response_model=releases.ReleaseDiff)
def diff_releases(
    slug: str,
    old: str,
    new: str,
    db: DbDep,
    actor: ActorDep,
    limit: int = Query(
        50, ge=1, le=10_000, description="Items listed per kind (the counts cover all)."
    ),
) -> releases.ReleaseDiff:
    project, role = projects.access(db, slug, actor)
    authorize(actor, Action.EXPORT, role)
    return releases.diff(db, project, old, new, limit=limit)
