"""The project page (progress, members, settings, import, export, releases), escalations,
the items browser, one item.

Each section is shown only to roles whose actions allow it, checked with the same
policies the API uses; the data behind them comes from the same services.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from labelwise.api.deps import DbDep, SettingsDep
from labelwise.api.item_filter import ItemFilterDep
from labelwise.api.v1.paging import CursorQuery, after_key
from labelwise.db.engine import Database
from labelwise.errors import InvalidInput, LabelwiseError, NotFound, TooLarge
from labelwise.formats import format_for_path
from labelwise.policies import Action
from labelwise.services import (
    comments,
    guidelines,
    imports,
    item_browser,
    item_views,
    projects,
    releases,
)
from labelwise.services.checks import REGISTRY
from labelwise.services.workflow import escalations
from labelwise.settings import Settings
from labelwise.states import ItemStatus
from labelwise.web.rendering import PageRoute, ProjectAccess, SessionUser, project_access, render
from labelwise.web.security import CSRF_FIELD, check_csrf

router = APIRouter(include_in_schema=False, route_class=PageRoute)

ITEMS_PER_PAGE = 50
ANSWERED_SHOWN = 50
EXPORT_FORMATS = ("jsonl", "csv", "parquet")


def project_context(db: Database, access: ProjectAccess, after: int = 0) -> dict[str, Any]:
    project = access.project
    context: dict[str, Any] = {
        "access": access,
        "spec": access.spec,
        "summary": projects.summary(db, project, access.role),
        "export_formats": EXPORT_FORMATS,
        "members": None,
        "items": None,
        "next_after": None,
        "open_escalations": None,
        "releases": None,
        "guidelines": None,
    }
    if access.can(Action.VIEW_MEMBERS):
        context["members"] = projects.members(db, project)
    if access.can(Action.LIST_ITEMS):
        items = projects.page_items(db, project, after=after, limit=ITEMS_PER_PAGE)
        context["items"] = items
        context["next_after"] = items[-1].id if len(items) == ITEMS_PER_PAGE else None
    if access.can(Action.EXPORT):
        context["releases"] = releases.listing(db, project)
    if access.can(Action.READ_GUIDELINES):
        context["guidelines"] = guidelines.current(db, project.id)
    if access.can(Action.ANSWER_ESCALATIONS):
        context["open_escalations"] = len(escalations.escalations(db, project.id, open_only=True))
    return context


@router.get("/projects/{slug}", response_class=HTMLResponse)
def project_page(
    slug: str, request: Request, db: DbDep, user: SessionUser, after: int = 0
) -> Response:
    access = project_access(db, user, slug, Action.VIEW_PROJECT)
    context = project_context(db, access, after)
    return render(request, "project.html", {"user": user, **context})


@router.post("/projects/{slug}/import", response_class=HTMLResponse)
async def import_upload(
    slug: str, request: Request, db: DbDep, settings: SettingsDep, user: SessionUser
) -> Response:
    """A file from the browser, spooled to disk by the form parser, read as a stream.

    Authorization and the size limit are checked before the body is read at all.
    """
    access = await run_in_threadpool(project_access, db, user, slug, Action.IMPORT_ITEMS)
    result: dict[str, Any] = {}
    status = 200
    try:
        result["import_summary"] = await _import_form(request, db, access, settings)
    except LabelwiseError as error:
        if error.status_code == 403:
            raise
        result["import_error"], status = error, error.status_code
    context = await run_in_threadpool(project_context, db, access)
    return render(request, "project.html", {"user": user, **context, **result}, status)


async def _import_form(
    request: Request, db: Database, access: ProjectAccess, settings: Settings
) -> imports.ImportSummary:
    limit = settings.max_upload_bytes
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise TooLarge(f"the upload is {int(declared)} bytes; the limit is {limit} bytes")
    async with request.form(max_files=1, max_fields=10) as form:
        check_csrf(request, str(form.get(CSRF_FIELD) or ""))
        upload = form.get("file")
        if not isinstance(upload, UploadFile) or not upload.filename:
            raise InvalidInput("file: choose a file to import")
        if upload.size is not None and upload.size > limit:
            raise TooLarge(f"the upload is over the limit of {limit} bytes")
        fmt = format_for_path(upload.filename)
        assert fmt.read is not None
        return await run_in_threadpool(
            imports.import_items,
            db,
            access.project.id,
            access.spec,
            fmt.read(upload.file),
            source=upload.filename,
            position_name=fmt.position,
            skip_invalid=form.get("skip_invalid") == "on",
            pii_key=settings.load_pii_key,
            actor_id=access.actor.user_id,
        )


@router.get("/projects/{slug}/escalations", response_class=HTMLResponse)
def escalation_queue(slug: str, request: Request, db: DbDep, user: SessionUser) -> Response:
    access = project_access(db, user, slug, Action.ANSWER_ESCALATIONS)
    found = escalations.escalations(db, access.project.id)
    context = {
        "user": user,
        "access": access,
        "open": [e for e in found if e.answered_at is None],
        "answered": [e for e in reversed(found) if e.answered_at is not None][:ANSWERED_SHOWN],
    }
    return render(request, "escalations.html", context)


@router.get("/projects/{slug}/items", response_class=HTMLResponse)
def items_browser(
    slug: str,
    request: Request,
    db: DbDep,
    user: SessionUser,
    wanted: ItemFilterDep,
    cursor: CursorQuery = None,
) -> Response:
    """The items browser: the same filters and service as `GET /api/v1/projects/{slug}/items`;
    a filter that names nothing in the project is shown beside the form, not as a page error."""
    access = project_access(db, user, slug, Action.LIST_ITEMS)
    context: dict[str, Any] = {"user": user, "access": access, "wanted": wanted, "page": None}
    context["checks"] = sorted(REGISTRY)
    context["statuses"] = list(ItemStatus)
    context["shown_fields"] = access.fields.fields(access.spec.fields)
    try:
        context["page"] = item_browser.browse(
            db,
            access.project.id,
            access.spec,
            wanted,
            view=access.fields,
            after=after_key(cursor),
            limit=ITEMS_PER_PAGE,
        )
    except InvalidInput as error:
        context["filter_error"] = error
        return render(request, "items.html", context, error.status_code)
    context["next_query"] = _next_query(request, context["page"].next_after)
    return render(request, "items.html", context)


def _next_query(request: Request, after: int | None) -> str | None:
    """This page's query string with the cursor of the next page."""
    if after is None:
        return None
    kept = [(k, v) for k, v in request.query_params.multi_items() if k != "cursor" and v]
    return urlencode([*kept, ("cursor", str(after))])


@router.get("/projects/{slug}/items/{item_id}", response_class=HTMLResponse)
def item_page(slug: str, item_id: int, request: Request, db: DbDep, user: SessionUser) -> Response:
    """The item, its annotations with their history, and its discussion thread.

    As in the API, annotators see only items handed to them, and only their own work.
    """
    access = project_access(db, user, slug, Action.VIEW_PROJECT)
    sees_all = access.can(Action.LIST_ITEMS)
    if not sees_all and not comments.item_was_assigned(db, item_id, access.actor.user_id):
        raise NotFound(f"item {item_id} not found")
    mine = None if sees_all else access.actor.user_id
    detail = item_views.item_detail(
        db, access.project.id, item_id, view=access.fields, only_user=mine
    )
    context = {"user": user, "access": access, "item": detail}
    return render(request, "item.html", context)
