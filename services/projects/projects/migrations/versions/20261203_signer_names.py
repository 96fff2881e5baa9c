"""A seal and a step keep the signer's name as the token gave it when they signed, so the printed
申报书 shows who signed by name, not by account id (a later rename does not rewrite a signature).

Revision ID: 7d1f3a9c2b64
Revises: 9c3e5a7b1f42
Create Date: 2026-12-03 06:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "7d1f3a9c2b64"
down_revision: str | None = "9c3e5a7b1f42"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("seals", sa.Column("actor_name", sa.String(length=200), nullable=True))
    op.add_column("application_steps", sa.Column("actor_name", sa.String(length=200), nullable=True))


def downgrade() -> None:
    op.drop_column("application_steps", "actor_name")
    op.drop_column("seals", "actor_name")
