from __future__ import annotations

from datetime import date
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from registry.reference import INSTRUMENT_CATEGORIES, InstrumentCategoryCode
from registry.sharing.models import Instrument, OpenTopic

Category = InstrumentCategoryCode


class InstrumentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    platform_id: UUID | None = None
    owner_unit_id: UUID
    name: str = Field(min_length=2, max_length=200, description="仪器名称")
    category: Category = Field(description="仪器类别")
    model: str | None = Field(default=None, max_length=100, description="型号")
    value_fen: int = Field(ge=0, le=10**14, description="原值（分）")
    location: str | None = Field(default=None, max_length=200)
    open_for_sharing: bool = True
    booking_contact: str | None = Field(default=None, max_length=100)
    annual_service_hours: int = Field(default=0, ge=0, le=8784)


class InstrumentOut(InstrumentIn):
    model_config = ConfigDict(from_attributes=True, extra="ignore")

    id: UUID
    category_zh: str = ""
    status: str
    status_zh: str = ""
    retired_on: date | None
    retirement_reason: str | None
    version: int

    @classmethod
    def of(cls, i: Instrument) -> InstrumentOut:
        out = cls.model_validate(i)
        return out.model_copy(
            update={
                "category_zh": INSTRUMENT_CATEGORIES[i.category],
                "status_zh": INSTRUMENT_STATUS[i.status],
            }
        )


INSTRUMENT_STATUS = {"in_service": "在用", "retired": "已报废/调出"}


class InstrumentUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=2, max_length=200)
    model: str | None = Field(default=None, max_length=100)
    value_fen: int | None = Field(default=None, ge=0, le=10**14)
    location: str | None = Field(default=None, max_length=200)
    open_for_sharing: bool | None = None
    booking_contact: str | None = Field(default=None, max_length=100)
    annual_service_hours: int | None = Field(default=None, ge=0, le=8784)
    reason: str | None = Field(default=None, max_length=500)


class InstrumentRetire(BaseModel):
    """报废/调出: the instrument leaves the sharing register; its record and history stay."""

    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=2, max_length=500, description="理由（报废、调拨等）")
    retired_on: date | None = Field(default=None, description="报废/调出日期（默认今天）")


class TopicIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    platform_id: UUID
    year: int = Field(ge=2000, le=2100)
    title: str = Field(min_length=4, max_length=300, description="课题名称")
    principal_name: str | None = Field(default=None, max_length=100)
    principal_unit: str | None = Field(default=None, max_length=200)
    funding_fen: int = Field(default=0, ge=0, le=10**14)
    summary: str | None = Field(default=None, max_length=4000)


class TopicUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    year: int | None = Field(default=None, ge=2000, le=2100)
    title: str | None = Field(default=None, min_length=4, max_length=300)
    principal_name: str | None = Field(default=None, max_length=100)
    principal_unit: str | None = Field(default=None, max_length=200)
    funding_fen: int | None = Field(default=None, ge=0, le=10**14)
    summary: str | None = Field(default=None, max_length=4000)
    reason: str | None = Field(default=None, max_length=500)


class TopicClose(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str | None = Field(default=None, max_length=500)


class TopicOut(TopicIn):
    model_config = ConfigDict(from_attributes=True, extra="ignore")

    id: UUID
    status: str
    version: int

    @classmethod
    def of(cls, t: OpenTopic) -> TopicOut:
        return cls.model_validate(t)
