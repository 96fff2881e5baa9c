from __future__ import annotations

from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from shared.timestamps import Timestamp


class DesignationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    unit_id: UUID
    pi_person_id: UUID
    platform_id: UUID | None = Field(None, description="定向委托 to a platform: the key lab entrusted")
    justification: str = Field(min_length=2, max_length=5000)


class DesignationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: UUID
    call_id: UUID
    unit_id: UUID
    pi_person_id: UUID
    platform_id: UUID | None = None
    justification: str
    designated_by: str
    at: Timestamp


class VerificationIn(BaseModel):
    """后补助 核验: what staff (or the experts they sent) found of the claimed results."""

    model_config = ConfigDict(extra="forbid")
    conclusion: Literal["verified", "not_verified"]
    eligible_expenditure_fen: int = Field(ge=0, le=10**14)
    subsidy_fen: int = Field(ge=0, le=10**14)
    report_document: str = Field(min_length=2, max_length=200, description="核验报告")
    reason: str | None = Field(None, max_length=2000)


class VerificationRecord(BaseModel):
    """后补助 核验 as recorded: the finding, who verified and when."""

    conclusion: Literal["verified", "not_verified"]
    eligible_expenditure_fen: int
    subsidy_fen: int
    report_document: str
    reason: str | None
    verified_by: str
    verified_at: Timestamp


class VerificationOut(BaseModel):
    application_id: UUID
    verification: VerificationRecord
