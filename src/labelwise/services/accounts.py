"""Users, API tokens, browser sessions and login rate limiting."""

from __future__ import annotations

import functools
import hashlib
import re
import secrets
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, cast

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection, Select, Table, bindparam, delete, func, select, update
from sqlalchemy.orm import Session

from labelwise.clock import now
from labelwise.db.engine import Database
from labelwise.db.models import ApiToken, BrowserSession, LoginFailure, User
from labelwise.errors import Conflict, InvalidInput, NotFound, RateLimited, Unauthorized
from labelwise.policies import Actor
from labelwise.services import audit

TOKEN_PREFIX = "lw_"
USERNAME = re.compile(r"^[A-Za-z0-9_.@-]{1,64}$")
MIN_PASSWORD = 8
_hasher = PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    """Verified against when the user does not exist, so both answers take the same time.

    Made on first use: hashing is slow on purpose, and most commands never log anyone in.
    """
    return _hasher.hash("labelwise-timing-equaliser")


def hash_secret(value: str) -> str:
    """Tokens are long and random: a fast hash is enough and keeps every request cheap."""
    return hashlib.sha256(value.encode()).hexdigest()


def usernames(connection: Connection) -> dict[int, str]:
    """Every user's name by id: exports and reports name people where rows hold user ids."""
    return {user_id: name for user_id, name in connection.execute(select(User.id, User.username))}


def actor_of(user: User) -> Actor:
    return Actor(user_id=user.id, username=user.username, is_admin=user.is_admin)


def create_user(db: Database, username: str, password: str, *, is_admin: bool = False) -> User:
    if not USERNAME.match(username):
        raise InvalidInput("username: use 1-64 letters, digits or . _ @ -")
    if len(password) < MIN_PASSWORD:
        raise InvalidInput(f"password: must be at least {MIN_PASSWORD} characters")
    password_hash = _hasher.hash(password)
    with db.write() as session:
        if session.scalar(select(User.id).where(User.username == username)) is not None:
            raise Conflict(f"user {username!r} already exists")
        user = User(username=username, password_hash=password_hash, is_admin=is_admin)
        session.add(user)
        session.flush()  # the event needs the user's id
        audit.record(
            session,
            project_id=None,
            actor_id=None,
            action="user.created",
            target_type="user",
            target_id=user.id,
            after={"username": username, "is_admin": is_admin},
        )
    return user


