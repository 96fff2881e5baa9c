"""The whole platform for the journeys: four services, one NATS, PostgreSQL, and the regional
platform's sign-on faked behind the OpenID Connect interface the gateway uses.

Started once for all journeys. A journey talks to the gateway's public port only, as real
people with real accounts: an administrator opens or approves them, they sign in with a
password or through the regional platform, and refresh their tokens. No journey mints a token
or calls a service's own port; each uses units, people and accounts of its own.
"""

from __future__ import annotations

import contextlib
import importlib
import itertools
import json
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from stdnum.cn import ric

from services.gateway.tests.oidc_provider import CLIENT_ID, CLIENT_SECRET, Provider
from shared.auth import TokenIssuer, new_signing_key_pem
from shared.testing.infra import TestInfra
from shared.testing.servers import eventually, serving
from tests.helpers import credit_code

ADMIN = "platform.admin"
ADMIN_PASSWORD = "Journey-Admin-2026!"
PASSWORD = "Journey-Pass-2026!"
SPA_CALLBACK = "https://kjt.nmg.gov.cn/sso/callback"
FAST = {
    "environment": "test",
    "relay_poll_interval_seconds": 0.2,
    "consumer_retry_base_seconds": 0.05,
    "gap_grace_seconds": 0.0,
    "db_pool_size": 5,
    "db_max_overflow": 5,
}
_serial = itertools.count(1)


def serial() -> int:
    """A number no other journey uses (names, credit codes, ID numbers)."""
    return next(_serial)


def id_number(n: int) -> str:
    base = f"150121{1970 + n % 30}0{1 + n % 9}1{n % 10}{n % 1000:03d}"
    return base + ric.calc_check_digit(base + "0")


@contextlib.asynccontextmanager
async def _service(infra: TestInfra, name: str, namespace: str, **values: Any) -> AsyncIterator[str]:
    definition = importlib.import_module(f"{name}.definition")
    _, url = await infra.fresh_database(name, definition.MIGRATIONS_DIR)
    settings_module, _, cls = {
        "registry": "registry.settings:RegistrySettings",
        "projects": "projects.settings:ProjectsSettings",
        "evaluation": "evaluation.settings:EvaluationSettings",
        "gateway": "gateway.settings:GatewaySettings",
    }[name].partition(":")
    settings = getattr(importlib.import_module(settings_module), cls)(
        **FAST, database_url=url, nats_url=infra.nats_url, events_namespace=namespace, **values
    )
    app = importlib.import_module(f"{name}.app").create_app(settings)
    async with serving(app) as base_url:
        yield base_url


@dataclass
class Person:
    """Someone signed in at the gateway: their account and the tokens they hold."""

    client: httpx.AsyncClient
    username: str
    account_id: str
    tokens: dict[str, Any] = field(default_factory=dict)

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens['access_token']}"}

    async def get(self, path: str, **kw: Any) -> httpx.Response:
        return await self.client.get(path, headers=self.headers, **kw)

    async def post(self, path: str, body: Any = None, **kw: Any) -> httpx.Response:
        return await self.client.post(path, json=body if body is not None else {}, headers=self.headers, **kw)

    async def patch(self, path: str, body: Any, **kw: Any) -> httpx.Response:
        return await self.client.patch(path, json=body, headers=self.headers, **kw)

    async def put(self, path: str, body: Any, **kw: Any) -> httpx.Response:
        return await self.client.put(path, json=body, headers=self.headers, **kw)

    async def refresh(self) -> None:
        r = await self.client.post("/auth/refresh", json={"refresh_token": self.tokens["refresh_token"]})
        assert r.status_code == 200, r.text
        self.tokens = r.json()

    async def me(self) -> dict[str, Any]:
        r = await self.get("/auth/me")
        assert r.status_code == 200, r.text
        return dict(r.json())


