from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import DateTime, Integer, String
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from projects.db import Base
from shared.clock import utcnow


class PlatformView(Base):
    """Projects' own copy of registry's platforms (key labs, centres …), fed only by its events."""

    __tablename__ = "platforms"

    id: Mapped[UUID] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(40))
    state: Mapped[str] = mapped_column(String(30))
    host_unit_id: Mapped[UUID] = mapped_column(index=True)
    co_builder_unit_ids: Mapped[list[str]] = mapped_column(JSONB, default=list)
    field: Mapped[str] = mapped_column(String(40), default="")
    director_person_id: Mapped[UUID | None] = mapped_column(nullable=True)
    version: Mapped[int] = mapped_column(Integer)
    synced_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
