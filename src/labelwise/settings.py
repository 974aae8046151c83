"""The one typed settings object: every knob is a `LABELWISE_*` environment variable."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

SECRET_KEY_FILE = "secret_key"


class Settings(BaseSettings):
    """Built once by the CLI or `create_app()` and passed down; nothing reads the env later."""

    model_config = SettingsConfigDict(env_prefix="LABELWISE_", extra="ignore")

    data_dir: Path = Field(
        default=Path("labelwise-data"),
        description="Holds the SQLite database, the secret key and uploaded files.",
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
    port: int = Field(default=8000, description="Port `serve` and `demo` listen on.")
    max_upload_bytes: int = Field(
        default=256 * 1024 * 1024,
        description="Largest request body accepted by the item import endpoint (413 above).",
    )
    session_hours: int = Field(default=12, description="How long a browser login lasts.")
    secure_cookies: bool = Field(
        default=False,
        description="Mark cookies Secure; turn on when serving over HTTPS.",
    )
    login_max_failures: int = Field(
        default=5,
        description="Failed logins per username (or 4x this per client address) "
        "within login_window_minutes before logins are refused.",
    )
    login_window_minutes: int = Field(default=15, description="Window for counting failed logins.")

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'labelwise.db').resolve()}"

    @property
    def is_sqlite(self) -> bool:
        return self.resolved_database_url.startswith("sqlite")

    def ensure_data_dir(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)

    def load_secret_key(self) -> str:
        """The configured key, else the one stored in the data dir, created on first use."""
        if self.secret_key:
            return self.secret_key
        self.ensure_data_dir()
        path = self.data_dir / SECRET_KEY_FILE
        try:
            return path.read_text().strip()
        except FileNotFoundError:
            pass
        key = secrets.token_urlsafe(48)
        # O_EXCL: two processes starting at once must agree on one key.
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return path.read_text().strip()
        with os.fdopen(fd, "w") as handle:
            handle.write(key)
        return key
