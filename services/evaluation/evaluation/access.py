"""Who may call what: department staff act through the duty their token carries (scope ``duties``).

The review office separates its duties: ``expert_db`` keeps the expert database, ``request``
asks for experts and designs the review (forms, deadlines, assessment campaigns), ``draw``
draws the experts, and ``results`` (评审结果核定) reads the score sheets and finalizes results.
Whoever draws the experts never sees the scores, and whoever finalizes never chose the experts:
the token says which duties a person may take, and ``rounds.duties`` records which one they
took for each round, refusing a second (职责分离). ``supervision`` (监督) reads the audit trail.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends

from evaluation.codes import DUTIES
from shared.auth import Principal, Role
from shared.errors import Forbidden
from shared.http.auth import PrincipalDep


def duties_of(principal: Principal) -> frozenset[str]:
    return principal.scope("duties") if principal.has_role(Role.department_staff) else frozenset()


def duty(*names: str) -> Any:
    async def dependency(principal: PrincipalDep) -> Principal:
        if not duties_of(principal) & set(names):
            labels = "、".join(DUTIES[n] for n in names)
            raise Forbidden(
                f"requires the duty {' or '.join(repr(n) for n in names)}",
                f"需要“{labels}”职责",
                extra={"required_duties": list(names)},
            )
        return principal

    return Depends(dependency)


ExpertDb = Annotated[Principal, duty("expert_db")]
Requester = Annotated[Principal, duty("request")]
Drawer = Annotated[Principal, duty("draw")]
Designer = Annotated[Principal, duty("request")]
Finalizer = Annotated[Principal, duty("results")]
Office = Annotated[Principal, duty("request", "results")]
