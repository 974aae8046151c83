"""Domain errors. The HTTP layer maps each to one status code; the CLI prints the message."""

from __future__ import annotations


class LabelwiseError(Exception):
    """Base: `str(error)` is a sentence a person can act on."""

    status_code = 400


class NotFound(LabelwiseError):
    status_code = 404


class Forbidden(LabelwiseError):
    status_code = 403


class Unauthorized(LabelwiseError):
    status_code = 401


class Conflict(LabelwiseError):
    status_code = 409


class InvalidInput(LabelwiseError):
    """Bad input; `errors` lists every problem found when there are several."""

    status_code = 422

    def __init__(self, message: str, errors: list[str] | None = None) -> None:
        super().__init__(message)
        self.errors = errors or [message]


class UnsupportedMediaType(LabelwiseError):
    status_code = 415


class TooLarge(LabelwiseError):
    status_code = 413


class Damaged(LabelwiseError):
    """Stored data that was altered in the database and no longer reads as it was written."""

    status_code = 500


class RateLimited(LabelwiseError):
    status_code = 429

    def __init__(self, message: str, retry_after_seconds: int) -> None:
        super().__init__(message)
        self.retry_after_seconds = retry_after_seconds
