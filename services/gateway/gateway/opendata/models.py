"""The gateway's copy of public data (开放数据), fed by the services' events."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, Index, Integer, String, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from gateway.db import Base


class OpenDataRecord(Base):
    """Only the public fields of one object; ``updated_at`` is when it changed *here*, so that a
    partner syncing with ``updated_since`` never misses an event that arrived late."""

    __tablename__ = "open_data_records"
    __table_args__ = (Index("ix_open_data_records_kind_updated_at", "kind", "updated_at", "id"),)

    kind: Mapped[str] = mapped_column(String(40), primary_key=True)
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSONB)
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
