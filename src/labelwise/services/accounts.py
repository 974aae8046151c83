"""Users, API tokens, browser sessions and login rate limiting."""

from __future__ import annotations

import functools
import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

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


def now() -> datetime:
    return datetime.now(UTC)


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


def user_for_token(db: Database, secret: str) -> User | None:
    with db.read() as session:
        return session.scalar(
            select(User)
            .join(ApiToken, ApiToken.user_id == User.id)
            .where(
                ApiToken.token_hash == hash_secret(secret),
                ApiToken.revoked_at.is_(None),
                User.is_active,
            )
        )
