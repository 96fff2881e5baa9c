"""A competent department's grant carries the 盟市 it acts for (scopes.regions).

Revision ID: 5d1e7a9c3b48
Revises: cf2bb066fd8d
Create Date: 2026-12-03 06:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "5d1e7a9c3b48"
down_revision: str | None = "cf2bb066fd8d"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "role_grants",
        sa.Column(
            "regions",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default="[]",
            nullable=False,
            comment="competent department (盟市科技局): the 盟市 division codes it acts for",
        ),
    )


def downgrade() -> None:
    op.drop_column("role_grants", "regions")
