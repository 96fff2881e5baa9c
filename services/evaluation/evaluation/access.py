"""Who may call what: department staff act through the duty their token carries (scope ``duties``).

The review office separates its duties: ``expert_db`` keeps the expert database, ``request``
asks for experts and designs the review (forms, deadlines, assessment campaigns), ``draw``
draws the experts, and ``results`` (评审结果核定) reads the score sheets and finalises results.
Whoever draws the experts never sees the scores, and whoever finalises never chose the experts.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends

from evaluation.codes import DUTIES
from shared.auth import Principal, Role
from shared.errors import Forbidden
from shared.http.auth import PrincipalDep


def duty(*names: str) -> Any:
    async def dependency(principal: PrincipalDep) -> Principal:
        if not (principal.has_role(Role.department_staff) and principal.scope("duties") & set(names)):
            labels = "、".join(DUTIES[n] for n in names)
            raise Forbidden(f"requires the duty {' or '.join(repr(n) for n in names)}", f"需要“{labels}”职责")
        return principal

    return Depends(dependency)


Designer = Annotated[Principal, duty("request")]
Finaliser = Annotated[Principal, duty("results")]
Office = Annotated[Principal, duty("request", "results")]