@dataclass
class Gateway:
    """The platform's one door, and the regional platform's sign-on beside it."""

    client: httpx.AsyncClient
    provider: Provider
    base_url: str
    admin: Person | None = None

    async def sign_in(self, username: str, password: str = PASSWORD) -> httpx.Response:
        return await self.client.post("/auth/token", json={"username": username, "password": password})

    async def person(self, username: str, password: str = PASSWORD) -> Person:
        r = await self.sign_in(username, password)
        assert r.status_code == 200, (username, r.text)
        me = await Person(self.client, username, "", r.json()).me()
        return Person(self.client, username, str(me["id"]), r.json())

    async def administrator(self) -> Person:
        if self.admin is None:
            self.admin = await self.person(ADMIN, ADMIN_PASSWORD)
        await self.admin.refresh()  # a long journey outlives nothing: the session goes on
        return self.admin

    async def open_account(
        self,
        username: str,
        roles: list[dict[str, Any]],
        *,
        unit_id: str | None = None,
        person_id: str | None = None,
        email: str | None = None,
    ) -> Person:
        """The administrator opens an account; its holder signs in with the one-time password,
        sets their own, and signs in again."""
        admin = await self.administrator()
        body: dict[str, Any] = {"username": username, "display_name": username, "roles": roles}
        body.update(
            {k: v for k, v in (("unit_id", unit_id), ("person_id", person_id), ("email", email)) if v}
        )
        created = await admin.post("/accounts", body)
        assert created.status_code == 201, created.text
        once = created.json()["one_time_password"]
        first = await self.sign_in(username, once)
        assert first.status_code == 200 and first.json()["must_change_password"] is True
        changed = await self.client.post(
            "/auth/password",
            json={"current_password": once, "new_password": PASSWORD},
            headers={"Authorization": f"Bearer {first.json()['access_token']}"},
        )
        assert changed.status_code == 204, changed.text
        return await self.person(username)

    async def staff(self, username: str, *duties: str) -> Person:
        """Department staff with the given duties, granted (with a reason) by the administrator."""
        person = await self.open_account(username, [{"role": "department_staff"}])
        if duties:
            admin = await self.administrator()
            r = await admin.post(
                f"/accounts/{person.account_id}/grants",
                {"role": "department_staff", "duties": list(duties), "reason": "处室分工"},
            )
            assert r.status_code == 200, r.text
            person = await self.person(username)
        return person

    async def register(self, username: str, unit_id: str, role: str = "applicant") -> str:
        r = await self.client.post(
            "/auth/register",
            json={
                "username": username,
                "email": f"{username}@example.edu.cn",
                "display_name": username,
                "password": PASSWORD,
                "unit_id": unit_id,
                "role": role,
            },
        )
        assert r.status_code == 202, r.text
        return str(r.json()["id"])

    async def sso_round_trip(self) -> dict[str, str]:
        """What the SPA and the browser do: start, follow to the regional platform, come back."""
        started = await self.client.post("/auth/oidc/authorize")
        assert started.status_code == 200, started.text
        async with httpx.AsyncClient() as browser:
            redirect = await browser.get(started.json()["authorization_url"])
        back = parse_qs(urlsplit(redirect.headers["location"]).query)
        return {"code": back["code"][0], "state": back["state"][0]}

    async def sso(self, user: dict[str, Any]) -> httpx.Response:
        self.provider.user = user
        return await self.client.post("/auth/oidc/callback", json=await self.sso_round_trip())


@dataclass
class World:
    """Units and people in the register, made by the department's own staff through the door."""

    gw: Gateway
    registrar: Person  # department staff who keep the register

    async def unit(self, kind: str = "university") -> dict[str, Any]:
        n = serial()
        r = await self.registrar.post(
            "/api/registry/organisations",
            {
                "name": f"旅程单位{n:03d}",
                "credit_code": credit_code(5000 + n),
                "type": kind,
                "region": "150100",
                "address": f"呼和浩特市旅程路{n}号",
            },
        )
        assert r.status_code == 201, r.text
        return dict(r.json())

    async def person(self, unit_id: str, name: str = "研究人员") -> str:
        n = serial()
        r = await self.registrar.post(
            "/api/registry/people",
            {"name": f"{name}{n:03d}", "id_number": id_number(n), "title": "professor", "unit_id": unit_id},
        )
        assert r.status_code == 201, r.text
        return str(r.json()["id"])

    async def unit_admin(self, unit_id: str) -> Person:
        """A unit admin registers and is approved by department staff."""
        username = f"unit.admin{serial()}"
        account_id = await self.gw.register(username, unit_id, role="host_unit_admin")
        r = await self.registrar.post(f"/accounts/{account_id}/approve", {"reason": "单位公函核实"})
        assert r.status_code == 200, r.text
        return await self.gw.person(username)


async def until(predicate: Any, timeout: float = 20.0) -> None:
    await eventually(predicate, timeout=timeout, interval=0.1)


@pytest.fixture(scope="session")
async def gateway_door(infra: TestInfra) -> AsyncIterator[Gateway]:
    namespace = f"j{secrets.token_hex(4)}"
    key = new_signing_key_pem()
    jwks = json.dumps(
        TokenIssuer.from_pems(key, issuer="sci-platform-gateway", audience="sci-platform").jwks()
    )
    provider = Provider()
    async with (
        serving(provider.app()) as provider_url,  # type: ignore[arg-type]
        _service(infra, "registry", namespace, auth_jwks_json=jwks) as registry,
        _service(infra, "projects", namespace, auth_jwks_json=jwks) as projects,
        _service(infra, "evaluation", namespace, auth_jwks_json=jwks) as evaluation,
    ):
        provider.issuer = provider_url
        async with (
            _service(
                infra,
                "gateway",
                namespace,
                auth_jwks_json=jwks,
                signing_key_pem=key,
                registry_url=registry,
                projects_url=projects,
                evaluation_url=evaluation,
                bootstrap_admin_username=ADMIN,
                bootstrap_admin_password=ADMIN_PASSWORD,
                password_hash_time_cost=1,
                password_hash_memory_kib=1024,
                password_hash_parallelism=1,
                oidc_issuer=provider_url,
                oidc_client_id=CLIENT_ID,
                oidc_client_secret=CLIENT_SECRET,
                oidc_redirect_uri=SPA_CALLBACK,
                webhook_allowed_networks=["127.0.0.0/8"],
                webhook_require_https=False,
                webhook_poll_seconds=0.1,
            ) as gateway_url,
            httpx.AsyncClient(base_url=gateway_url, timeout=30) as client,
        ):
            yield Gateway(client, provider, gateway_url)


@pytest.fixture(scope="session")
async def world(gateway_door: Gateway) -> World:
    registrar = await gateway_door.staff("registrar")
    return World(gateway_door, registrar)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # A journey is a working day across four services: more than the suite's per-test limit,
    # most of all for the first, which also starts the platform.
    for item in items:
        if "journeys" in item.path.parts:
            item.add_marker(pytest.mark.timeout(600))


def refused(response: httpx.Response) -> bool:
    """A refusal a role that may not do something gets: 403, or 404 where existence is hidden."""
    return response.status_code in (403, 404)
