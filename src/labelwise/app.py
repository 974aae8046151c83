"""create_app(settings): wires the database, routers, pages, middleware and error handling."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles

from labelwise import __version__
from labelwise.api.errors import error_response, validation_response
from labelwise.api.labeling_routes import LabelingRoutes
from labelwise.api.v1 import router as api_router
from labelwise.db.engine import Database
from labelwise.errors import LabelwiseError
from labelwise.services.background import BackgroundProcess
from labelwise.settings import Settings, from_env
from labelwise.web.routers import router as web_router
from labelwise.web.security import SecurityHeaders


def create_app(settings: Settings, db: Database | None = None) -> FastAPI:
    """The ASGI app. The schema must be migrated already (`serve` and the tests do that)."""
    app = FastAPI(
        lifespan=_background_work,
        title="labelwise",
        version=__version__,
        openapi_url="/api/v1/openapi.json",
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.db = db or Database(settings.resolved_database_url)
    app.state.secret_key = settings.load_secret_key()
    app.add_middleware(LabelingRoutes)  # inside SecurityHeaders: its answers get them too
    app.add_middleware(SecurityHeaders)
    app.include_router(api_router)
    app.include_router(web_router)
    app.mount("/static", StaticFiles(directory=Path(__file__).parent / "web" / "static"), "static")
    app.add_exception_handler(LabelwiseError, _labelwise_error)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, _validation_error)  # type: ignore[arg-type]
    return app


@asynccontextmanager
async def _background_work(app: FastAPI) -> AsyncIterator[None]:
    """Pre-labels, checks and the uncertainty order run beside the server
    (`services/background`)."""
    settings: Settings = app.state.settings
    if not settings.auto_checks_seconds:
        yield
        return
    worker = BackgroundProcess(
        app.state.db.url, settings.data_dir, settings.auto_checks_seconds, settings.model_limits
    )
    worker.start()
    try:
        yield
    finally:
        worker.stop()


async def _labelwise_error(_request: Request, error: LabelwiseError) -> JSONResponse:
    return error_response(error)


async def _validation_error(_request: Request, error: RequestValidationError) -> JSONResponse:
    return validation_response(error.errors())


def app_from_env() -> FastAPI:
    """Factory for `uvicorn --factory` and worker processes: settings from LABELWISE_*."""
    return create_app(from_env())
