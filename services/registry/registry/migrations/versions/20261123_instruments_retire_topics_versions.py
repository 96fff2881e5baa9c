"""instruments can be retired; open topics carry a version

Revision ID: a1c3e5f70b21
Revises: 737e6a8905d1
Create Date: 2026-11-23 10:24:37.976281
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "a1c3e5f70b21"
down_revision: str | None = "737e6a8905d1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "instruments", sa.Column("status", sa.String(length=12), server_default="in_service", nullable=False)
    )
    op.add_column("instruments", sa.Column("retired_on", sa.Date(), nullable=True))
    op.add_column("instruments", sa.Column("retirement_reason", sa.Text(), nullable=True))
    op.add_column("instruments", sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True))
    op.create_check_constraint(
        op.f("ck_instruments_status"), "instruments", "status IN ('in_service', 'retired')"
    )
    op.add_column("open_topics", sa.Column("version", sa.Integer(), server_default="1", nullable=False))
    op.add_column("open_topics", sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.drop_column("open_topics", "updated_at")
    op.drop_column("open_topics", "version")
    op.drop_constraint(op.f("ck_instruments_status"), "instruments", type_="check")
    op.drop_column("instruments", "updated_at")
    op.drop_column("instruments", "retirement_reason")
    op.drop_column("instruments", "retired_on")
    op.drop_column("instruments", "status")
