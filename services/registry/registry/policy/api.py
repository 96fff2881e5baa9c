from __future__ import annotations

from registry.policy import service
from shared.http.policy import policy_router

router = policy_router(service.DEFINITIONS, service.current, service.change)
