"""诚信和保密承诺: one signed pledge per expert and round, with the text as it was signed."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import DateTime, ForeignKey, String, Text, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from evaluation.db import Base
from shared.clock import utcnow
from shared.ids import uuid7


class ReviewPledge(Base):
    __tablename__ = "review_pledges"
    __table_args__ = (UniqueConstraint("round_id", "expert_id", name="uq_review_pledges_round_expert"),)

    id: Mapped[UUID] = mapped_column(primary_key=True, default=uuid7)
    round_id: Mapped[UUID] = mapped_column(ForeignKey("review_rounds.id"), index=True)
    expert_id: Mapped[UUID] = mapped_column(ForeignKey("experts.id"), index=True)
    person_id: Mapped[UUID] = mapped_column(Uuid)
    signed_by: Mapped[str] = mapped_column(String(100))  # the account that signed
    text_version: Mapped[str] = mapped_column(String(20))
    text: Mapped[str] = mapped_column(Text)  # the words signed, kept even if the text changes later
    signed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
