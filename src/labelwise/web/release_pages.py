"""Release pages: create a release from the project page, read its card, download it."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from labelwise.api.deps import DbDep
from labelwise.errors import LabelwiseError
from labelwise.formats import FORMATS, release_formats
from labelwise.policies import Action
from labelwise.services import releases
from labelwise.web.project_pages import project_context
from labelwise.web.rendering import PageRoute, SessionUser, project_access, render
from labelwise.web.security import CSRF_FIELD, check_csrf

router = APIRouter(include_in_schema=False, route_class=PageRoute)


@router.post("/projects/{slug}/releases", response_class=HTMLResponse)
async def create_release(slug: str, request: Request, db: DbDep, user: SessionUser) -> Response:
    access = await run_in_threadpool(project_access, db, user, slug, Action.CREATE_RELEASE)
    async with request.form(max_files=0, max_fields=5) as form:
        check_csrf(request, str(form.get(CSRF_FIELD) or ""))
        name, method = str(form.get("name") or "").strip(), str(form.get("method") or "majority")
    try:
        await run_in_threadpool(
            releases.create, db, access.project, name, method, access.actor.user_id
        )
    except LabelwiseError as error:
        if error.status_code == 403:
            raise
        context = await run_in_threadpool(project_context, db, access)
        result = {"user": user, **context, "release_error": error}
        return render(request, "project.html", result, error.status_code)
    target = f"/projects/{slug}/releases/{quote(name, safe='')}"
    return RedirectResponse(target, status_code=303)


@router.get("/projects/{slug}/releases/{name}", response_class=HTMLResponse)
def release_page(slug: str, name: str, request: Request, db: DbDep, user: SessionUser) -> Response:
    access = project_access(db, user, slug, Action.EXPORT)
    release = releases.get(db, access.project, name)
    view = access.fields
    shape = releases.layout(db, access.project, name, view=view, soft=False, annotators=False)
    # Directory formats (a Hugging Face dataset) cannot be one download: the CLI writes them.
    formats = [f for f in release_formats(shape) if FORMATS[f].release is not None]
    context = {"user": user, "access": access, "release": release, "formats": formats}
    return render(request, "release.html", context)
