"""The JSON error answers, one shape for every route: `detail`, and `errors` when several."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi.responses import JSONResponse

from labelwise.errors import LabelwiseError, RateLimited


def error_response(error: LabelwiseError) -> JSONResponse:
    body: dict[str, object] = {"detail": str(error)}
    errors = getattr(error, "errors", None)
    if errors and errors != [str(error)]:
        body["errors"] = errors
    headers = {}
    if isinstance(error, RateLimited):
        headers["retry-after"] = str(error.retry_after_seconds)
    if error.status_code == 401:
        headers["www-authenticate"] = "Bearer"
    return JSONResponse(body, status_code=error.status_code, headers=headers)


def validation_response(details: Sequence[Any]) -> JSONResponse:
    """Pydantic's errors, reworded as `where: what` lines."""
    errors = [
        f"{'.'.join(str(p) for p in e['loc'] if p != 'body') or 'body'}: {e['msg']}"
        for e in details
    ]
    return JSONResponse({"detail": "; ".join(errors), "errors": errors}, status_code=422)
