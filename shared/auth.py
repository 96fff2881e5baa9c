"""Caller identity: signed JWT access tokens, verified against the gateway's JWKS.

Per RFC 8725: only asymmetric algorithms are accepted (EdDSA, ES256), the algorithm is fixed
by the key, never by the token; ``kid`` is required; ``iss``, ``aud``, ``exp``, ``iat`` and
``sub`` are required and checked. ``alg: none`` and HS256 (the public key used as an HMAC
secret) are refused. An unknown ``kid`` triggers one JWKS refresh (rate-limited), which is
how key rotation reaches the services without a restart.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import httpx
import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
    load_pem_private_key,
)
from jwt.algorithms import OKPAlgorithm

from shared.errors import Unauthenticated
from shared.ids import uuid7
from shared.uow import Actor

ALLOWED_ALGORITHMS = frozenset({"EdDSA", "ES256"})


class Role(StrEnum):
    applicant = "applicant"  # 申报人
    host_unit_admin = "host_unit_admin"  # 依托单位管理员
    competent_department = "competent_department"  # 主管部门
    department_staff = "department_staff"  # 科技厅业务处室
    expert = "expert"  # 评审专家
    lab_director = "lab_director"  # 实验室主任
    cluster_secretariat = "cluster_secretariat"  # 实验室群秘书处
    administrator = "administrator"  # 系统管理员


ROLE_LABELS_ZH: dict[str, str] = {
    Role.applicant: "申报人",
    Role.host_unit_admin: "依托单位管理员",
    Role.competent_department: "主管部门",
    Role.department_staff: "科技厅业务处室",
    Role.expert: "评审专家",
    Role.lab_director: "实验室主任",
    Role.cluster_secretariat: "实验室群秘书处",
    Role.administrator: "系统管理员",
}


@dataclass(frozen=True)
class Principal:
    """Who is calling, as the gateway vouched for it in the token."""

    user_id: str
    roles: frozenset[str]
    unit_id: str | None = None
    scopes: Mapping[str, frozenset[str]] = field(default_factory=dict)
    name: str | None = None
    token_id: str | None = None
    person_id: str | None = None  # the registry person this account is (experts, applicants)

    def has_role(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))

    def scope(self, kind: str) -> frozenset[str]:
        """Ids this principal's roles are scoped to, e.g. ``scope('units')``."""
        return self.scopes.get(kind, frozenset())

    def actor(self) -> Actor:
        return Actor(id=self.user_id, roles=tuple(sorted(self.roles)))


def principal_from_claims(claims: Mapping[str, Any]) -> Principal:
    roles = claims.get("roles", [])
    scopes = claims.get("scopes", {})
    if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
        raise Unauthenticated("token roles claim is malformed", "令牌角色信息格式错误")
    if not isinstance(scopes, dict):
        raise Unauthenticated("token scopes claim is malformed", "令牌授权范围格式错误")
    return Principal(
        user_id=str(claims["sub"]),
        roles=frozenset(roles),
        unit_id=claims.get("unit_id"),
        scopes={str(k): frozenset(str(x) for x in v) for k, v in scopes.items()},
        name=claims.get("name"),
        token_id=claims.get("jti"),
        person_id=claims.get("person_id"),
    )


