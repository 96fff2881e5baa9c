"""包干制: a call may fund a lump sum, a budget without categories (basic research).

Revision ID: d4f8b2c6e9a1
Revises: c1e5a9d3f7b4
Create Date: 2026-12-02 14:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "d4f8b2c6e9a1"
down_revision: str | None = "c1e5a9d3f7b4"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "calls", sa.Column("budget_form", sa.String(length=20), server_default="categories", nullable=False)
    )


def downgrade() -> None:
    op.drop_column("calls", "budget_form")
