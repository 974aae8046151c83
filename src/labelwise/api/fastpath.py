"""The two requests behind every annotation, answered before FastAPI's per-request work.

`POST /api/v1/projects/{slug}/next` and `POST /api/v1/assignments/{id}/submit` with an API
token are matched here. FastAPI's route matching over every route, dependency solving and
thread-pool hops cost more CPU than the database work of these two requests
(bench/RESULTS.md). The services, the authorization inside them, the JSON and the errors are
the ones of the FastAPI routes in `api/v1/workflow.py`, which still answer browser sessions
(cookie plus CSRF) and document both in the OpenAPI schema.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import TypeVar

from pydantic import ValidationError
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from labelwise.api.deps import bearer_actor
from labelwise.api.errors import error_response, validation_response
from labelwise.api.v1.workflow import SubmitIn, lease_response, submitted_response
from labelwise.db.engine import Database
from labelwise.errors import LabelwiseError
from labelwise.policies import Actor
from labelwise.services import routing, submissions

_NEXT = re.compile(r"/api/v1/projects/([^/]+)/next")
_SUBMIT = re.compile(r"/api/v1/assignments/([0-9]+)/submit")

T = TypeVar("T")
Handler = Callable[[Database, Actor, str, Receive], Awaitable[Response]]


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


async def _next(db: Database, actor: Actor, slug: str, _receive: Receive) -> Response:
    return lease_response(await _run(db, partial(routing.next_annotation, db, slug, actor)))


async def _submit(db: Database, actor: Actor, assignment: str, receive: Receive) -> Response:
    try:
        body = SubmitIn.model_validate_json(await _body(receive))
    except ValidationError as error:
        return validation_response(error.errors())
    call = partial(submissions.submit, db, int(assignment), actor, body.answers, body.time_ms)
    result = await _run(db, call)
    return submitted_response(result)


async def _body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


class LabelingFastPath:
    """ASGI middleware: next and submit for token callers; everything else goes on to FastAPI."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        found = _match(scope)
        if found is None:
            await self.app(scope, receive, send)
            return
        handler, argument, authorization = found
        db: Database = scope["app"].state.db
        try:
            actor = await bearer_actor(db, authorization)
            response = await handler(db, actor, argument, receive)
        except LabelwiseError as error:
            response = error_response(error)
        await response(scope, receive, send)


def _match(scope: Scope) -> tuple[Handler, str, str] | None:
    """The handler, its path argument and the Authorization header, for the two routes."""
    if scope["type"] != "http" or scope["method"] != "POST":
        return None
    path: str = scope["path"]
    handler: Handler
    if path.endswith("/next"):
        handler, match = _next, _NEXT.fullmatch(path)
    elif path.endswith("/submit"):
        handler, match = _submit, _SUBMIT.fullmatch(path)
    else:
        return None
    if match is None:
        return None
    for name, value in scope["headers"]:
        if name == b"authorization":
            return handler, match.group(1), value.decode("latin-1")
    return None  # a browser session: FastAPI checks its cookie and CSRF token
