"""Guidelines: versions (published, never edited), their diff, examples, acknowledgements.

There is deliberately no PUT or PATCH on a version: a published version never changes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, Response, status
from pydantic import BaseModel, Field

from labelwise.api.deps import ActorDep, DbDep
from labelwise.db.guideline_models import NOTE_MAX
from labelwise.db.models import Project
from labelwise.errors import NotFound
from labelwise.policies import Action, Actor, FieldView, authorize, field_view
from labelwise.services import guidelines, projects
from labelwise.services.guidelines import BODY_MAX

router = APIRouter(tags=["guidelines"])


# The listing's own shape: guidelines.Version without its body, which can be long.
class VersionSummaryOut(BaseModel):
    number: int
    note: str
    published_by: str | None
    published_at: datetime


class PublishIn(BaseModel):
    body: str = Field(max_length=BODY_MAX, description="The guidelines, in markdown.")
    note: str = Field(max_length=NOTE_MAX, description="One line: what changed.")


class PublishOut(BaseModel):
    number: int


class DiffOut(BaseModel):
    a: int
    b: int
    diff: str = Field(description="A unified line diff from version a to version b.")


class ExampleIn(BaseModel):
    item_id: int | None = Field(None, description="The item's id; or give external_id.")
    external_id: str | None = Field(None, description="The item's external id.")
    answers: dict[str, Any]
    why: str = Field(max_length=5000)
    kind: Literal["example", "counterexample"] = "example"


class AcknowledgeIn(BaseModel):
    version: int


def _project(db: DbDep, slug: str, actor: Actor, action: Action) -> Project:
    project, role = projects.access(db, slug, actor)
    authorize(actor, action, role)
    return project


def _project_seen(db: DbDep, slug: str, actor: Actor, action: Action) -> tuple[Project, FieldView]:
    """The project, and what of its items the caller may see (examples show items)."""
    project, role = projects.access(db, slug, actor)
    authorize(actor, action, role)
    return project, field_view(actor, role, projects.spec_of(project))


@router.get("/projects/{slug}/guidelines", response_model=list[VersionSummaryOut])
def list_versions(slug: str, db: DbDep, actor: ActorDep) -> list[guidelines.Version]:
    """Every published version, newest first (without the text)."""
    project = _project(db, slug, actor, Action.READ_GUIDELINES)
    return guidelines.versions(db, project.id)


@router.post(
    "/projects/{slug}/guidelines", response_model=PublishOut, status_code=status.HTTP_201_CREATED
)
def publish(slug: str, body: PublishIn, db: DbDep, actor: ActorDep) -> PublishOut:
    """Publish a new version; the note (one line) is required."""
    project = _project(db, slug, actor, Action.PUBLISH_GUIDELINES)
    return PublishOut(
        number=guidelines.publish(db, project.id, body.body, body.note, actor.user_id)
    )


@router.get("/projects/{slug}/guidelines/current", response_model=guidelines.Version)
def current_version(slug: str, db: DbDep, actor: ActorDep) -> guidelines.Version:
    project = _project(db, slug, actor, Action.READ_GUIDELINES)
    return guidelines.get(db, project.id)


@router.get("/projects/{slug}/guidelines/pending", response_model=guidelines.Pending)
def pending(slug: str, db: DbDep, actor: ActorDep) -> guidelines.Pending:
    """What changed since the caller last acknowledged a version: changelog notes and diff."""
    project = _project(db, slug, actor, Action.READ_GUIDELINES)
    return guidelines.pending(db, project.id, actor.user_id)


@router.post("/projects/{slug}/guidelines/acknowledge", status_code=204)
def acknowledge(slug: str, body: AcknowledgeIn, db: DbDep, actor: ActorDep) -> Response:
    """The caller has read the current version; acknowledging it again changes nothing."""
    project = _project(db, slug, actor, Action.READ_GUIDELINES)
    guidelines.acknowledge(db, project.id, actor.user_id, body.version)
    return Response(status_code=204)


@router.get("/projects/{slug}/guidelines/examples", response_model=list[guidelines.Example])
def list_examples(slug: str, db: DbDep, actor: ActorDep) -> list[guidelines.Example]:
    project, view = _project_seen(db, slug, actor, Action.READ_GUIDELINES)
    return guidelines.examples(db, project.id, view)


@router.post(
    "/projects/{slug}/guidelines/examples",
    response_model=guidelines.Example,
    status_code=status.HTTP_201_CREATED,
)
def add_example(slug: str, body: ExampleIn, db: DbDep, actor: ActorDep) -> guidelines.Example:
    """Link an example or counterexample to an item; the answer must fit the questions."""
    project, view = _project_seen(db, slug, actor, Action.PUBLISH_GUIDELINES)
    example_id = guidelines.add_example(
        db,
        project.id,
        projects.spec_of(project),
        body.external_id,
        body.answers,
        body.why,
        body.kind,
        actor.user_id,
        item_id=body.item_id,
    )
    for example in guidelines.examples(db, project.id, view):
        if example.id == example_id:
            return example
    raise NotFound(f"example {example_id} was removed meanwhile")


@router.delete("/projects/{slug}/guidelines/examples/{example_id}", status_code=204)
def remove_example(slug: str, example_id: int, db: DbDep, actor: ActorDep) -> Response:
    project = _project(db, slug, actor, Action.PUBLISH_GUIDELINES)
    guidelines.remove_example(db, project.id, example_id, actor.user_id)
    return Response(status_code=204)


@router.get("/projects/{slug}/guidelines/diff/{a}/{b}", response_model=DiffOut)
def diff(slug: str, a: int, b: int, db: DbDep, actor: ActorDep) -> DiffOut:
    """What changed from version a to version b, as a unified line diff."""
    project = _project(db, slug, actor, Action.READ_GUIDELINES)
    return DiffOut(a=a, b=b, diff=guidelines.diff(db, project.id, a, b))


@router.get("/projects/{slug}/guidelines/{number}", response_model=guidelines.Version)
def get_version(slug: str, number: int, db: DbDep, actor: ActorDep) -> guidelines.Version:
    project = _project(db, slug, actor, Action.READ_GUIDELINES)
    return guidelines.get(db, project.id, number)
