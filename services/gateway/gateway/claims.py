"""The one claim model of the platform's access tokens (docs/events.md "Token claims").

Real sign-in and the local ``/dev/token`` both issue exactly these claims, so that anything a
local token can express a real account can hold, and nothing more. ``shared.auth.Principal``
is the services' reading of them.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from shared.auth import Role

Id = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_\-]+$")]

# The scope kinds each role may carry: the first is the role's own (a grant's ``scope_ids``).
ROLE_SCOPE_KINDS: dict[str, tuple[str, ...]] = {
    Role.host_unit_admin: ("units",),
    Role.competent_department: ("units", "regions"),
    Role.department_staff: ("plan_categories", "duties"),
    Role.lab_director: ("platforms",),
    Role.cluster_secretariat: ("clusters",),
}
SCOPE_KINDS = frozenset(kind for kinds in ROLE_SCOPE_KINDS.values() for kind in kinds)


# Duties (职责) of department staff: the evaluation office separates the first four (who draws
# the experts never finalises their scores); supervision is the office that follows projects up.
class Duty(StrEnum):
    expert_db = "expert_db"
    request = "request"
    draw = "draw"
    results = "results"
    supervision = "supervision"


DUTIES: dict[str, str] = {
    Duty.expert_db: "专家库管理",
    Duty.request: "专家需求申请",
    Duty.draw: "专家抽取",
    Duty.results: "评审结果核定",
    Duty.supervision: "监督检查",
}


# The 12 盟市 of Inner Mongolia by administrative division code, as registry and projects keep
# them (registry.codes.Region): a municipal bureau (盟市科技局) acts for the 盟市 on its grant.
REGIONS: dict[str, str] = {
    "150100": "呼和浩特市",
    "150200": "包头市",
    "150300": "乌海市",
    "150400": "赤峰市",
    "150500": "通辽市",
    "150600": "鄂尔多斯市",
    "150700": "呼伦贝尔市",
    "150800": "巴彦淖尔市",
    "150900": "乌兰察布市",
    "152200": "兴安盟",
    "152500": "锡林郭勒盟",
    "152900": "阿拉善盟",
}
REGION_ROLES = frozenset({Role.competent_department.value})


def primary_scope(role: str) -> str | None:
    kinds = ROLE_SCOPE_KINDS.get(role)
    return kinds[0] if kinds else None


class TokenClaims(BaseModel):
    """Who the token speaks for, beyond ``sub``: roles, own unit and person, scoped ids."""

    model_config = ConfigDict(extra="forbid")

    roles: list[Role] = Field(min_length=1)
    unit_id: Id | None = Field(default=None, description="the account's own unit (registry id)")
    person_id: Id | None = Field(default=None, description="the registry person the account is")
    scopes: dict[str, list[Id]] = Field(
        default_factory=dict,
        description="units, platforms, clusters, plan_categories, duties, regions (盟市 division codes): "
        "the ids the roles act for",
    )
    name: Annotated[str, StringConstraints(max_length=100)] | None = None

    @model_validator(mode="after")
    def _scopes_fit_the_roles(self) -> TokenClaims:
        allowed = {kind for role in self.roles for kind in ROLE_SCOPE_KINDS.get(role, ())}
        unknown = sorted(set(self.scopes) - allowed)
        if unknown:
            raise ValueError(f"scopes {unknown} belong to none of the roles (allowed: {sorted(allowed)})")
        bad = sorted(set(self.scopes.get("duties", [])) - set(DUTIES))
        if bad:
            raise ValueError(f"unknown duties {bad} (known: {sorted(DUTIES)})")
        bad = sorted(set(self.scopes.get("regions", [])) - set(REGIONS))
        if bad:
            raise ValueError(f"unknown 盟市 division codes {bad} (known: {sorted(REGIONS)})")
        return self
