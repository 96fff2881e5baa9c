"""科技报告: the project's S&T report, a deliverable of acceptance.

Revision ID: b7d2f4a8c390
Revises: 9a5c3e7b2d61
Create Date: 2026-12-02 13:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "b7d2f4a8c390"
down_revision: str | None = "9a5c3e7b2d61"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("projects", sa.Column("st_report", postgresql.JSONB(astext_type=sa.Text()), nullable=True))


def downgrade() -> None:
    op.drop_column("projects", "st_report")
