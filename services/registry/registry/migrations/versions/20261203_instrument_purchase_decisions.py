"""An instrument's record carries its purchase review's outcome; a changed category or model
can be reviewed again (新购大型科研仪器查重评议, seed 001).

``instruments.purchase_review_state`` says where the instrument's latest review stands
(``pending``, ``approved``, ``not_approved``; empty when it was never reviewed). An instrument
may now have more than one review: a decided one for its old category or model and a new one
after the registration was corrected.

Revision ID: 8b3d5f7a9c14
Revises: 3f6a8c1e9b27
Create Date: 2026-12-03 07:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "8b3d5f7a9c14"
down_revision: str | None = "3f6a8c1e9b27"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("instruments", sa.Column("purchase_review_state", sa.String(length=20), nullable=True))
    op.create_check_constraint(
        op.f("ck_instruments_purchase_review_state"),
        "instruments",
        "purchase_review_state IS NULL OR purchase_review_state IN ('pending', 'approved', 'not_approved')",
    )
    op.execute(
        "UPDATE instruments SET purchase_review_state = r.state "
        "FROM instrument_purchase_reviews r WHERE r.instrument_id = instruments.id"
    )
    op.drop_constraint(
        op.f("uq_instrument_purchase_reviews_instrument_id"), "instrument_purchase_reviews", type_="unique"
    )
    op.create_index(
        op.f("ix_instrument_purchase_reviews_instrument_id"),
        "instrument_purchase_reviews",
        ["instrument_id"],
        unique=False,
    )


def downgrade() -> None:
    op.execute(
        "DELETE FROM instrument_purchase_reviews r USING instrument_purchase_reviews newer "
        "WHERE newer.instrument_id = r.instrument_id AND newer.opened_at > r.opened_at"
    )
    op.drop_index(
        op.f("ix_instrument_purchase_reviews_instrument_id"), table_name="instrument_purchase_reviews"
    )
    op.create_unique_constraint(
        op.f("uq_instrument_purchase_reviews_instrument_id"), "instrument_purchase_reviews", ["instrument_id"]
    )
    op.drop_constraint(op.f("ck_instruments_purchase_review_state"), "instruments", type_="check")
    op.drop_column("instruments", "purchase_review_state")
