"""Projects and members: load -> authorize -> service -> schema."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Response, status

from labelwise.api.deps import ActorDep, DbDep
from labelwise.api.v1.schemas import ApplyOut, MemberIn, ProjectDetail, ProjectOut
from labelwise.errors import InvalidInput, NotFound
from labelwise.policies import (
    Action,
    authorize,
    authorize_admin,
    authorize_role_change,
    field_view,
)
from labelwise.services import projects
from labelwise.spec import SpecError, parse_spec

router = APIRouter(tags=["projects"])


@router.get("/projects", response_model=list[ProjectOut])
def list_projects(db: DbDep, actor: ActorDep) -> list[ProjectOut]:
    return [_out(s) for s in projects.summaries(db, actor)]


def _out(summary: projects.ProjectSummary) -> ProjectOut:
    return ProjectOut(
        slug=summary.project.slug,
        name=summary.project.name,
        goal=summary.project.spec.get("goal", ""),
        role=summary.role,
        items=summary.items,
        by_status=summary.by_status,
    )


@router.post(
    "/projects",
    response_model=ApplyOut,
    responses={201: {"model": ApplyOut}, 422: {"description": "invalid spec"}},
)
def apply_project(
    db: DbDep, actor: ActorDep, response: Response, spec: dict[str, Any] = Body(...)
) -> ApplyOut:
    """Create a project from a spec (admins), or update one (its owners and managers)."""
    try:
        parsed = parse_spec(spec)
    except SpecError as error:
        raise InvalidInput("invalid project spec", error.errors) from None
    try:
        _, role = projects.access(db, parsed.slug, actor)
    except NotFound:
        role = None
    if role is None:
        # Non-members get the same answer whether or not the slug exists.
        authorize_admin(actor, "create projects")
    else:
        authorize(actor, Action.UPDATE_PROJECT, role)
    result = projects.apply_spec(db, parsed, actor_id=actor.user_id)
    if result.created:
        response.status_code = status.HTTP_201_CREATED
    return ApplyOut(slug=parsed.slug, created=result.created, changed=result.changed)


@router.get("/projects/{slug}", response_model=ProjectDetail)
def get_project(slug: str, db: DbDep, actor: ActorDep) -> ProjectDetail:
    project, role = projects.access(db, slug, actor)
    authorize(actor, Action.VIEW_PROJECT, role)
    summary = projects.summary(db, project, role)
    view = field_view(actor, role, projects.spec_of(project))
    return ProjectDetail(**_out(summary).model_dump(), spec=view.spec(project.spec))


@router.get("/projects/{slug}/members", response_model=list[projects.Member])
def list_members(slug: str, db: DbDep, actor: ActorDep) -> list[projects.Member]:
    project, role = projects.access(db, slug, actor)
    authorize(actor, Action.VIEW_MEMBERS, role)
    return projects.members(db, project)


@router.put("/projects/{slug}/members/{username}", response_model=projects.Member)
def set_member(
    slug: str, username: str, body: MemberIn, db: DbDep, actor: ActorDep
) -> projects.Member:
    project, role = projects.access(db, slug, actor)
    authorize(actor, Action.MANAGE_MEMBERS, role)
    authorize_role_change(actor, role, projects.role_of(db, project, username), body.role)
    projects.set_member(db, project, username, body.role, actor_id=actor.user_id)
    return projects.Member(username, body.role)


@router.delete("/projects/{slug}/members/{username}", status_code=204)
def remove_member(slug: str, username: str, db: DbDep, actor: ActorDep) -> Response:
    project, role = projects.access(db, slug, actor)
    authorize(actor, Action.MANAGE_MEMBERS, role)
    authorize_role_change(actor, role, projects.role_of(db, project, username), None)
    projects.set_member(db, project, username, None, actor_id=actor.user_id)
    return Response(status_code=204)
