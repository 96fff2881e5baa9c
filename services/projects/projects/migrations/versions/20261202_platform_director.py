"""Projects' copy of a platform keeps its director (registry's director_person_id), so that the
lab's director may list the lab's projects.

Revision ID: 4e9b2c7a1d53
Revises: 3bb3fcc6fc0e
Create Date: 2026-12-02 20:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "4e9b2c7a1d53"
down_revision: str | None = "3bb3fcc6fc0e"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("platforms", sa.Column("director_person_id", sa.Uuid(), nullable=True))


def downgrade() -> None:
    op.drop_column("platforms", "director_person_id")
