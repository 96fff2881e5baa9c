"""滚动支持 / 容错继续支持: an application may follow on from an earlier project.

Revision ID: e8a1c5f3b7d2
Revises: d4f8b2c6e9a1
Create Date: 2026-12-02 14:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "e8a1c5f3b7d2"
down_revision: str | None = "d4f8b2c6e9a1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "applications", sa.Column("follow_on", postgresql.JSONB(astext_type=sa.Text()), nullable=True)
    )


def downgrade() -> None:
    op.drop_column("applications", "follow_on")
