from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints
from pydantic_core import PydanticCustomError
from stdnum import exceptions as stdnum_errors
from stdnum.cn import uscc

from registry.codes import (
    ORGANISATION_TYPE_LABELS,
    REGION_LABELS,
    OrganisationType,
    Region,
)
from registry.organisations.models import Organisation
from shared.timestamps import Timestamp


def _valid_credit_code(value: str) -> str:
    try:
        return str(uscc.validate(value))
    except stdnum_errors.InvalidChecksum as exc:
        raise PydanticCustomError(
            "uscc_checksum",
            "the check digit of the unified social credit code is wrong",
            {"message_zh": "统一社会信用代码校验位错误"},
        ) from exc
    except stdnum_errors.InvalidLength as exc:
        raise PydanticCustomError(
            "uscc_length",
            "a unified social credit code has 18 characters",
            {"message_zh": "统一社会信用代码应为18位"},
        ) from exc
    except stdnum_errors.ValidationError as exc:
        raise PydanticCustomError(
            "uscc_invalid",
            "not a valid unified social credit code",
            {"message_zh": "统一社会信用代码格式不正确"},
        ) from exc


CreditCode = Annotated[
    str,
    StringConstraints(strip_whitespace=True, to_upper=True, min_length=1, max_length=30),
    AfterValidator(_valid_credit_code),
]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=200)]
Address = Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=300)]


class OrganisationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name = Field(description="单位名称")
    credit_code: CreditCode = Field(description="统一社会信用代码 (18 characters)")
    type: OrganisationType = Field(description="单位类型")
    region: Region = Field(description="所在盟市 (administrative division code)")
    address: Address = Field(description="地址")


class OrganisationUpdate(BaseModel):
    """Fields a PATCH may change; anything else (id, version, …) is refused."""

    model_config = ConfigDict(extra="forbid")

    name: Name | None = None
    credit_code: CreditCode | None = None
    type: OrganisationType | None = None
    region: Region | None = None
    address: Address | None = None
    reason: str | None = Field(default=None, max_length=500, description="why (kept in history)")


class OrganisationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    name: str
    credit_code: str
    type: OrganisationType
    type_zh: str
    region: Region
    region_zh: str
    address: str
    version: int
    created_at: Timestamp
    updated_at: Timestamp

    @classmethod
    def of(cls, org: Organisation) -> OrganisationOut:
        return cls(
            id=org.id,
            name=org.name,
            credit_code=org.credit_code,
            type=OrganisationType(org.type),
            type_zh=ORGANISATION_TYPE_LABELS[OrganisationType(org.type)],
            region=Region(org.region),
            region_zh=REGION_LABELS[Region(org.region)],
            address=org.address,
            version=org.version,
            created_at=org.created_at,
            updated_at=org.updated_at,
        )


class OrganisationHistoryEntry(BaseModel):
    """One change to a unit, from the audit trail."""

    occurred_at: Timestamp
    actor_id: str | None
    action: str
    changes: dict[str, Any] = Field(description="field: [before, after]")
    reason: str | None
    request_id: str | None
