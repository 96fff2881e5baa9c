from __future__ import annotations

from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from shared.timestamps import Timestamp


class PledgeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    accepted: Literal[True] = Field(description="the expert accepts the pledge's text (must be true)")
    text_version: str | None = Field(
        None, max_length=20, description="the version of the text the expert read; refused if outdated"
    )


class PledgeOut(BaseModel):
    round_id: UUID
    signed: bool
    signed_at: Timestamp | None
    text_version: str
    text: str


class SignedPledgeOut(BaseModel):
    """One signed pledge, as the review office reads it."""

    round_id: UUID
    expert_id: UUID
    expert_name: str
    text_version: str
    signed_at: Timestamp
