from __future__ import annotations

from datetime import date
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from registry.codes import REGION_LABELS, Region
from registry.reference import INSTRUMENT_CATEGORIES, InstrumentCategoryCode
from registry.sharing.models import Instrument, InstrumentPurchaseReview, OpenTopic
from shared.timestamps import Timestamp

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
    purchase_review_state: Literal["pending", "approved", "not_approved"] | None = Field(
        default=None,
        description="新购查重评议: where the instrument's latest review stands; empty if never reviewed",
    )
    purchase_review_state_zh: str | None = None
    version: int

    @classmethod
    def of(cls, i: Instrument) -> InstrumentOut:
        out = cls.model_validate(i)
        return out.model_copy(
            update={
                "category_zh": INSTRUMENT_CATEGORIES[i.category],
                "status_zh": INSTRUMENT_STATUS[i.status],
                "purchase_review_state_zh": (
                    PURCHASE_REVIEW_STATES[i.purchase_review_state] if i.purchase_review_state else None
                ),
            }
        )


INSTRUMENT_STATUS = {"in_service": "在用", "retired": "已报废/调出"}


class InstrumentUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=2, max_length=200)
    category: Category | None = Field(
        default=None, description="仪器类别; a corrected category or model is checked for duplicates again"
    )
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


PURCHASE_REVIEW_STATES = {
    "pending": "待查重评议",
    "approved": "同意购置",
    "not_approved": "不同意购置（共享使用现有仪器）",
}
# The decision is the review's one step; a decided review is closed.
PURCHASE_REVIEW_ACTIONS: dict[str, list[str]] = {"pending": ["decide"], "approved": [], "not_approved": []}


class PurchaseEvidence(BaseModel):
    """An instrument already open for sharing in the same 盟市, as it stood when the review opened."""

    instrument_id: UUID
    name: str
    model: str | None
    owner_unit_id: UUID
    owner_unit_name: str
    platform_id: UUID | None
    location: str | None
    value_fen: int = Field(description="原值（分）")
    annual_service_hours: int
    booking_contact: str | None


class PurchaseReviewOut(BaseModel):
    """新购大型科研仪器查重评议: the new instrument, the instruments it duplicates, the decision."""

    id: UUID
    instrument_id: UUID
    instrument_name: str
    owner_unit_id: UUID
    value_fen: int = Field(description="新购仪器原值（分）")
    region: str
    region_zh: str
    category: str
    category_zh: str
    model: str
    evidence: list[PurchaseEvidence]
    state: str
    state_zh: str
    allowed_actions: list[str]
    decision_reason: str | None
    decided_by: str | None
    decided_at: Timestamp | None
    opened_at: Timestamp
    version: int

    @classmethod
    def of(cls, review: InstrumentPurchaseReview, instrument: Instrument) -> PurchaseReviewOut:
        return cls(
            id=review.id,
            instrument_id=instrument.id,
            instrument_name=instrument.name,
            owner_unit_id=instrument.owner_unit_id,
            value_fen=instrument.value_fen,
            region=review.region,
            region_zh=REGION_LABELS[Region(review.region)],
            category=review.category,
            category_zh=INSTRUMENT_CATEGORIES[review.category],
            model=review.model,
            evidence=[PurchaseEvidence.model_validate(e) for e in review.evidence],
            state=review.state,
            state_zh=PURCHASE_REVIEW_STATES[review.state],
            allowed_actions=PURCHASE_REVIEW_ACTIONS[review.state],
            decision_reason=review.decision_reason,
            decided_by=review.decided_by,
            decided_at=review.decided_at,
            opened_at=review.opened_at,
            version=review.version,
        )


class InstrumentRegisteredOut(InstrumentOut):
    purchase_review: PurchaseReviewOut | None = Field(
        default=None,
        description="查重评议: opened when an instrument of this category and model is already open "
        "for sharing in the owner's 盟市",
    )


class PurchaseDecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    outcome: Literal["approved", "not_approved"] = Field(
        description="approved 同意购置 / not_approved 不同意购置（共享使用现有仪器）"
    )
    reason: str = Field(min_length=2, max_length=2000, description="评议意见")
