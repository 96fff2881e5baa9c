"""Settings every service shares. Each service subclasses with its own env prefix.

Required values (the database and NATS URLs) have no defaults: a service that is not told
where its data lives refuses to start instead of guessing. Outside local and test
environments the validator refuses missing or placeholder auth configuration.
"""

from __future__ import annotations

from typing import Literal, Self

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

Environment = Literal["local", "test", "staging", "production"]

_PLACEHOLDERS = {"", "changeme", "change-me", "secret", "placeholder"}


class ServiceSettings(BaseSettings):
    """Common knobs; subclasses set ``model_config = SettingsConfigDict(env_prefix=...)``."""

    model_config = SettingsConfigDict(extra="ignore", env_nested_delimiter="__")

    environment: Environment = "local"
    log_level: str = "INFO"

    database_url: str = Field(description="postgresql+asyncpg:// URL of this service's database")
    db_pool_size: int = 10
    db_max_overflow: int = 20

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

    @field_validator("otlp_endpoint", mode="before")
    @classmethod
    def _empty_endpoint_is_none(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @model_validator(mode="after")
    def _refuse_unsafe_production_config(self) -> Self:
        if self.environment in ("staging", "production"):
            if not self.auth_jwks_url and not self.auth_jwks_json:
                raise ValueError("auth_jwks_url (or auth_jwks_json) is required outside local/test")
            if self.auth_jwks_url and self.auth_jwks_url.strip().lower() in _PLACEHOLDERS:
                raise ValueError("auth_jwks_url is a placeholder")
        return self
