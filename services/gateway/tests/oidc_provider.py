"""A small but real OpenID Connect provider for the tests, served on a local port.

Authorization code flow with PKCE (S256 checked), client authentication, discovery and a JWKS;
ID tokens signed RS256. ``misbehave`` makes it answer the way a broken or hostile provider
would, so that the relying party's checks are exercised.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

CLIENT_ID = "sci-platform"
CLIENT_SECRET = "provider-test-secret"


@dataclass
class Provider:
    issuer: str = ""
    user: dict[str, Any] = field(default_factory=dict)
    misbehave: str | None = None
    key: rsa.RSAPrivateKey = field(
        default_factory=lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048)
    )
    codes: dict[str, dict[str, Any]] = field(default_factory=dict)

    def app(self) -> Starlette:
        async def discovery(request: Request) -> Response:
            return JSONResponse(
                {
                    "issuer": self.issuer,
                    "authorization_endpoint": f"{self.issuer}/authorize",
                    "token_endpoint": f"{self.issuer}/token",
                    "jwks_uri": f"{self.issuer}/jwks",
                    "response_types_supported": ["code"],
                    "code_challenge_methods_supported": ["S256"],
                    "id_token_signing_alg_values_supported": ["RS256"],
                }
            )

        async def jwks(request: Request) -> Response:
            jwk = RSAAlgorithm.to_jwk(self.key.public_key(), as_dict=True)
            jwk.update({"kid": "provider-key", "alg": "RS256", "use": "sig"})
            return JSONResponse({"keys": [jwk]})

        async def authorize(request: Request) -> Response:
            q = request.query_params
            if q.get("client_id") != CLIENT_ID or q.get("code_challenge_method") != "S256":
                return JSONResponse({"error": "invalid_request"}, status_code=400)
            code = secrets.token_urlsafe(16)
            self.codes[code] = dict(q)
            return RedirectResponse(f"{q['redirect_uri']}?{urlencode({'code': code, 'state': q['state']})}")

        async def token(request: Request) -> Response:
            form = {k: v[0] for k, v in parse_qs((await request.body()).decode()).items()}
            auth = request.headers.get("authorization", "")
            expected = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
            if auth != f"Basic {expected}":
                return JSONResponse({"error": "invalid_client"}, status_code=401)
            request_ = self.codes.pop(str(form.get("code")), None)
            if request_ is None or form.get("redirect_uri") != request_["redirect_uri"]:
                return JSONResponse({"error": "invalid_grant"}, status_code=400)
            challenge = (
                base64.urlsafe_b64encode(hashlib.sha256(str(form.get("code_verifier")).encode()).digest())
                .rstrip(b"=")
                .decode()
            )
            if challenge != request_["code_challenge"]:
                return JSONResponse({"error": "invalid_grant", "error_description": "PKCE"}, status_code=400)
            if self.misbehave == "garbage":
                return Response("<html>maintenance</html>", media_type="text/html")
            if self.misbehave == "no_id_token":
                return JSONResponse({"access_token": "x", "token_type": "Bearer"})
            now = int(time.time())
            claims = {
                "iss": self.issuer,
                "aud": CLIENT_ID,
                "sub": self.user["sub"],
                "iat": now,
                "exp": now + 300,
                "nonce": request_["nonce"],
                **{k: v for k, v in self.user.items() if k != "sub"},
            }
            key: Any = self.key
            headers = {"kid": "provider-key"}
            if self.misbehave == "wrong_nonce":
                claims["nonce"] = "another"
            elif self.misbehave == "wrong_audience":
                claims["aud"] = "another-client"
            elif self.misbehave == "expired":
                claims["exp"] = now - 3600
            elif self.misbehave == "wrong_issuer":
                claims["iss"] = "https://evil.example"
            elif self.misbehave == "foreign_key":
                key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            id_token = jwt.encode(claims, key, algorithm="RS256", headers=headers)
            if self.misbehave == "alg_none":
                id_token = jwt.encode(claims, None, algorithm="none", headers=headers)  # type: ignore[arg-type]
            return JSONResponse({"access_token": "x", "token_type": "Bearer", "id_token": id_token})

        return Starlette(
            routes=[
                Route("/.well-known/openid-configuration", discovery),
                Route("/jwks", jwks),
                Route("/authorize", authorize),
                Route("/token", token, methods=["POST"]),
            ]
        )
