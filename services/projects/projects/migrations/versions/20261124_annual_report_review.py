"""Annual reports are reviewed by staff: accepted, or returned for the lead to submit again.

Revision ID: f2b6d9a4c731
Revises: e3a7c2d85b41
Create Date: 2026-11-23 11:28:38.547469
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "f2b6d9a4c731"
down_revision: str | None = "e3a7c2d85b41"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "annual_reports",
        sa.Column("state", sa.String(length=20), server_default="submitted", nullable=False),
    )
    op.add_column("annual_reports", sa.Column("reviewed_by", sa.String(length=100), nullable=True))
    op.add_column("annual_reports", sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("annual_reports", sa.Column("review_comments", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("annual_reports", "review_comments")
    op.drop_column("annual_reports", "reviewed_at")
    op.drop_column("annual_reports", "reviewed_by")
    op.drop_column("annual_reports", "state")
