"""People: the department (院系/部门) within their unit.

Revision ID: e6b8d0f2a465
Revises: d5a7c9e1f354
Create Date: 2026-11-23 11:13:47.349629
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "e6b8d0f2a465"
down_revision: str | None = "d5a7c9e1f354"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("people", sa.Column("department", sa.String(length=100), nullable=True))


def downgrade() -> None:
    op.drop_column("people", "department")
