"""Settings from `MISSIONFLOW_*` environment variables.

Unset, everything points at the embedded development stack under `.missionflow/`; a production
deployment must name its Temporal cluster, its PostgreSQL database, its SMTP relay and a real
coordinator token, and is refused at start-up otherwise.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
import secrets
from collections.abc import Callable
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


@dataclass(frozen=True, slots=True)
class SealingKeys:
    """The keys that seal Temporal payloads, by id, and the id of the one that seals new ones."""

    current: str
    keys: dict[str, bytes]


SEALING_KEY_BYTES = 32
"""AES-256-GCM."""
GENERATED_KEY_ID = "local"
"""The id under which a key generated into `home` seals payloads."""
_KEY_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")


def decode_sealing_key(text: str) -> bytes:
    """A key written as 64 hexadecimal digits or as base64 (standard or URL-safe, padding
    optional), which must come to exactly 32 bytes.

    Raises:
        ValueError: it is neither, or not 32 bytes long; the message says which.
    """
    text = text.strip()
    if re.fullmatch(r"[0-9a-fA-F]{64}", text):
        return bytes.fromhex(text)
    if not re.fullmatch(r"[A-Za-z0-9+/_-]+={0,2}", text):
        raise ValueError("is neither base64 nor 64 hexadecimal digits")
    unpadded = text.rstrip("=").replace("-", "+").replace("_", "/")
    try:
        key = base64.b64decode(unpadded + "=" * (-len(unpadded) % 4), validate=True)
    except binascii.Error as error:
        raise ValueError(f"is not valid base64 ({error})") from None
    if len(key) != SEALING_KEY_BYTES:
        raise ValueError(f"is {len(key)} bytes; AES-256-GCM needs {SEALING_KEY_BYTES}")
    return key


def new_sealing_key() -> str:
    """A fresh random key, base64: what `home` keeps, and what the docs tell operators to make."""
    return base64.b64encode(os.urandom(SEALING_KEY_BYTES)).decode()


class Settings(BaseSettings):
    # Inputs never shown in an error: a refused key or password would land in a log.
    model_config = SettingsConfigDict(
        env_prefix="MISSIONFLOW_", extra="ignore", hide_input_in_errors=True
    )

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
    encryption_keys: dict[str, SecretStr] = Field(
        default_factory=dict,
        description="The keys that seal every Temporal payload (AES-256-GCM), as a JSON object "
        'of key id to 32 bytes in base64 or hex: `{"2025-06": "<base64>"}`. Keep an old id while '
        "any history sealed with it is kept; unset: one key generated into `home` (id `local`).",
    )
    encryption_key_id: str | None = Field(
        default=None,
        description="The id of the key that seals new payloads; unset: the only one configured.",
    )
    temporal_ui_url: AnyHttpUrl | None = Field(
        default=None,
        description="The Temporal UI as browsers reach it: its origin may call the codec "
        "endpoints /codec/*; unset: http://localhost:<temporal_ui_port> and 127.0.0.1.",
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
    session_hours: float = Field(
        default=12, gt=0, le=24 * 30, description="How long a person's sign-in lasts."
    )
    session_cookie_secure: bool | None = Field(
        default=None,
        description="Send the session cookie over HTTPS only; unset: yes in production or when "
        "`public_url` is https, so a development stack on http://localhost can sign in.",
    )
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

    @field_validator("encryption_key_id", mode="before")
    @classmethod
    def _empty_key_id_is_unset(cls, value: object) -> object:
        return None if value == "" else value  # `${MISSIONFLOW_ENCRYPTION_KEY_ID:-}` in compose

    @field_validator("encryption_keys")
    @classmethod
    def _keys_are_aes_256(cls, keys: dict[str, SecretStr]) -> dict[str, SecretStr]:
        for key_id, key in keys.items():
            if not _KEY_ID.fullmatch(key_id):
                raise ValueError(
                    f"MISSIONFLOW_ENCRYPTION_KEYS: the key id {key_id!r} must be 1 to 64 letters, "
                    "digits or . _ : -"
                )
            try:
                decode_sealing_key(key.get_secret_value())
            except ValueError as error:
                raise ValueError(
                    f"MISSIONFLOW_ENCRYPTION_KEYS: the key {key_id!r} {error}"
                ) from None
        return keys

    @model_validator(mode="after")
    def _current_key_is_known(self) -> Self:
        configured = sorted(self.encryption_keys)
        if self.encryption_key_id is not None and self.encryption_key_id not in configured:
            raise ValueError(
                f"MISSIONFLOW_ENCRYPTION_KEY_ID is {self.encryption_key_id!r}, which is not a key "
                f"of MISSIONFLOW_ENCRYPTION_KEYS ({', '.join(configured) or 'none is set'})"
            )
        if self.encryption_key_id is None and len(configured) > 1:
            raise ValueError(
                f"MISSIONFLOW_ENCRYPTION_KEYS holds {len(configured)} keys "
                f"({', '.join(configured)}): set MISSIONFLOW_ENCRYPTION_KEY_ID to the one that "
                "seals new payloads"
            )
        return self

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
                ("MISSIONFLOW_ENCRYPTION_KEYS", self.encryption_keys),
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
    def secure_cookies(self) -> bool:
        if self.session_cookie_secure is not None:
            return self.session_cookie_secure
        return self.environment == "production" or self.base_url.startswith("https://")

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

    def sealing_keys(self) -> SealingKeys:
        """The configured payload keys, or one generated once into `home` (id `local`), so
        that the embedded stack needs no configuration and a restart still opens every payload
        sealed before it.

        Raises:
            ValueError: the key kept in `home` was altered and is no longer a key.
        """
        if self.encryption_keys:
            keys = {
                key_id: decode_sealing_key(key.get_secret_value())
                for key_id, key in self.encryption_keys.items()
            }
            return SealingKeys(self.encryption_key_id or next(iter(keys)), keys)
        kept = self._kept_secret(None, "encryption_key", new=new_sealing_key)
        try:
            key = decode_sealing_key(kept)
        except ValueError as error:
            path = (self.home / "encryption_key").absolute()
            raise ValueError(f"the payload key kept in {path} {error}") from None
        return SealingKeys(GENERATED_KEY_ID, {GENERATED_KEY_ID: key})

    @property
    def temporal_ui_origins(self) -> list[str]:
        """The browser origins allowed to call the codec endpoints: the Temporal UI's."""
        if self.temporal_ui_url is not None:
            url = self.temporal_ui_url
            default = (url.scheme, url.port) in {("http", 80), ("https", 443)}
            port = "" if default or url.port is None else f":{url.port}"
            return [f"{url.scheme}://{url.host}{port}"]
        return [f"http://{host}:{self.temporal_ui_port}" for host in ("localhost", "127.0.0.1")]

    def _kept_secret(
        self,
        configured: SecretStr | None,
        name: str,
        *,
        new: Callable[[], str] = lambda: secrets.token_urlsafe(24),
    ) -> str:
        if configured is not None:
            return configured.get_secret_value()
        path = (self.home / name).absolute()
        if (kept := _KEPT.get(path)) is not None:
            return kept
        if path.exists():
            value = path.read_text().strip()
        else:
            self.home.mkdir(parents=True, exist_ok=True)
            value = new()
            path.touch(mode=0o600)
            path.write_text(value + "\n")
        _KEPT[path] = value
        return value


_KEPT: dict[Path, str] = {}
"""Secrets read from (or written to) `home`, by path: every private link in an email and every
token check needs the key, and reading the file each time was a measurable share of intake."""
