"""candidates per item, a round setting of the sparse assignment

Revision ID: e5a1d3c7f920
Revises: c4d2f6b8e013
Create Date: 2026-12-02 12:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "e5a1d3c7f920"
down_revision: str | None = "c4d2f6b8e013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "review_rounds",
        sa.Column("candidates_per_item", sa.Integer(), server_default=sa.text("100"), nullable=False),
    )


def downgrade() -> None:
    op.drop_column("review_rounds", "candidates_per_item")
