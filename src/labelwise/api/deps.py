"""Request dependencies shared by the API and the pages: settings, database, caller."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from labelwise.db.engine import Database
from labelwise.errors import Unauthorized
from labelwise.policies import Actor
from labelwise.services import accounts
from labelwise.settings import Settings
from labelwise.web.security import SESSION_COOKIE, check_csrf


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_db(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


def optional_actor(request: Request) -> Actor | None:
    """Bearer token for scripts; session cookie (plus CSRF on writes) for the browser."""
    db = get_db(request)
    header = request.headers.get("authorization", "")
    if header:
        scheme, _, secret = header.partition(" ")
        actor = accounts.actor_for_token(db, secret.strip()) if scheme.lower() == "bearer" else None
        if actor is None:
            raise Unauthorized("invalid or revoked API token")
        return actor
    token = request.cookies.get(SESSION_COOKIE)
    user = accounts.user_for_session(db, token) if token else None
    if user is None:
        return None
    check_csrf(request, None)
    return accounts.actor_of(user)


def current_actor(actor: Annotated[Actor | None, Depends(optional_actor)]) -> Actor:
    if actor is None:
        raise Unauthorized("log in or send 'Authorization: Bearer <token>'")
    return actor


SettingsDep = Annotated[Settings, Depends(get_settings)]
DbDep = Annotated[Database, Depends(get_db)]
ActorDep = Annotated[Actor, Depends(current_actor)]
