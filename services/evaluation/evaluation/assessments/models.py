"""Registry's platforms and clusters as evaluation knows them (registry.platform.*, registry.cluster.*)."""

from __future__ import annotations

from uuid import UUID

from sqlalchemy import Integer, String, Uuid
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from evaluation.db import Base


class PlatformView(Base):
    """A platform's name, kind, state, host unit and director: enough to list and to apply 回避."""

    __tablename__ = "platforms"

    id: Mapped[UUID] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(40))
    state: Mapped[str] = mapped_column(String(30))
    host_unit_id: Mapped[UUID] = mapped_column(Uuid)
    co_builder_unit_ids: Mapped[list[UUID]] = mapped_column(ARRAY(Uuid))
    field: Mapped[str] = mapped_column(String(40))
    sub_field: Mapped[str] = mapped_column(String(100))
    region: Mapped[str] = mapped_column(String(6))
    director_person_id: Mapped[UUID | None] = mapped_column(Uuid)
    version: Mapped[int] = mapped_column(Integer)


class ClusterView(Base):
    __tablename__ = "clusters"

    id: Mapped[UUID] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    state: Mapped[str] = mapped_column(String(30))
    version: Mapped[int] = mapped_column(Integer)
