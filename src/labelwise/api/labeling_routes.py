"""The two requests behind every annotation, routed ahead of FastAPI.

`POST /api/v1/projects/{slug}/next` and `POST /api/v1/assignments/{id}/submit`, for API
tokens and browser sessions (cookie plus CSRF) alike, are matched here by a small router in
front of the app: FastAPI's route matching over every route, dependency solving and
thread-pool hops cost more CPU than the database work of these two requests
(bench/RESULTS.md). The FastAPI routes of the same paths (`api/v1/workflow.py`) document them
in the OpenAPI schema and answer through the same handlers.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from functools import partial
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, Field, TypeAdapter, ValidationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import compile_path
from starlette.types import ASGIApp, Receive, Scope, Send

from labelwise.api.deps import bearer_actor, current_actor, optional_actor
from labelwise.api.errors import error_response, validation_response
from labelwise.db.engine import Database
from labelwise.errors import LabelwiseError
from labelwise.policies import Action, Actor, HolderPermit, Permit
from labelwise.services.workflow import routing, submissions
from labelwise.services.workflow.prelabels import Suggestion

T = TypeVar("T")


class ItemIn(BaseModel):
    id: int
    external_id: str | None
    data: dict[str, Any]


class SuggestionOut(BaseModel):
    model: str = Field(description="The model that predicted it, name@version.")
    answers: dict[str, Any] = Field(description="Its answers, to pre-fill the form with.")
    scores: dict[str, Any] | None = Field(
        None, description="Per question: a confidence in [0, 1] or label -> probability."
    )


class LeaseOut(BaseModel):
    assignment_id: int
    kind: Literal["annotate", "review", "adjudicate"]
    item: ItemIn
    expires_at: datetime
    annotation_id: int | None = Field(None, description="The annotation under review or rework.")
    answers: dict[str, Any] | None = Field(None, description="Its answers.")
    feedback: str | None = Field(None, description="Why a reviewer sent it back (rework).")
    suggestion: SuggestionOut | None = Field(
        None, description="The item's latest model prediction, when the project shows it."
    )


class SubmitIn(BaseModel):
    answers: dict[str, Any]
    time_ms: int | None = Field(None, ge=0, description="Time spent on the item.")


# The answers are serialized here, for these routes and FastAPI's alike; FastAPI passes a
# Response through without re-validating. A lease's wire shape nests its item, so it has a
# schema of its own; a submit answers the service's `Submitted` as it is.


def lease_response(lease: routing.Lease | None) -> Response:
    if lease is None:
        return Response(status_code=204)
    out = LeaseOut(
        assignment_id=lease.assignment_id,
        kind=lease.kind,  # type: ignore[arg-type]
        item=ItemIn(id=lease.item_id, external_id=lease.external_id, data=lease.data),
        expires_at=lease.expires_at,
        annotation_id=lease.annotation_id,
        answers=lease.answers,
        feedback=lease.feedback,
        suggestion=_suggestion(lease.suggestion),
    )
    return Response(out.model_dump_json(), media_type="application/json")


def _suggestion(found: Suggestion | None) -> SuggestionOut | None:
    if found is None:
        return None
    return SuggestionOut(model=found.model, answers=found.answers, scores=found.scores)


def submitted_response(result: submissions.Submitted) -> Response:
    return Response(_SUBMITTED.dump_json(result), media_type="application/json")


_SUBMITTED = TypeAdapter(submissions.Submitted)


async def _run(db: Database, call: Callable[[], T]) -> T:
    """Run a short write on the event loop itself when SQLite is free for it.

    SQLite's writes are CPU under one lock, and a hop to the thread pool and back cost more
    CPU than the write (bench/RESULTS.md); a write that would have to queue (behind an import,
    a release, another process) goes to the thread pool, so the event loop keeps answering
    everything else. PostgreSQL's are round trips to the server: on the thread pool they
    overlap, and a wait on a row lock holds up only that request.
    """
    lock = db.write_lock
    if lock is not None and lock.acquire(blocking=False):
        try:
            return call()
        finally:
            lock.release()
    return await asyncio.get_running_loop().run_in_executor(_WRITERS, call)


# Eight threads of its own, not the shared pool of forty: fewer transactions in flight and a
# cheaper hop. On PostgreSQL with one worker: 192 -> 218 annotations/s, submit p99 136 -> 75 ms.
_WRITERS = ThreadPoolExecutor(8, thread_name_prefix="labelwise-write")


async def next_item(db: Database, actor: Actor, slug: str) -> Response:
    """Next, as the route allows it: labeling in the project."""
    permit = Permit(actor, Action.ANNOTATE)
    return lease_response(await _run(db, partial(routing.next_annotation, db, slug, permit)))


async def submit(db: Database, actor: Actor, assignment_id: int, body: SubmitIn) -> Response:
    """Submit, as the route allows it: on an assignment the caller holds."""
    permit = HolderPermit(actor)
    call = partial(submissions.submit, db, assignment_id, permit, body.answers, body.time_ms)
    return submitted_response(await _run(db, call))


async def _next(request: Request, db: Database, actor: Actor) -> Response:
    return await next_item(db, actor, request.path_params["slug"])


async def _submit(request: Request, db: Database, actor: Actor) -> Response:
    try:
        body = SubmitIn.model_validate_json(await request.body())
    except ValidationError as error:
        return validation_response(error.errors())
    return await submit(db, actor, request.path_params["assignment_id"], body)


Handler = Callable[[Request, Database, Actor], Awaitable[Response]]


def _route(path: str, handler: Handler) -> tuple[re.Pattern[str], dict[str, Any], Handler]:
    pattern, _, convertors = compile_path(path)
    return pattern, convertors, handler


_ROUTES = [
    _route("/api/v1/projects/{slug}/next", _next),
    _route("/api/v1/assignments/{assignment_id:int}/submit", _submit),
]


class LabelingRoutes:
    """ASGI middleware: next and submit; every other request goes on to FastAPI."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        found = _match(scope)
        if found is None:
            await self.app(scope, receive, send)
            return
        handler, params = found
        scope["path_params"] = params
        request = Request(scope, receive)
        db: Database = scope["app"].state.db
        try:
            actor = await _caller(request, db)
            response = await handler(request, db, actor)
        except LabelwiseError as error:
            response = error_response(error)
        await response(scope, receive, send)


async def _caller(request: Request, db: Database) -> Actor:
    """A token's caller, read straight from the raw headers (scripts, every request), else
    the browser session's, as every other route reads it."""
    for name, value in request.scope["headers"]:
        if name == b"authorization":
            return await bearer_actor(db, value.decode("latin-1"))
    return await current_actor(await optional_actor(request))


def _match(scope: Scope) -> tuple[Handler, dict[str, Any]] | None:
    if scope["type"] != "http" or scope["method"] != "POST":
        return None
    path: str = scope["path"]
    for pattern, convertors, handler in _ROUTES:
        match = pattern.match(path)
        if match is not None:
            params = {k: convertors[k].convert(v) for k, v in match.groupdict().items()}
            return handler, params
    return None