class TokenVerifier:
    def __init__(
        self,
        *,
        issuer: str,
        audience: str,
        leeway_seconds: int = 30,
        jwks_url: str | None = None,
        jwks_json: str | None = None,
        refresh_min_interval: float = 10.0,
    ) -> None:
        self.issuer = issuer
        self.audience = audience
        self.leeway = leeway_seconds
        self.jwks_url = jwks_url
        self._keys: dict[str, jwt.PyJWK] = {}
        self._last_refresh = 0.0
        self._refresh_min_interval = refresh_min_interval
        self._lock = asyncio.Lock()
        if jwks_json:
            self._load(json.loads(jwks_json))

    def _load(self, jwks: Mapping[str, Any]) -> None:
        keys: dict[str, jwt.PyJWK] = {}
        for jwk in jwks.get("keys", []):
            alg = jwk.get("alg")
            kid = jwk.get("kid")
            if not kid or alg not in ALLOWED_ALGORITHMS:
                continue
            keys[kid] = jwt.PyJWK(jwk, algorithm=alg)
        self._keys = keys or self._keys

    async def refresh(self, *, force: bool = False) -> None:
        if not self.jwks_url:
            return
        async with self._lock:
            now = time.monotonic()
            if not force and now - self._last_refresh < self._refresh_min_interval:
                return
            self._last_refresh = now
            async with httpx.AsyncClient(timeout=5.0) as client:
                response = await client.get(self.jwks_url)
                response.raise_for_status()
                self._load(response.json())

    async def _key_for(self, kid: str) -> jwt.PyJWK | None:
        key = self._keys.get(kid)
        if key is None and self.jwks_url:
            try:
                await self.refresh()
            except httpx.HTTPError:
                return None
            key = self._keys.get(kid)
        return key

    async def verify(self, token: str) -> Principal:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise Unauthenticated("malformed token", "令牌格式错误") from exc
        alg, kid = header.get("alg"), header.get("kid")
        if alg not in ALLOWED_ALGORITHMS:
            raise Unauthenticated(f"token algorithm {alg!r} is not accepted", "令牌签名算法不被接受")
        if not isinstance(kid, str) or not kid:
            raise Unauthenticated("token has no key id", "令牌缺少密钥标识")
        key = await self._key_for(kid)
        if key is None:
            raise Unauthenticated("token signed by an unknown key", "令牌签名密钥未知")
        if key.algorithm_name != alg:
            raise Unauthenticated("token algorithm does not match its key", "令牌算法与密钥不符")
        try:
            claims = jwt.decode(
                token,
                key.key,
                algorithms=[alg],
                audience=self.audience,
                issuer=self.issuer,
                leeway=self.leeway,
                options={"require": ["exp", "iat", "sub", "iss", "aud"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise Unauthenticated("token expired", "令牌已过期") from exc
        except jwt.PyJWTError as exc:
            raise Unauthenticated(f"invalid token: {exc}", "令牌无效") from exc
        return principal_from_claims(claims)


def key_id(private_key: Ed25519PrivateKey) -> str:
    """A stable ``kid`` derived from the public key: the same across restarts and replicas."""
    raw = private_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def load_signing_key(pem: str) -> tuple[str, Ed25519PrivateKey]:
    key = load_pem_private_key(pem.encode(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError("signing keys must be Ed25519 private keys")
    return key_id(key), key


def new_signing_key_pem() -> str:
    return (
        Ed25519PrivateKey.generate().private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()).decode()
    )


class TokenIssuer:
    """Signs access tokens with Ed25519 keys; the newest key signs, all keys verify."""

    def __init__(self, *, issuer: str, audience: str, keys: Iterable[tuple[str, Ed25519PrivateKey]]) -> None:
        self.issuer = issuer
        self.audience = audience
        self._keys = list(keys)
        if not self._keys:
            raise ValueError("at least one signing key is required")

    @classmethod
    def from_pems(
        cls, current: str, *, previous: Iterable[str] = (), issuer: str, audience: str
    ) -> TokenIssuer:
        """The current key signs; previous keys stay published until their tokens expire."""
        keys = [load_signing_key(pem) for pem in previous]
        keys.append(load_signing_key(current))
        return cls(issuer=issuer, audience=audience, keys=keys)

    @classmethod
    def generate(cls, *, issuer: str, audience: str) -> TokenIssuer:
        return cls(issuer=issuer, audience=audience, keys=[(str(uuid7()), Ed25519PrivateKey.generate())])

    def rotate(self) -> str:
        kid = str(uuid7())
        self._keys.append((kid, Ed25519PrivateKey.generate()))
        return kid

    def retire(self, kid: str) -> None:
        self._keys = [(k, key) for k, key in self._keys if k != kid]

    @property
    def current_kid(self) -> str:
        return self._keys[-1][0]

    def jwks(self) -> dict[str, Any]:
        keys = []
        for kid, private in self._keys:
            jwk = OKPAlgorithm.to_jwk(private.public_key(), as_dict=True)
            jwk.update({"kid": kid, "alg": "EdDSA", "use": "sig"})
            keys.append(jwk)
        return {"keys": keys}

    def issue(
        self,
        subject: str,
        *,
        roles: Iterable[str],
        unit_id: str | None = None,
        scopes: Mapping[str, Iterable[str]] | None = None,
        name: str | None = None,
        person_id: str | None = None,
        ttl_seconds: int = 900,
        extra: Mapping[str, Any] | None = None,
    ) -> str:
        kid, private = self._keys[-1]
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": subject,
            "iat": now,
            "nbf": now,
            "exp": now + ttl_seconds,
            "jti": str(uuid7()),
            "roles": sorted(set(roles)),
            "scopes": {k: sorted(set(v)) for k, v in (scopes or {}).items()},
        }
        if unit_id is not None:
            claims["unit_id"] = unit_id
        if name is not None:
            claims["name"] = name
        if person_id is not None:
            claims["person_id"] = person_id
        claims.update(extra or {})
        return jwt.encode(claims, private, algorithm="EdDSA", headers={"kid": kid})
