"""Accounts: Argon2 passwords, hashed revocable tokens, login with cookies, CSRF, rate limits."""

from __future__ import annotations

import re

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from labelwise import clock
from labelwise.db.engine import Database
from labelwise.db.models import ApiToken, User
from labelwise.errors import Conflict, InvalidInput
from labelwise.services import accounts
from tests.conftest import bearer, make_token


def _login_page_token(client: TestClient) -> str:
    page = client.get("/login")
    assert page.status_code == 200
    match = re.search(r'name="csrf_token" value="([0-9a-f]+)"', page.text)
    assert match
    return match.group(1)


def _login(client: TestClient, username: str, password: str) -> httpx.Response:
    token = _login_page_token(client)
    return client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": token},
        follow_redirects=False,
    )


def test_passwords_are_stored_as_argon2_hashes(db: Database) -> None:
    accounts.create_user(db, "ana", "correct horse battery")
    with db.read() as session:
        stored = session.scalar(select(User.password_hash).where(User.username == "ana"))
    assert stored is not None and stored.startswith("$argon2id$")
    assert "correct horse" not in stored


def test_user_input_is_checked(db: Database) -> None:
    with pytest.raises(InvalidInput, match="at least 8"):
        accounts.create_user(db, "ana", "short")
    with pytest.raises(InvalidInput, match="username"):
        accounts.create_user(db, "ana smith", "long enough password")
    accounts.create_user(db, "ana", "long enough password")
    with pytest.raises(Conflict, match="already exists"):
        accounts.create_user(db, "ana", "another password")


def test_tokens_are_stored_hashed_and_can_be_revoked(client: TestClient, db: Database) -> None:
    secret = make_token(db, "ana")
    with db.read() as session:
        stored = session.scalars(select(ApiToken.token_hash)).all()
    assert secret not in stored and len(stored) == 1
    assert client.get("/api/v1/projects", headers=bearer(secret)).status_code == 200
    token_id = accounts.list_tokens(db, "ana")[0].id
    accounts.revoke_token(db, "ana", token_id)
    answer = client.get("/api/v1/projects", headers=bearer(secret))
    assert answer.status_code == 401
    assert "revoked" in answer.json()["detail"]


def test_a_revocation_elsewhere_takes_effect_within_the_cache_time(
    client: TestClient, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = make_token(db, "ana")
    assert client.get("/api/v1/projects", headers=bearer(secret)).status_code == 200
    with db.write() as session:  # as the CLI in another process would
        session.execute(update(ApiToken).values(revoked_at=clock.now()))
    assert client.get("/api/v1/projects", headers=bearer(secret)).status_code == 200
    monkeypatch.setattr(accounts, "TOKEN_CACHE_SECONDS", 0.0)  # the cache time has passed
    assert client.get("/api/v1/projects", headers=bearer(secret)).status_code == 401


def test_no_credentials_is_401(client: TestClient) -> None:
    answer = client.get("/api/v1/projects")
    assert answer.status_code == 401
    assert answer.headers["www-authenticate"] == "Bearer"


def test_login_sets_a_safe_session_cookie_and_logout_ends_it(
    client: TestClient, db: Database
) -> None:
    accounts.create_user(db, "ana", "correct horse battery")
    answer = _login(client, "ana", "correct horse battery")
    assert answer.status_code == 303 and answer.headers["location"] == "/projects"
    cookie = next(
        c for c in answer.headers.get_list("set-cookie") if c.startswith("labelwise_session=")
    )
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie
    page = client.get("/projects")
    assert page.status_code == 200 and "ana" in page.text
    csrf = re.search(r'name="csrf_token" value="([0-9a-f]+)"', page.text)
    assert csrf
    client.post("/logout", data={"csrf_token": csrf.group(1)}, follow_redirects=False)
    assert client.get("/projects", follow_redirects=False).status_code == 303
    assert client.get("/api/v1/projects").status_code == 401


def test_login_without_csrf_token_is_refused(client: TestClient, db: Database) -> None:
    accounts.create_user(db, "ana", "correct horse battery")
    client.get("/login")
    answer = client.post(
        "/login",
        data={"username": "ana", "password": "correct horse battery", "csrf_token": "forged"},
    )
    assert answer.status_code == 403
    assert "labelwise_session" not in client.cookies


def test_browser_api_writes_need_the_csrf_header(client: TestClient, db: Database) -> None:
    accounts.create_user(db, "ana", "correct horse battery", is_admin=True)
    _login(client, "ana", "correct horse battery")
    spec = {
        "name": "P",
        "slug": "p",
        "fields": [{"name": "text", "type": "text"}],
        "questions": [{"name": "q", "type": "single_label", "labels": ["a", "b"]}],
    }
    refused = client.post("/api/v1/projects", json=spec)
    assert refused.status_code == 403 and "CSRF" in refused.json()["detail"]
    token = _login_page_token_from(client.get("/projects").text)
    accepted = client.post("/api/v1/projects", json=spec, headers={"X-CSRF-Token": token})
    assert accepted.status_code == 201
    cross_site = client.post(
        "/api/v1/projects",
        json=spec,
        headers={"X-CSRF-Token": token, "Origin": "https://evil.example"},
    )
    assert cross_site.status_code == 403


def _login_page_token_from(html: str) -> str:
    match = re.search(r'name="csrf-token" content="([0-9a-f]+)"', html)
    assert match
    return match.group(1)


def test_failed_logins_look_the_same_and_are_rate_limited(client: TestClient, db: Database) -> None:
    accounts.create_user(db, "ana", "correct horse battery")
    wrong_password = _login(client, "ana", "wrong password")
    no_such_user = _login(client, "nobody", "wrong password")
    assert wrong_password.status_code == no_such_user.status_code == 401
    assert "invalid username or password" in wrong_password.text
    assert "invalid username or password" in no_such_user.text
    for _ in range(2):  # the second and third failure for "ana" (the limit is 3 in tests)
        assert _login(client, "ana", "wrong again").status_code == 401
    limited = _login(client, "ana", "correct horse battery")
    assert limited.status_code == 429
    assert "too many failed logins" in limited.text
    assert int(limited.headers["retry-after"]) > 0


def test_login_redirect_stays_on_this_site(client: TestClient, db: Database) -> None:
    accounts.create_user(db, "ana", "correct horse battery")
    token = _login_page_token(client)
    answer = client.post(
        "/login",
        data={
            "username": "ana",
            "password": "correct horse battery",
            "csrf_token": token,
            "next": "//evil.example/",
        },
        follow_redirects=False,
    )
    assert answer.headers["location"] == "/projects"


def test_pages_carry_security_headers(client: TestClient) -> None:
    headers = client.get("/login").headers
    assert "script-src 'self'" in headers["content-security-policy"]
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "same-origin"
