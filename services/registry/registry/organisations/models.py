from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import CheckConstraint, DateTime, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from registry.codes import OrganisationType, Region
from registry.db import Base
from shared.clock import utcnow
from shared.ids import uuid7


def _in(column: str, values: list[str]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Organisation(Base):
    """A unit (单位), identified by its 18-character unified social credit code."""

    __tablename__ = "organisations"
    __table_args__ = (
        CheckConstraint(_in("type", [t.value for t in OrganisationType]), name="type"),
        CheckConstraint(_in("region", [r.value for r in Region]), name="region"),
        Index("ix_organisations_region_type", "region", "type"),
        Index("ix_organisations_name", "name"),
    )

    id: Mapped[UUID] = mapped_column(primary_key=True, default=uuid7)
    name: Mapped[str] = mapped_column(String(200))
    credit_code: Mapped[str] = mapped_column(String(18), unique=True)
    type: Mapped[str] = mapped_column(String(30))
    region: Mapped[str] = mapped_column(String(6))
    address: Mapped[str] = mapped_column(String(300))
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)
    created_by: Mapped[str] = mapped_column(String(100))
    updated_by: Mapped[str] = mapped_column(String(100))
