"""FastAPI dependencies for caller identity. No endpoint is open unless it says so."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from shared.auth import Principal, TokenVerifier
from shared.errors import Forbidden, Unauthenticated

_bearer = HTTPBearer(auto_error=False, description="Access token issued by the gateway")


async def get_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthenticated("a bearer token is required", "请先登录")
    verifier: TokenVerifier = request.app.state.runtime.verifier
    principal = await verifier.verify(credentials.credentials)
    request.state.principal = principal
    return principal


PrincipalDep = Annotated[Principal, Depends(get_principal)]


def require_roles(*roles: str) -> Callable[..., Awaitable[Principal]]:
    """A dependency that admits only callers holding one of ``roles``."""

    async def dependency(principal: PrincipalDep) -> Principal:
        if not principal.has_role(*roles):
            raise Forbidden(
                f"requires one of the roles: {', '.join(roles)}",
                "当前角色无权执行此操作",
                extra={"required_roles": list(roles)},
            )
        return principal

    return dependency
