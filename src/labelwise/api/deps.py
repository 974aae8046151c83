"""Request dependencies shared by the API and the pages: settings, database, caller."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from labelwise.db.engine import Database
from labelwise.errors import Unauthorized
from labelwise.policies import Actor
from labelwise.services import accounts
from labelwise.settings import Settings
from labelwise.web.security import SESSION_COOKIE, check_csrf

# The dependencies are async so they run on the event loop: a sync one costs a hop through
# the thread pool per request. What reads the database still runs in the pool.


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_db(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


async def optional_actor(request: Request) -> Actor | None:
    """Bearer token for scripts; session cookie (plus CSRF on writes) for the browser."""
    db = await get_db(request)
    header = request.headers.get("authorization", "")
    if header:
        return await bearer_actor(db, header)
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    actor = accounts.cached_session_actor(db, token) or await run_in_threadpool(
        accounts.actor_for_session, db, token
    )
    if actor is None:
        return None
    check_csrf(request, None)
    return actor


async def bearer_actor(db: Database, header: str) -> Actor:
    """The actor of an `Authorization: Bearer <token>` header; 401 for anything else."""
    scheme, _, secret = header.partition(" ")
    actor = None
    if scheme.lower() == "bearer":
        secret = secret.strip()
        actor = accounts.cached_actor(db, secret) or await run_in_threadpool(
            accounts.actor_for_token, db, secret
        )
    if actor is None:
        raise Unauthorized("invalid or revoked API token")
    return actor


async def current_actor(actor: Annotated[Actor | None, Depends(optional_actor)]) -> Actor:
    if actor is None:
        raise Unauthorized("log in or send 'Authorization: Bearer <token>'")
    return actor


SettingsDep = Annotated[Settings, Depends(get_settings)]
DbDep = Annotated[Database, Depends(get_db)]
ActorDep = Annotated[Actor, Depends(current_actor)]
