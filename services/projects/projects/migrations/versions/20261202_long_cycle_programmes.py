"""长周期: the programmes that may fund 5–10-year projects (seed 004: basic research pilots).

Revision ID: 9a5c3e7b2d61
Revises: 6e4b8d1f9a27
Create Date: 2026-12-02 13:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "9a5c3e7b2d61"
down_revision: str | None = "6e4b8d1f9a27"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "programmes",
        sa.Column("long_cycle_allowed", sa.Boolean(), server_default="false", nullable=False),
    )
    op.execute(
        "UPDATE programmes SET long_cycle_allowed = true WHERE code IN ('basic.nsf', 'basic.joint_fund')"
    )


def downgrade() -> None:
    op.drop_column("programmes", "long_cycle_allowed")
