"""The SDK's exceptions: one class per kind of refusal, each carrying the server's answer.

The server answers every error as `{"detail": "...", "errors": [...]}` (api/errors.py); an
exception keeps both, with the HTTP status, so a script can print it or branch on its class.
"""

from __future__ import annotations

from typing import Any

import httpx


class ClientError(Exception):
    """Base of every SDK error. `status` is the HTTP status, or None when the problem arose
    on this side (the server could not be reached, a value could not be sent)."""

    def __init__(self, detail: str, errors: list[str] | None = None, status: int | None = None):
        self.detail = detail
        self.errors = errors or [detail]
        self.status = status
        super().__init__(self._message())

    def _message(self) -> str:
        where = f"HTTP {self.status}: " if self.status is not None else ""
        more = [e for e in self.errors if e != self.detail]
        return where + "\n  ".join([self.detail, *more])


class Unauthorized(ClientError):
    """401: the token is missing, wrong or revoked."""


class Forbidden(ClientError):
    """403: the token's user may not do this in the project."""


class NotFound(ClientError):
    """404: no such project, release or assignment, or not one the caller can see."""


class Conflict(ClientError):
    """409: the request clashes with what is there (a release name taken, another answer to
    an assignment already submitted)."""


class Invalid(ClientError):
    """400 or 422 (or None, found before sending): bad input; `errors` lists each problem,
    naming the line, row or field."""


class TooLarge(ClientError):
    """413: the request body is over the server's LABELWISE_MAX_UPLOAD_BYTES."""


class RateLimited(ClientError):
    """429: too many attempts; `retry_after` is the seconds the server asks to wait."""

    def __init__(self, detail: str, errors: list[str] | None, status: int, retry_after: int):
        super().__init__(detail, errors, status)
        self.retry_after = retry_after


class ServerError(ClientError):
    """5xx, or any status the SDK does not expect."""


class ConnectionFailed(ClientError):
    """The server did not answer: wrong URL, not running, or the connection broke."""


_BY_STATUS: dict[int, type[ClientError]] = {
    400: Invalid,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    413: TooLarge,
    415: Invalid,
    422: Invalid,
}


def error_for(response: httpx.Response) -> ClientError:
    """The exception for an error answer (its body must have been read)."""
    detail, errors = _parts(response)
    status = response.status_code
    if status == 429:
        retry = response.headers.get("retry-after", "")
        return RateLimited(detail, errors, status, int(retry) if retry.isdigit() else 0)
    return _BY_STATUS.get(status, ServerError)(detail, errors, status)


def _parts(response: httpx.Response) -> tuple[str, list[str] | None]:
    """`detail` and `errors` from our JSON shape; the start of the text for anything else
    (a proxy's HTML page, say)."""
    try:
        body: Any = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("detail"), str):
        errors = body.get("errors")
        listed = [str(e) for e in errors] if isinstance(errors, list) else None
        return body["detail"], listed
    text = response.text.strip()[:200] or response.reason_phrase
    return f"{response.request.method} {response.request.url.path}: {text}", None
