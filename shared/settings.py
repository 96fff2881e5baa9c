"""Settings every service shares. Each service subclasses with its own env prefix.

Required values (the database and NATS URLs) have no defaults: a service that is not told
where its data lives refuses to start instead of guessing. Outside local and test
environments the validator refuses missing or placeholder auth configuration.

A refused setting is reported in one line that names the environment variable and the rule
(:func:`describe_refusal`), never as a traceback: ``python -m <service>`` exits with
:data:`EXIT_BAD_SETTINGS`, which ``make run`` knows a restart cannot mend.
"""

from __future__ import annotations

from typing import Any, Literal, Self
from urllib.parse import urlsplit

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

Environment = Literal["local", "test", "staging", "production"]

_PLACEHOLDERS = {"", "changeme", "change-me", "secret", "placeholder"}
EXIT_BAD_SETTINGS = 78  # sysexits.h EX_CONFIG


class SettingRefused(ValueError):
    """A setting the service will not start with: which one (the field) and the rule."""

    def __init__(self, field: str, rule: str) -> None:
        super().__init__(f"{field}: {rule}")
        self.field = field
        self.rule = rule


def _check_url(value: str, schemes: tuple[str, ...], *, path: str = "") -> str:
    parts = urlsplit(value.strip())
    try:
        port = parts.port
    except ValueError:
        port = -1
    if parts.scheme not in schemes or not parts.hostname or port == -1 or (path and parts.path in ("", "/")):
        forms = " or ".join(f"{scheme}://host[:port]{path}" for scheme in schemes)
        raise ValueError(f"must be a URL of the form {forms}")
    return value.strip()


