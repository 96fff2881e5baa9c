"""Reviewers' integrity and confidentiality pledge (诚信和保密承诺), one per expert and round.

Revision ID: a4d6f8b0c2e5
Revises: 9262e645ff85
Create Date: 2026-12-03 07:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "a4d6f8b0c2e5"
down_revision: str | None = "9262e645ff85"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "review_pledges",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("round_id", sa.Uuid(), nullable=False),
        sa.Column("expert_id", sa.Uuid(), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("signed_by", sa.String(length=100), nullable=False),
        sa.Column("text_version", sa.String(length=20), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["round_id"], ["review_rounds.id"], name=op.f("fk_review_pledges_round_id_review_rounds")
        ),
        sa.ForeignKeyConstraint(
            ["expert_id"], ["experts.id"], name=op.f("fk_review_pledges_expert_id_experts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_pledges")),
        sa.UniqueConstraint("round_id", "expert_id", name="uq_review_pledges_round_expert"),
    )
    op.create_index(op.f("ix_review_pledges_round_id"), "review_pledges", ["round_id"], unique=False)
    op.create_index(op.f("ix_review_pledges_expert_id"), "review_pledges", ["expert_id"], unique=False)


def downgrade() -> None:
    op.drop_table("review_pledges")
