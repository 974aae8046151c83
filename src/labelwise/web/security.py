"""Browser-facing protections: security headers, CSRF tokens, session cookies."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from labelwise.errors import Forbidden

SESSION_COOKIE = "labelwise_session"
CSRF_COOKIE = "labelwise_csrf"
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

# Images may come from item data by http(s) URL (often an internal server); an image cannot
# run script, while scripts and styles come from this server only.
HEADERS = [
    (
        b"content-security-policy",
        b"default-src 'self'; script-src 'self'; style-src 'self'; "
        b"img-src 'self' data: http: https:; object-src 'none'; base-uri 'none'; "
        b"form-action 'self'; frame-ancestors 'none'",
    ),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
    (b"cross-origin-opener-policy", b"same-origin"),
]


class SecurityHeaders:
    """Adds the security headers to every HTTP response (pure ASGI: no body buffering)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = list(message["headers"]) + HEADERS
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _sign(request: Request, nonce: str) -> str:
    key: str = request.app.state.secret_key
    return hmac.new(key.encode(), nonce.encode(), hashlib.sha256).hexdigest()


def csrf_token(request: Request) -> str:
    """The token for this page's forms and scripts: the cookie's nonce, signed.

    Signing (with the data directory's secret key) means a cookie planted by a sibling
    site is useless without the matching token, which only this server can make.
    """
    nonce = request.cookies.get(CSRF_COOKIE)
    if not nonce:
        nonce = request.state.__dict__.setdefault("new_csrf", secrets.token_urlsafe(32))
    return _sign(request, nonce)


def set_cookies(request: Request, response: Response, secure: bool) -> None:
    new = request.state.__dict__.get("new_csrf")
    if new:
        response.set_cookie(
            CSRF_COOKIE, new, httponly=True, samesite="strict", secure=secure, path="/"
        )


def check_csrf(request: Request, submitted: str | None) -> None:
    """Signed double-submit check plus Origin check, for state-changing browser requests."""
    if request.method in SAFE_METHODS:
        return
    nonce = request.cookies.get(CSRF_COOKIE, "")
    submitted = submitted or request.headers.get(CSRF_HEADER, "")
    if not nonce or not hmac.compare_digest(_sign(request, nonce), submitted):
        raise Forbidden("missing or wrong CSRF token; reload the page and try again")
    origin = request.headers.get("origin")
    if origin and origin != f"{request.url.scheme}://{request.url.netloc}":
        raise Forbidden("cross-site request refused")


def set_session_cookie(response: Response, token: str, max_age: int, secure: bool) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=max_age,
        httponly=True,
        samesite="lax",
        secure=secure,
        path="/",
    )
