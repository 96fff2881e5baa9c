"""Talking to the OpenID provider: discovery, JWKS, code exchange, ID-token validation.

Everything the provider sends is validated before use (OWASP API10): the discovery document
must name the configured issuer, the token response must be JSON with an ``id_token``, and the
ID token must be signed by a key of the provider's JWKS with an asymmetric algorithm, for this
client (``aud``/``azp``), unexpired, and carry the nonce of this sign-in.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx
import jwt

from shared.errors import DomainError, Unauthenticated

ID_TOKEN_ALGORITHMS = ["RS256", "PS256", "ES256", "EdDSA"]


class ProviderError(DomainError):
    status = 502
    code = "identity_provider_error"
    title = "Identity provider error"
    title_zh = "统一身份认证平台异常"


@dataclass(frozen=True)
class ProviderConfig:
    issuer: str
    client_id: str
    client_secret: str
    redirect_uri: str
    scopes: str = "openid profile email phone"
    timeout_seconds: float = 5.0


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


class OidcProvider:
    def __init__(self, config: ProviderConfig) -> None:
        self.config = config
        self.client = httpx.AsyncClient(
            timeout=config.timeout_seconds, follow_redirects=False, trust_env=False
        )
        self._metadata: dict[str, Any] | None = None
        self._keys: dict[str, jwt.PyJWK] = {}
        self._keys_at = 0.0

    async def close(self) -> None:
        await self.client.aclose()

    async def _json(self, response: httpx.Response, what: str) -> dict[str, Any]:
        if response.status_code != 200:
            raise ProviderError(f"{what}: HTTP {response.status_code}", f"统一身份认证平台返回错误（{what}）")
        try:
            body = response.json()
        except ValueError as exc:
            raise ProviderError(f"{what}: not JSON", "统一身份认证平台返回的数据格式错误") from exc
        if not isinstance(body, dict):
            raise ProviderError(f"{what}: not a JSON object", "统一身份认证平台返回的数据格式错误")
        return body

    async def metadata(self) -> dict[str, Any]:
        if self._metadata is None:
            try:
                response = await self.client.get(
                    f"{self.config.issuer.rstrip('/')}/.well-known/openid-configuration"
                )
            except httpx.HTTPError as exc:
                raise ProviderError("discovery failed", "无法连接统一身份认证平台") from exc
            doc = await self._json(response, "discovery")
            required = ("issuer", "authorization_endpoint", "token_endpoint", "jwks_uri")
            if any(not isinstance(doc.get(k), str) for k in required) or doc["issuer"] != self.config.issuer:
                raise ProviderError(
                    "discovery document is incomplete or names another issuer", "统一身份认证平台配置不符"
                )
            self._metadata = doc
        return self._metadata

    async def authorization_url(self, *, state: str, nonce: str, code_challenge: str) -> str:
        meta = await self.metadata()
        query = urlencode(
            {
                "response_type": "code",
                "client_id": self.config.client_id,
                "redirect_uri": self.config.redirect_uri,
                "scope": self.config.scopes,
                "state": state,
                "nonce": nonce,
                "code_challenge": code_challenge,
                "code_challenge_method": "S256",
            }
        )
        return f"{meta['authorization_endpoint']}?{query}"

    async def _key(self, kid: str) -> jwt.PyJWK | None:
        if kid not in self._keys and time.monotonic() - self._keys_at > 10:
            meta = await self.metadata()
            try:
                jwks = await self._json(await self.client.get(meta["jwks_uri"]), "jwks")
            except httpx.HTTPError as exc:
                raise ProviderError("jwks unreachable", "无法获取统一身份认证平台公钥") from exc
            keys = {}
            for jwk in jwks.get("keys", []):
                if isinstance(jwk, dict) and jwk.get("kid") and jwk.get("use", "sig") == "sig":
                    try:
                        keys[jwk["kid"]] = jwt.PyJWK(jwk)
                    except jwt.PyJWTError:
                        continue
            self._keys, self._keys_at = keys, time.monotonic()
        return self._keys.get(kid)

    async def exchange(self, code: str, code_verifier: str) -> str:
        meta = await self.metadata()
        try:
            response = await self.client.post(
                meta["token_endpoint"],
                data={
                    "grant_type": "authorization_code",
                    "code": code,
                    "redirect_uri": self.config.redirect_uri,
                    "code_verifier": code_verifier,
                },
                auth=(self.config.client_id, self.config.client_secret),
            )
        except httpx.HTTPError as exc:
            raise ProviderError("token endpoint unreachable", "无法连接统一身份认证平台") from exc
        if response.status_code in (400, 401):
            raise Unauthenticated("the provider refused the authorisation code", "授权码无效或已过期")
        body = await self._json(response, "token")
        id_token = body.get("id_token")
        if not isinstance(id_token, str) or str(body.get("token_type", "")).lower() != "bearer":
            raise ProviderError("token response without an ID token", "统一身份认证平台未返回身份令牌")
        return id_token

    async def validate(self, id_token: str, *, nonce: str) -> dict[str, Any]:
        try:
            header = jwt.get_unverified_header(id_token)
        except jwt.PyJWTError as exc:
            raise Unauthenticated("malformed ID token", "身份令牌格式错误") from exc
        alg, kid = header.get("alg"), header.get("kid")
        if alg not in ID_TOKEN_ALGORITHMS or not isinstance(kid, str):
            raise Unauthenticated("ID token algorithm or key id not accepted", "身份令牌签名算法不被接受")
        key = await self._key(kid)
        if key is None:
            raise Unauthenticated("ID token signed by an unknown key", "身份令牌签名密钥未知")
        try:
            claims: dict[str, Any] = jwt.decode(
                id_token,
                key.key,
                algorithms=[alg],
                audience=self.config.client_id,
                issuer=self.config.issuer,
                leeway=30,
                options={"require": ["iss", "aud", "exp", "iat", "sub", "nonce"]},
            )
        except jwt.PyJWTError as exc:
            raise Unauthenticated(f"invalid ID token: {exc}", "身份令牌无效") from exc
        audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
        if len(audiences) > 1 and claims.get("azp") != self.config.client_id:
            raise Unauthenticated("ID token issued to another party", "身份令牌不是签发给本系统的")
        if not secrets.compare_digest(str(claims["nonce"]), nonce):
            raise Unauthenticated("ID token nonce does not match this sign-in", "身份令牌与本次登录不符")
        return claims
