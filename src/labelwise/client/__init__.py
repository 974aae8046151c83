"""The Python SDK: `Client(url, token)` over the REST API of a labelwise server.

It needs httpx and orjson only; pandas, polars, pyarrow and `datasets` are used when a call
hands one of their tables in or asks for one back. Nothing of the server (FastAPI,
SQLAlchemy) is imported.
"""

from labelwise.client._client import Client
from labelwise.client._errors import (
    ClientError,
    Conflict,
    ConnectionFailed,
    Forbidden,
    Invalid,
    NotFound,
    RateLimited,
    ServerError,
    TooLarge,
    Unauthorized,
)
from labelwise.client._models import (
    Agreement,
    Applied,
    Assignment,
    ImportResult,
    Item,
    Progress,
    Project,
    QualityReport,
    Release,
    Scorecard,
    SkippedRow,
    Submitted,
)

__all__ = [
    "Agreement",
    "Applied",
    "Assignment",
    "Client",
    "ClientError",
    "Conflict",
    "ConnectionFailed",
    "Forbidden",
    "ImportResult",
    "Invalid",
    "Item",
    "NotFound",
    "Progress",
    "Project",
    "QualityReport",
    "RateLimited",
    "Release",
    "Scorecard",
    "ServerError",
    "SkippedRow",
    "Submitted",
    "TooLarge",
    "Unauthorized",
]
