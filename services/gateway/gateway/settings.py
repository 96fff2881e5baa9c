from __future__ import annotations

from typing import Self

from pydantic import Field, model_validator
from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class GatewaySettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="GATEWAY_", extra="ignore", env_nested_delimiter="__")

    registry_url: str = Field(description="base URL of the registry service")
    projects_url: str = Field(description="base URL of the projects service")
    evaluation_url: str = Field(description="base URL of the evaluation service")
    upstream_connect_timeout_seconds: float = 2.0
    upstream_read_timeout_seconds: float = 30.0
    upstream_max_connections: int = 200
    openapi_cache_seconds: float = 60.0
    signing_key_pem: str | None = Field(
        default=None,
        description="Ed25519 private key (PEM) that signs access tokens; required outside "
        "local/test, where an ephemeral key is generated at start.",
    )
    access_token_ttl_seconds: int = 900

    @model_validator(mode="after")
    def _signing_key_required_in_production(self) -> Self:
        if self.environment in ("staging", "production") and not self.signing_key_pem:
            raise ValueError("signing_key_pem is required outside local/test")
        return self

    def upstreams(self) -> dict[str, str]:
        return {
            "registry": self.registry_url.rstrip("/"),
            "projects": self.projects_url.rstrip("/"),
            "evaluation": self.evaluation_url.rstrip("/"),
        }
