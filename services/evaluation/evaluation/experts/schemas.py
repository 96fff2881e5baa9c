"""Request and response shapes of the expert database (专家库)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, model_validator

from evaluation.codes import EXPERT_STATUSES
from evaluation.disciplines.schemas import DisciplineCode
from evaluation.experts.models import Expert
from shared.timestamps import Timestamp


class AvailabilityWindow(BaseModel):
    """A period the expert can review in; an expert with windows is drawn only inside one."""

    model_config = ConfigDict(populate_by_name=True, extra="forbid")
    from_: date = Field(alias="from")
    to: date

    @model_validator(mode="after")
    def _ordered(self) -> AvailabilityWindow:
        if self.to < self.from_:
            raise ValueError("'to' is before 'from' / 结束日期早于开始日期")
        return self


Disciplines = list[DisciplineCode]
Keywords = list[Annotated[str, Field(min_length=1, max_length=50)]]


class ExpertSelfEdit(BaseModel):
    """What an expert may change on their own profile (title, region, unit: the staff's)."""

    model_config = ConfigDict(extra="forbid")
    disciplines: Disciplines | None = Field(default=None, min_length=1, max_length=10)
    keywords: Keywords | None = Field(default=None, max_length=20)
    directions: str | None = Field(default=None, max_length=2000)
    availability: list[AvailabilityWindow] | None = Field(default=None, max_length=20)
    max_load: int | None = Field(default=None, ge=1, le=200)
    reason: str | None = Field(default=None, max_length=500)

    def changes(self) -> dict[str, Any]:
        data = self.model_dump(exclude_unset=True, exclude={"reason"}, by_alias=True, mode="json")
        return {k: v for k, v in data.items() if v is not None}


class ExpertStaffEdit(ExpertSelfEdit):
    region: str | None = Field(default=None, min_length=2, max_length=6)
    title: str | None = Field(default=None, min_length=1, max_length=50)
    unit_credit_code: str | None = Field(default=None, pattern=r"^[0-9A-HJ-NPQRTUWXY]{18}$")


class ExpertIn(BaseModel):
    region: str = Field(min_length=2, max_length=6, description="盟市 code, or 'out' (区外)")
    title: str = Field(min_length=1, max_length=50)
    disciplines: list[DisciplineCode] = Field(min_length=1, max_length=10)
    keywords: list[Annotated[str, Field(min_length=1, max_length=50)]] = Field(default=[], max_length=20)
    directions: str = Field(default="", max_length=2000)
    availability: list[AvailabilityWindow] = Field(default=[], max_length=20)
    max_load: int = Field(default=20, ge=1, le=200)

    def data(self) -> dict[str, Any]:
        return self.model_dump(by_alias=True, mode="json", exclude={"person_id"})


class Nomination(ExpertIn):
    person_id: UUID


class ExpertOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: UUID
    person_id: UUID
    name: str
    unit_id: UUID | None
    region: str
    title: str
    disciplines: list[str]
    keywords: list[str]
    directions: str
    max_load: int
    status: str
    status_zh: str = ""
    origin: str
    credit_score: int
    confirmed_until: date | None
    reconfirm_requested_at: Timestamp | None = None
    availability: list[AvailabilityWindow] = []
    unit_credit_code: str | None = None
    version: int

    @classmethod
    def of(cls, e: Expert) -> ExpertOut:
        out = cls.model_validate(e)
        out.status_zh = EXPERT_STATUSES.get(e.status, e.status)
        return out


class Transition(BaseModel):
    reason: str | None = Field(default=None, max_length=500)


class DeclarationIn(BaseModel):
    person_id: UUID | None = None
    unit_id: UUID | None = None
    reason: str = Field(min_length=1, max_length=500)


class DeclarationOut(BaseModel):
    """A declared conflict (利益冲突申报), checked on every later assignment."""

    id: UUID
    expert_id: UUID


class SweepOut(BaseModel):
    asked: list[UUID] = Field(description="experts asked now to re-confirm (their confirmation lapses soon)")
    lapsed: list[UUID] = Field(description="confirmation lapsed: not drawn until they re-confirm")


class ExpertImportReport(BaseModel):
    """201: the workbook was imported whole (all or nothing; a bad row refuses the file with 422
    naming the row): how many rows were read, how many experts nominated, and who."""

    mode: Literal["all_or_nothing"] = "all_or_nothing"
    rows: int = Field(description="data rows read")
    created: int = Field(description="experts nominated (status applied)")
    rejected: int = Field(0, description="always 0: a file with a bad row imports nothing (422)")
    committed: bool = True
    experts: list[ExpertOut] = Field(description="the experts nominated, in the order of the rows")
