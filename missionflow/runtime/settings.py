"""Settings from `MISSIONFLOW_*` environment variables.

Unset, everything points at the embedded development stack under `.missionflow/`; a production
deployment must name its Temporal cluster, its PostgreSQL database, its SMTP relay and a real
coordinator token, and is refused at start-up otherwise.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Self

from pydantic import AnyHttpUrl, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_TASK_QUEUE = "missionflow"


@dataclass(frozen=True, slots=True)
class PoolOptions:
    size: int
    max_overflow: int
    timeout: float


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MISSIONFLOW_", extra="ignore")

    environment: Literal["development", "production"] = "development"
    home: Path = Field(
        default=Path(".missionflow"),
        description="Where the embedded stack keeps its files: databases, token, logs.",
    )
    temporal_address: str | None = Field(
        default=None, description="host:port of a Temporal cluster; unset: the embedded dev server."
    )
    temporal_namespace: str = "default"
    temporal_tls: bool = False
    temporal_api_key: SecretStr | None = Field(default=None, description="Temporal Cloud API key.")
    task_queue: str = DEFAULT_TASK_QUEUE
    temporal_port: int = 7233
    temporal_ui_port: int = 8233
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; unset: a SQLite file under `home`."
    )
    database_pool_size: int | None = Field(
        default=None, ge=1, description="Connections a process keeps; unset: 5 (SQLite), 10."
    )
    database_max_overflow: int | None = Field(
        default=None, ge=0, description="Connections opened beyond those under load; unset: 10."
    )
    database_pool_timeout: float = Field(
        default=5.0,
        gt=0,
        description="Seconds a request waits for a free connection before it answers 503.",
    )
    smtp_host: str | None = Field(
        default=None, description="SMTP relay; unset: the local sink shown at /dev/mailbox."
    )
    smtp_port: int = 1025
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = False
    mail_from: str = "missionflow <missions@localhost>"
    api_token: SecretStr | None = Field(default=None, description="The coordinators' bearer token.")
    secret_key: SecretStr | None = Field(
        default=None, description="Signs applicants' private links; unset: generated into `home`."
    )
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    public_url: AnyHttpUrl | None = Field(
        default=None,
        description="Base URL in links sent to people; unset: http://localhost:<port>.",
    )
    log_format: Literal["text", "json"] = Field(
        default="text",
        description="`json`: one JSON object per log line, with the mission and workflow ids.",
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    metrics_port: int | None = Field(
        default=None,
        ge=1,
        le=65535,
        description="A worker's Prometheus port for Temporal's SDK metrics; unset: none. "
        "`missionflow dev` gives it to the workflows' worker, the next port to the activities'.",
    )
    metrics_host: str = Field(
        default="127.0.0.1", description="The interface a worker's metrics port listens on."
    )
    metrics_token: SecretStr | None = Field(
        default=None,
        description="When set, the API's /metrics asks for `Authorization: Bearer <it>`.",
    )

    @field_validator("log_level", mode="before")
    @classmethod
    def _level_in_capitals(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @model_validator(mode="after")
    def _safe_outside_development(self) -> Self:
        if self.environment != "production":
            return self
        missing = [
            name
            for name, value in (
                ("MISSIONFLOW_TEMPORAL_ADDRESS", self.temporal_address),
                ("MISSIONFLOW_DATABASE_URL", self.database_url),
                ("MISSIONFLOW_SMTP_HOST", self.smtp_host),
                ("MISSIONFLOW_API_TOKEN", self.api_token),
                ("MISSIONFLOW_SECRET_KEY", self.secret_key),
                ("MISSIONFLOW_PUBLIC_URL", self.public_url),
            )
            if not value
        ]
        if missing:
            raise ValueError(f"production needs {', '.join(missing)} to be set")
        token = self.api_token.get_secret_value() if self.api_token else ""
        if len(token) < 16 or token.lower() in {"changethis", "changeme", "secret", "token"}:
            raise ValueError("MISSIONFLOW_API_TOKEN must be a real secret of 16 characters or more")
        return self

    @property
    def temporal_target(self) -> str:
        return self.temporal_address or f"127.0.0.1:{self.temporal_port}"

    def database_pool(self) -> PoolOptions:
        """The connection pool's sizes for `database`: a SQLite file takes one writer at a
        time whatever the pool, so it needs fewer connections than PostgreSQL."""
        sqlite = self.database.startswith("sqlite")
        return PoolOptions(
            size=self.database_pool_size or (5 if sqlite else 10),
            max_overflow=10 if self.database_max_overflow is None else self.database_max_overflow,
            timeout=self.database_pool_timeout,
        )

    @property
    def database(self) -> str:
        return self.database_url or f"sqlite:///{(self.home / 'missionflow.db').resolve()}"

    @property
    def base_url(self) -> str:
        return str(self.public_url or f"http://localhost:{self.api_port}").rstrip("/")

    def coordinator_token(self) -> str:
        """The configured token, else one generated once and kept in `home` for the next start."""
        return self._kept_secret(self.api_token, "api_token")

    def link_secret(self) -> str:
        """The key that signs private links, configured or generated once into `home`."""
        return self._kept_secret(self.secret_key, "secret_key")

    def _kept_secret(self, configured: SecretStr | None, name: str) -> str:
        if configured is not None:
            return configured.get_secret_value()
        path = (self.home / name).absolute()
        if (kept := _KEPT.get(path)) is not None:
            return kept
        if path.exists():
            value = path.read_text().strip()
        else:
            self.home.mkdir(parents=True, exist_ok=True)
            value = secrets.token_urlsafe(24)
            path.touch(mode=0o600)
            path.write_text(value + "\n")
        _KEPT[path] = value
        return value


_KEPT: dict[Path, str] = {}
"""Secrets read from (or written to) `home`, by path: every private link in an email and every
token check needs the key, and reading the file each time was a measurable share of intake."""
