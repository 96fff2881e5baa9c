from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Computed,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from registry.db import Base
from registry.people import identity
from shared.clock import utcnow
from shared.ids import uuid7


class Person(Base):
    """A researcher, director or expert known to the department (人员).

    The resident ID number is stored encrypted (``id_number_ciphertext``, AES-GCM) and found by a
    keyed digest (``id_number_hmac``); department staff see it, everyone else sees it masked, and
    other services only ever get its SHA-256 digest (``id_number_digest``) in events.
    """

    __tablename__ = "people"
    __table_args__ = (
        CheckConstraint("gender IN ('male', 'female')", name="gender"),
        Index("ix_people_name", "name"),
        # Part-of-name search (q=…): the query's character pairs among the name's (GIN).
        Index(
            "ix_people_name_bigrams",
            "name_bigrams",
            postgresql_using="gin",
            postgresql_with={"fastupdate": "off"},
        ),
        Index("ix_people_unit_id_name", "unit_id", "name"),
    )

    id: Mapped[UUID] = mapped_column(primary_key=True, default=uuid7)
    name: Mapped[str] = mapped_column(String(100))
    gender: Mapped[str] = mapped_column(String(6))
    birth_date: Mapped[date] = mapped_column(Date)
    id_number_ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    id_number_hmac: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str | None] = mapped_column(String(40))
    discipline: Mapped[str | None] = mapped_column(String(100))
    department: Mapped[str | None] = mapped_column(String(100))  # 院系/部门 within the unit
    unit_id: Mapped[UUID | None] = mapped_column(ForeignKey("organisations.id"))
    full_time: Mapped[bool] = mapped_column(Boolean, default=True)
    phone: Mapped[str | None] = mapped_column(String(30))
    email: Mapped[str | None] = mapped_column(String(200))
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)
    created_by: Mapped[str] = mapped_column(String(100))
    updated_by: Mapped[str] = mapped_column(String(100))
    # For the part-of-name search only; never loaded with the row.
    name_bigrams: Mapped[list[str]] = mapped_column(
        ARRAY(Text), Computed("registry_bigrams((name)::text)", persisted=True), deferred=True
    )

    @property
    def id_number(self) -> str:
        """The number in clear (decrypted on demand; never stored so)."""
        return identity.decrypt(self.id_number_ciphertext)

    @property
    def id_number_digest(self) -> str:
        return identity.digest(self.id_number)

    def set_id_number(self, number: str) -> None:
        self.id_number_ciphertext = identity.encrypt(number)
        self.id_number_hmac = identity.lookup_digest(number)
