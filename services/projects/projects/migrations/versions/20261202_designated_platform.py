"""定向委托 to a platform: a designation may name the key lab it entrusts.

Revision ID: a3b7d1f5c9e2
Revises: f2c6e0a4d8b5
Create Date: 2026-12-02 14:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "a3b7d1f5c9e2"
down_revision: str | None = "f2c6e0a4d8b5"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("designations", sa.Column("platform_id", sa.Uuid(), nullable=True))


def downgrade() -> None:
    op.drop_column("designations", "platform_id")
