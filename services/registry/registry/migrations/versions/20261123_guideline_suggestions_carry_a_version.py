"""guideline suggestions carry a version

Revision ID: d5a7c9e1f354
Revises: c3e5a7b92d43
Create Date: 2026-11-23 10:52:03.457856
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "d5a7c9e1f354"
down_revision: str | None = "c3e5a7b92d43"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "guideline_suggestions", sa.Column("version", sa.Integer(), server_default="1", nullable=False)
    )
    op.add_column("guideline_suggestions", sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.drop_column("guideline_suggestions", "updated_at")
    op.drop_column("guideline_suggestions", "version")
