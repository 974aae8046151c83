"""The one typed settings object: every knob is a `LABELWISE_*` environment variable."""

from __future__ import annotations

import os
import re
import secrets
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pydantic import Field, ValidationError, field_validator
from pydantic_core import ErrorDetails
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from labelwise.errors import InvalidInput

SECRET_KEY_FILE = "secret_key"
MODEL_TIMEOUT_SECONDS = 30
PII_KEY_FILE = "pii_key"
ENV_PREFIX = "LABELWISE_"
# The databases labelwise runs on, as SQLAlchemy names their drivers.
DRIVERS = ("sqlite", "sqlite+pysqlite", "postgresql", "postgres", "postgresql+psycopg")


@dataclass(frozen=True)
class ModelLimits:
    """What the admin allows a model backend, in one value a background process can be given
    (the defaults are the settings')."""

    timeout: float = MODEL_TIMEOUT_SECONDS
    allow_private: bool = False


class Settings(BaseSettings):
    """Built once by the CLI or `create_app()` and passed down; nothing reads the env later."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore")

    data_dir: Path = Field(
        default=Path("labelwise-data"),
        description="Holds the SQLite database, the secret key, the PII key and uploaded files.",
    )
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL, e.g. postgresql+psycopg://user@host/db. "
        "Unset: SQLite at DATA_DIR/labelwise.db.",
    )
    secret_key: str | None = Field(
        default=None,
        description="Signs CSRF tokens. Unset: generated on first start into "
        "DATA_DIR/secret_key (mode 0600).",
    )
    host: str = Field(default="127.0.0.1", description="Address `serve` and `demo` listen on.")
    port: int = Field(
        default=8000, ge=1, le=65535, description="Port `serve` and `demo` listen on."
    )
    max_upload_bytes: int = Field(
        default=256 * 1024 * 1024,
        ge=1,
        description="Largest request body accepted by the item import endpoint (413 above).",
    )
    max_image_bytes: int = Field(
        default=32 * 1024 * 1024,
        ge=1,
        description="Largest image file a folder import takes; a larger one is refused by name.",
    )
    allow_private_urls: bool = Field(
        default=False,
        description="Let a model backend URL name a private, loopback or link-local address "
        "(a model server on this machine or the local network).",
    )
    model_timeout_seconds: int = Field(
        default=MODEL_TIMEOUT_SECONDS,
        ge=1,
        description="How long a model backend has to answer one batch.",
    )
    session_hours: int = Field(default=12, ge=1, description="How long a browser login lasts.")
    secure_cookies: bool = Field(
        default=False,
        description="Mark cookies Secure; turn on when serving over HTTPS.",
    )
    login_max_failures: int = Field(
        default=5,
        ge=1,
        description="Failed logins per username (or 4x this per client address) "
        "within login_window_minutes before logins are refused.",
    )
    login_window_minutes: int = Field(
        default=15, ge=1, description="Window for counting failed logins."
    )
    auto_checks_seconds: int = Field(
        default=10,
        ge=0,
        description="How often a server's background process looks for new work: pre-labels "
        "new items (`workflow.model_backend`), runs the project's checks and retrains the "
        "model of `workflow.order: uncertainty` "
        "(0: never; `labelwise checks run` still runs the checks).",
    )

    @field_validator("database_url")
    @classmethod
    def _supported_database(cls, url: str | None) -> str | None:
        """A URL SQLAlchemy cannot read, or of another database, fails here, not deep in a
        command."""
        if not url:
            return url
        try:
            driver = make_url(url).drivername
        except ArgumentError:
            raise ValueError(
                "expected a database URL, e.g. postgresql+psycopg://user@host/db"
            ) from None
        if driver not in DRIVERS:
            raise ValueError(f"expected a sqlite:// or postgresql:// URL, not {driver}://")
        return url

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'labelwise.db').resolve()}"

    @property
    def is_sqlite(self) -> bool:
        return self.resolved_database_url.startswith("sqlite")

    def ensure_data_dir(self) -> None:
        try:
            self.data_dir.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            reason = "it is a file" if isinstance(error, FileExistsError) else error.strerror
            raise InvalidInput(
                f"data directory {self.data_dir} (LABELWISE_DATA_DIR or --data-dir): "
                f"cannot create it: {reason}"
            ) from None

    @property
    def model_limits(self) -> ModelLimits:
        return ModelLimits(self.model_timeout_seconds, self.allow_private_urls)

    def load_secret_key(self) -> str:
        """The configured key, else the one stored in the data dir, created on first use."""
        if self.secret_key:
            return self.secret_key
        return self._key_file(SECRET_KEY_FILE, lambda: secrets.token_urlsafe(48))

    def load_pii_key(self) -> bytes:
        """The data dir's key for PII pseudonyms, created on first use: each project's key is
        derived from it (`labelwise.privacy`), so a value gives the same token in a project."""
        return bytes.fromhex(self._key_file(PII_KEY_FILE, lambda: secrets.token_hex(32)))

    def _key_file(self, name: str, make: Callable[[], str]) -> str:
        """The key in DATA_DIR/`name`, written there first (mode 0600) if it is not yet."""
        self.ensure_data_dir()
        path = self.data_dir / name
        try:
            return path.read_text().strip()
        except FileNotFoundError:
            pass
        # Written whole under another name, then linked into place: two processes starting at
        # once agree on one key, and neither can read a file the other has not written yet.
        fd, draft = tempfile.mkstemp(dir=self.data_dir, prefix=f".{name}.")  # mode 0600
        try:
            with os.fdopen(fd, "w") as handle:
                handle.write(make())
            os.link(draft, path)
        except FileExistsError:
            pass
        finally:
            os.unlink(draft)
        return path.read_text().strip()


def from_env() -> Settings:
    """Settings from the LABELWISE_* variables; a bad value is InvalidInput, a line per
    variable naming it, its value and what was expected."""
    try:
        return Settings()
    except ValidationError as error:
        problems = [_problem(detail) for detail in error.errors()]
        raise InvalidInput(problems[0], problems) from None


def _problem(detail: ErrorDetails) -> str:
    name = str(detail["loc"][0]) if detail["loc"] else ""
    return f"{ENV_PREFIX}{name.upper()}={_shown(detail['input'])}: {_expected(detail)}"


def _expected(detail: ErrorDetails) -> str:
    """Pydantic's reason, in the words of someone setting an environment variable."""
    context = detail.get("ctx", {})
    kind = detail["type"]
    if kind in ("int_parsing", "int_from_float"):
        return "expected a whole number"
    if kind == "bool_parsing":
        return "expected true or false (also 1/0, yes/no, on/off)"
    if kind == "greater_than_equal":
        return f"expected a whole number of at least {context['ge']}"
    if kind == "less_than_equal":
        return f"expected a whole number of at most {context['le']}"
    if kind == "value_error":  # our own validators say what they expected
        return str(context["error"])
    return str(detail["msg"])


def _shown(value: object) -> str:
    """The value as set, but a password in a URL masked."""
    if isinstance(value, str):
        value = re.sub(r"(://[^:/@]*:)[^@/]*@", r"\1***@", value)
    return repr(value)