def set_password(db: Database, username: str, password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise InvalidInput(f"password: must be at least {MIN_PASSWORD} characters")
    password_hash = _hasher.hash(password)
    with db.write() as session:
        user = _user(session, username)
        user.password_hash = password_hash
        session.execute(delete(BrowserSession).where(BrowserSession.user_id == user.id))
    _token_cache.forget()


def list_users(db: Database) -> list[User]:
    with db.read() as session:
        return list(session.scalars(select(User).order_by(User.username)))


def _user(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound(f"no user named {username!r}")
    return user


@dataclass(frozen=True)
class LoginLimits:
    max_failures: int
    window: timedelta


def authenticate(
    db: Database, username: str, password: str, client: str, limits: LoginLimits
) -> User:
    """Check a password, refusing with one message whether or not the user exists."""
    keys = (f"user:{username.lower()}", f"addr:{client}")
    _check_rate(db, keys, limits)
    with db.read() as session:
        user = session.scalar(select(User).where(User.username == username))
    if user is None or not user.is_active:
        _verify(_dummy_hash(), password)
        ok = False
    else:
        ok = _verify(user.password_hash, password)
    if not ok or user is None:
        with db.write() as session:
            session.add_all(LoginFailure(key=key, at=now()) for key in keys)
        raise Unauthorized("invalid username or password")
    if _hasher.check_needs_rehash(user.password_hash):
        with db.write() as session:
            session.execute(
                update(User).where(User.id == user.id).values(password_hash=_hasher.hash(password))
            )
    return user


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _check_rate(db: Database, keys: tuple[str, str], limits: LoginLimits) -> None:
    since = now() - limits.window
    with db.read() as session:
        counts = dict(
            session.execute(
                select(LoginFailure.key, func.count())
                .where(LoginFailure.key.in_(keys), LoginFailure.at > since)
                .group_by(LoginFailure.key)
            ).all()
        )
    user_key, addr_key = keys
    if counts.get(user_key, 0) >= limits.max_failures or (
        counts.get(addr_key, 0) >= 4 * limits.max_failures
    ):
        minutes = int(limits.window.total_seconds() // 60)
        raise RateLimited(
            f"too many failed logins; try again in {minutes} minutes",
            retry_after_seconds=int(limits.window.total_seconds()),
        )


def create_session(db: Database, user: User, hours: int) -> str:
    token = secrets.token_urlsafe(32)
    with db.write() as session:
        session.execute(delete(BrowserSession).where(BrowserSession.expires_at < now()))
        session.add(
            BrowserSession(
                user_id=user.id,
                token_hash=hash_secret(token),
                expires_at=now() + timedelta(hours=hours),
            )
        )
    return token


def user_for_session(db: Database, token: str) -> User | None:
    with db.read() as session:
        return session.scalar(
            select(User)
            .join(BrowserSession, BrowserSession.user_id == User.id)
            .where(
                BrowserSession.token_hash == hash_secret(token),
                BrowserSession.expires_at > now(),
                User.is_active,
            )
        )


def end_session(db: Database, token: str) -> None:
    with db.write() as session:
        session.execute(
            delete(BrowserSession).where(BrowserSession.token_hash == hash_secret(token))
        )
    _token_cache.forget()


def create_token(db: Database, username: str, name: str) -> tuple[ApiToken, str]:
    """Return the token row and the secret, which is shown once and never stored."""
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with db.write() as session:
        user = _user(session, username)
        token = ApiToken(
            user_id=user.id, name=name, prefix=secret[:10], token_hash=hash_secret(secret)
        )
        session.add(token)
    return token, secret


def list_tokens(db: Database, username: str) -> list[ApiToken]:
    with db.read() as session:
        user = _user(session, username)
        return list(
            session.scalars(
                select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id)
            )
        )


def revoke_token(db: Database, username: str, token_id: int) -> None:
    with db.write() as session:
        user = _user(session, username)
        token = session.scalar(
            select(ApiToken).where(ApiToken.id == token_id, ApiToken.user_id == user.id)
        )
        if token is None:
            raise NotFound(f"user {username!r} has no token {token_id}")
        if token.revoked_at is None:
            token.revoked_at = now()
            audit.record(
                session,
                project_id=None,
                actor_id=None,
                action="token.revoked",
                target_type="token",
                target_id=token.id,
                after={"user": username, "name": token.name},
            )
    _token_cache.forget()


# Bearer tokens and session cookies are checked on every API request. A valid one's actor is
# kept for a few seconds: a revocation, logout or password change in this process empties the
# cache at once; one made by another
# process (the CLI, another server worker) takes effect there within TOKEN_CACHE_SECONDS.
TOKEN_CACHE_SECONDS = 5.0
_TOKEN_CACHE_MAX = 10_000
_USERS = cast(Table, User.__table__)
_TOKENS = cast(Table, ApiToken.__table__)
_SESSIONS = cast(Table, BrowserSession.__table__)
_ACTOR_FOR_TOKEN = (
    select(_USERS.c.id, _USERS.c.username, _USERS.c.is_admin)
    .join(_TOKENS, _TOKENS.c.user_id == _USERS.c.id)
    .where(
        _TOKENS.c.token_hash == bindparam("hash"),
        _TOKENS.c.revoked_at.is_(None),
        _USERS.c.is_active,
    )
)


class _TokenCache:
    """Actors of recently seen tokens, per database; `forget` wins over lookups in flight."""

    def __init__(self) -> None:
        # (database, "token" or "session", secret hash) -> (seen at, actor)
        self._actors: dict[tuple[str, str, str], tuple[float, Actor]] = {}
        self._generation = 0

    def get(self, key: tuple[str, str, str]) -> Actor | None:
        hit = self._actors.get(key)
        if hit is None or time.monotonic() - hit[0] >= TOKEN_CACHE_SECONDS:
            return None
        return hit[1]

    def put(self, key: tuple[str, str, str], actor: Actor, generation: int) -> None:
        if generation != self._generation:
            return  # a revocation happened while this lookup ran: it may be stale
        if len(self._actors) >= _TOKEN_CACHE_MAX:
            self._actors.clear()
        self._actors[key] = (time.monotonic(), actor)

    @property
    def generation(self) -> int:
        return self._generation

    def forget(self) -> None:
        self._generation += 1
        self._actors.clear()


_token_cache = _TokenCache()


def forget_cached_actors() -> None:
    """After tokens, sessions or accounts changed outside this module (an erasure)."""
    _token_cache.forget()


_ACTOR_FOR_SESSION = (
    select(_USERS.c.id, _USERS.c.username, _USERS.c.is_admin)
    .join(_SESSIONS, _SESSIONS.c.user_id == _USERS.c.id)
    .where(
        _SESSIONS.c.token_hash == bindparam("hash"),
        _SESSIONS.c.expires_at > bindparam("moment"),
        _USERS.c.is_active,
    )
)


def cached_actor(db: Database, secret: str) -> Actor | None:
    """The actor of a token looked up in the last TOKEN_CACHE_SECONDS, without a query."""
    return _token_cache.get((db.url, "token", hash_secret(secret)))


def actor_for_token(db: Database, secret: str) -> Actor | None:
    """The actor an API token stands for, or None if it is unknown, revoked or disabled."""
    return _actor_of(db, "token", hash_secret(secret), _ACTOR_FOR_TOKEN)


def cached_session_actor(db: Database, token: str) -> Actor | None:
    """`cached_actor` for a browser session's cookie."""
    return _token_cache.get((db.url, "session", hash_secret(token)))


def actor_for_session(db: Database, token: str) -> Actor | None:
    """The actor of a browser session, or None if it ended, ran out or its user is disabled."""
    return _actor_of(db, "session", hash_secret(token), _ACTOR_FOR_SESSION)


def _actor_of(db: Database, kind: str, secret_hash: str, query: Select[Any]) -> Actor | None:
    key = (db.url, kind, secret_hash)
    actor = _token_cache.get(key)
    if actor is not None:
        return actor
    generation = _token_cache.generation
    params = {"hash": secret_hash, "moment": now()}
    with db.engine.connect() as connection:
        row = connection.execute(query, params).first()
    if row is None:
        return None
    actor = Actor(user_id=row.id, username=row.username, is_admin=row.is_admin)
    _token_cache.put(key, actor, generation)
    return actor
    generation = _token_cache.generation
    with db.engine.connect() as connection:
        row = connection.execute(_ACTOR_FOR_TOKEN, {"hash": key[1]}).first()
    if row is None:
        return None
    actor = Actor(user_id=row.id, username=row.username, is_admin=row.is_admin)
    _token_cache.put(key, actor, generation)
    return actor
