from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, DateTime, Integer, String
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from projects.db import Base
from shared.clock import utcnow


class Programme(Base):
    """A special programme (专项) of one of the five plan categories: data staff edit."""

    __tablename__ = "programmes"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    plan_category: Mapped[str] = mapped_column(String(30), index=True)
    organisation_modes: Mapped[list[str]] = mapped_column(JSONB)
    funding_source: Mapped[str] = mapped_column(String(100))
    funding_types: Mapped[list[str]] = mapped_column(JSONB)
    managing_office: Mapped[str] = mapped_column(String(100))
    # Who applies (seed APPLICANT_FORMS): any eligible unit, or an enterprise-led 创新联合体.
    applicant_form: Mapped[str] = mapped_column(String(40), server_default="any", default="any")
    long_cycle_allowed: Mapped[bool] = mapped_column(Boolean, server_default="false", default=False)  # 长周期
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "name": self.name,
            "plan_category": self.plan_category,
            "organisation_modes": list(self.organisation_modes),
            "funding_source": self.funding_source,
            "funding_types": list(self.funding_types),
            "managing_office": self.managing_office,
            "applicant_form": self.applicant_form,
            "long_cycle_allowed": self.long_cycle_allowed,
            "active": self.active,
            "version": self.version,
        }