class ServiceSettings(BaseSettings):
    """Common knobs; subclasses set ``model_config = SettingsConfigDict(env_prefix=...)``."""

    model_config = SettingsConfigDict(extra="ignore", env_nested_delimiter="__")

    environment: Environment = "local"
    log_level: str = "INFO"
    gc_freeze_after_startup: bool | None = Field(
        default=None,
        description="Leave the objects alive after start-up out of every later garbage "
        "collection (gc.freeze); unset: everywhere but the test environment, whose processes "
        "start and stop many services.",
    )

    database_url: str = Field(description="postgresql+asyncpg:// URL of this service's database")
    db_pool_size: int = 10
    db_max_overflow: int = 20
    db_connect_timeout_seconds: float = Field(
        default=5.0,
        gt=0,
        description="A database that does not answer a new connection within this is out: the "
        "request gets a 503 instead of hanging (asyncpg waits 60 s by default).",
    )
    db_pool_timeout_seconds: float = Field(
        default=10.0, gt=0, description="Longest wait for a free pooled connection before a 503."
    )

    nats_url: str = Field(description="NATS server URL(s), comma separated")
    events_namespace: str = Field(
        default="",
        description="Prefix for subjects and stream names, so that several environments (or "
        "test runs) can share one NATS without seeing each other's events.",
    )
    stream_replicas: int = 1
    stream_duplicate_window_seconds: float = 120.0
    stream_max_age_days: int = 30

    outbox_retention_days: int = Field(
        default=30,
        description="Sent outbox rows are kept this long so any range can be re-published.",
    )
    inbox_retention_days: int = Field(
        default=37,
        description="Applied event ids are kept this long; longer than any producer's outbox "
        "retention, so that a re-published event is still recognised.",
    )
    relay_poll_interval_seconds: float = 1.0
    relay_batch_size: int = 500
    relay_batches_in_flight: int = Field(
        default=4,
        ge=1,
        description="Batches published and waiting for JetStream's acknowledgements at once.",
    )
    relay_publish_timeout_seconds: float = 5.0

    consumer_max_deliveries: int = Field(
        default=5, description="Failed deliveries before an event is parked as a dead letter."
    )
    consumer_batch_size: int = 100
    consumer_ack_wait_seconds: float = 30.0
    consumer_retry_base_seconds: float = 0.5
    gap_grace_seconds: float = Field(
        default=30.0,
        description="How long a missing sequence number may stay missing before it is reported "
        "(events of one type can arrive out of order for a moment).",
    )

    otlp_endpoint: str | None = Field(
        default=None,
        pattern=r"^https?://[^\s/]+(/\S*)?$",
        description="Base URL of an OpenTelemetry collector's OTLP/HTTP receiver (e.g. "
        "http://otel-collector:4318); traces go to <it>/v1/traces. Unset: tracing is off.",
    )
    trace_sample_ratio: float = Field(
        default=1.0,
        ge=0.0,
        le=1.0,
        description="Share of new traces recorded (a caller's sampling decision is followed).",
    )

    auth_jwks_url: str | None = None
    auth_jwks_json: str | None = Field(
        default=None, description="Inline JWKS (tests and air-gapped installs)."
    )
    auth_issuer: str = "sci-platform-gateway"
    auth_audience: str = "sci-platform"
    auth_leeway_seconds: int = 30

    @field_validator("database_url")
    @classmethod
    def _database_url_is_a_url(cls, value: str) -> str:
        return _check_url(value, ("postgresql+asyncpg",), path="/<database>")

    @field_validator("nats_url")
    @classmethod
    def _nats_urls_are_urls(cls, value: str) -> str:
        urls = [u.strip() for u in value.split(",") if u.strip()]
        if not urls:
            raise ValueError("must name at least one NATS server (nats://host:port)")
        for url in urls:
            _check_url(url, ("nats", "tls"))
        return ",".join(urls)

    @field_validator("auth_jwks_url")
    @classmethod
    def _jwks_url_is_a_url(cls, value: str | None) -> str | None:
        if value is None or value.strip().lower() in _PLACEHOLDERS:
            return value  # placeholders are judged with the environment below
        return _check_url(value, ("http", "https"))

    @field_validator("otlp_endpoint", mode="before")
    @classmethod
    def _empty_endpoint_is_none(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @model_validator(mode="after")
    def _refuse_unsafe_production_config(self) -> Self:
        if self.environment in ("staging", "production"):
            if not self.auth_jwks_url and not self.auth_jwks_json:
                raise SettingRefused("auth_jwks_url", "required outside local/test (or auth_jwks_json)")
            if self.auth_jwks_url and self.auth_jwks_url.strip().lower() in _PLACEHOLDERS:
                raise SettingRefused("auth_jwks_url", "is a placeholder")
        return self


def _settings_class(name: str) -> type[BaseSettings] | None:
    pending: list[type[BaseSettings]] = [ServiceSettings]
    while pending:
        cls = pending.pop()
        if cls.__name__ == name:
            return cls
        pending.extend(cls.__subclasses__())
    return None


def _variable(prefix: str, field: str) -> str:
    return f"{prefix}{field}".upper()


def describe_refusal(exc: BaseException, *, prefix: str = "") -> str:
    """One line per refused setting, naming its environment variable and the rule.

    Values are never repeated (they may be secrets)."""
    if isinstance(exc, SettingRefused):
        return f"{_variable(prefix, exc.field)}: {exc.rule}"
    if not isinstance(exc, ValidationError):
        return str(exc)
    cls = _settings_class(exc.title)
    if cls is not None:
        prefix = str(cls.model_config.get("env_prefix", prefix))
    lines = []
    for error in exc.errors(include_url=False, include_input=False):
        context: dict[str, Any] = error.get("ctx") or {}
        cause = context.get("error")
        if isinstance(cause, SettingRefused):
            lines.append(f"{_variable(prefix, cause.field)}: {cause.rule}")
            continue
        field = ".".join(str(p) for p in error.get("loc", ()))
        message = str(cause) if isinstance(cause, ValueError) else str(error.get("msg", "invalid"))
        if not field and cls is not None:
            # A model-level rule that starts with the field it concerns ("signing_key_pem is …").
            named = [f for f in cls.model_fields if message.startswith((f"{f} ", f"{f}:"))]
            if named:
                field = max(named, key=len)
                message = message[len(field) :].lstrip(": ")
        if error.get("type") == "missing":
            message = "required, not set"
        lines.append(f"{_variable(prefix, field)}: {message}" if field else message)
    return "; ".join(lines)
