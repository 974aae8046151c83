"""Every HTML route of the browser app, for create_app() to mount in one line."""

from fastapi import APIRouter

from labelwise.web import (
    dashboard_pages,
    pages,
    project_pages,
    quality_pages,
    release_pages,
    scorecard_pages,
    work_pages,
)

router = APIRouter(include_in_schema=False)
for module in (
    pages,
    project_pages,
    dashboard_pages,
    quality_pages,
    release_pages,
    scorecard_pages,
    work_pages,
):
    router.include_router(module.router)
