from __future__ import annotations

from typing import Self

from pydantic import Field, model_validator
from pydantic_settings import SettingsConfigDict

from gateway.accounts.passwords import PasswordPolicy
from shared.settings import ServiceSettings, SettingRefused


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
    previous_signing_keys_pem: list[str] = Field(
        default_factory=list,
        description="Earlier Ed25519 keys (PEM), still published in the JWKS so that tokens they "
        "signed keep verifying until they expire; drop one after access_token_ttl_seconds.",
    )
    access_token_ttl_seconds: int = 900
    refresh_token_ttl_seconds: int = Field(default=8 * 3600, description="idle lifetime of a refresh token")
    session_max_seconds: int = Field(default=24 * 3600, description="absolute lifetime of a sign-in")
    refresh_grace_seconds: int = Field(
        default=10,
        description="a refresh token presented again this soon after its rotation gets the same "
        "new pair (two tabs, a retry); later, reuse revokes the whole sign-in",
    )

    password_min_length: int = 10
    password_min_classes: int = Field(default=3, description="of lower, upper, digit, symbol")
    password_hash_time_cost: int = 3
    password_hash_memory_kib: int = 65536
    password_hash_parallelism: int = 4
    lockout_threshold: int = Field(default=5, description="consecutive failures before a lockout")
    lockout_base_seconds: int = Field(default=60, description="first lockout; doubles each further failure")
    lockout_max_seconds: int = 3600
    sign_in_limit_per_ip: int = Field(
        default=20000,
        description="single-sign-on starts per IP per window: a flood cap, far above a deadline day "
        "at a university whose thousands of people share one NAT address (password sign-ins from "
        "an address are limited by their failures only)",
    )
    sign_in_failures_per_ip: int = Field(
        default=300, description="failed sign-ins per IP per window (password spraying across accounts)"
    )
    sign_in_limit_per_account: int = Field(default=10, description="per submitted identifier per window")
    sign_in_window_seconds: int = 300
    registration_limit_per_ip: int = Field(default=2000, description="registrations per IP per window")
    registration_limit_per_identifier: int = Field(
        default=3, description="registrations per e-mail, phone or user name per registration window"
    )
    registration_window_seconds: int = 3600

    max_body_bytes: int = Field(default=20 * 1024 * 1024, description="requests above are refused (413)")
    cors_origins: list[str] = Field(default_factory=list, description="SPA origins allowed by CORS")
    bootstrap_admin_username: str | None = Field(
        default=None, description="creates this administrator at start if no administrator exists"
    )
    bootstrap_admin_password: str | None = None

    background_work: bool = Field(
        default=True,
        description="consume events (open data, webhooks) and send webhook deliveries in this "
        "replica; an operator may run API-only replicas next to a few that do this work",
    )
    oidc_issuer: str | None = Field(default=None, description="the regional platform's OpenID issuer URL")
    oidc_client_id: str | None = None
    oidc_client_secret: str | None = None
    oidc_redirect_uri: str | None = Field(default=None, description="the SPA page the provider returns to")
    oidc_scopes: str = "openid profile email phone"
    oidc_unit_claim: str = Field(
        default="unit_credit_code",
        description="the ID-token claim in which the platform sends the person's unit's unified "
        "social credit code; an account first created by sign-on belongs to that unit",
    )
    partner_audience: str = Field(
        default="sci-platform-partners",
        description="audience of partner (client-credentials) tokens: never accepted by the services",
    )
    partner_token_ttl_seconds: int = 600
    webhook_secret_key: str | None = Field(
        default=None,
        description="Fernet key that encrypts webhook signing secrets at rest; required outside "
        "local/test (generated at start there).",
    )
    webhook_allowed_networks: list[str] = Field(
        default_factory=list,
        description="CIDRs an operator allows as webhook targets although not public (SSRF guard)",
    )
    webhook_require_https: bool = True
    webhook_max_attempts: int = 8
    webhook_backoff_base_seconds: float = 10.0
    webhook_backoff_max_seconds: float = 3600.0
    webhook_poll_seconds: float = 1.0
    webhook_timeout_seconds: float = 10.0

    @model_validator(mode="after")
    def _signing_key_required_in_production(self) -> Self:
        if self.environment in ("staging", "production"):
            if not self.signing_key_pem:
                raise ValueError("signing_key_pem is required outside local/test")
            if not self.webhook_secret_key:
                raise ValueError("webhook_secret_key is required outside local/test")
            if self.bootstrap_admin_password and self.bootstrap_admin_password.lower() in {
                "changeme",
                "change-me",
                "admin",
                "password",
            }:
                raise ValueError("bootstrap_admin_password is a placeholder")
        return self

    @model_validator(mode="after")
    def _bootstrap_password_meets_the_policy(self) -> Self:
        """Refused at start-up, in one line, rather than by the first sign-in attempt's rules."""
        if self.bootstrap_admin_username and self.bootstrap_admin_password:
            policy = PasswordPolicy(
                min_length=self.password_min_length, min_classes=self.password_min_classes
            )
            issues = policy.check(
                self.bootstrap_admin_password,
                field="bootstrap_admin_password",
                identifiers=(self.bootstrap_admin_username,),
            )
            if issues:
                rules = "; ".join(issue.message for issue in issues)
                raise SettingRefused("bootstrap_admin_password", f"{rules} (password policy)")
        return self

    def upstreams(self) -> dict[str, str]:
        return {
            "registry": self.registry_url.rstrip("/"),
            "projects": self.projects_url.rstrip("/"),
            "evaluation": self.evaluation_url.rstrip("/"),
        }
