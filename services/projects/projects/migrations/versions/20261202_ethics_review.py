"""科研伦理: an application records its ethics review where the call requires it.

Revision ID: 3d7a9e2c5f18
Revises: 8c2f4a6e1b93
Create Date: 2026-12-02 13:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "3d7a9e2c5f18"
down_revision: str | None = "8c2f4a6e1b93"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "applications", sa.Column("ethics_review", postgresql.JSONB(astext_type=sa.Text()), nullable=True)
    )


def downgrade() -> None:
    op.drop_column("applications", "ethics_review")
