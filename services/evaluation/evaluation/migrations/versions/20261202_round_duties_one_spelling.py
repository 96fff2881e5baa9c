"""round duties (separation of duties per round); one spelling: finalized

Revision ID: 9b2f4d6a8c31
Revises: 8a4c6e2b0d59
Create Date: 2026-12-02 13:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "9b2f4d6a8c31"
down_revision: str | None = "8a4c6e2b0d59"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# audit actions renamed with the spelling (the rows stay, only the word changes)
ACTIONS = (("round_finalised", "round_finalized"), ("assessment_finalised", "assessment_finalized"))


def upgrade() -> None:
    op.create_table(
        "round_duties",
        sa.Column("round_id", sa.Uuid(), nullable=False),
        sa.Column("duty", sa.String(length=20), nullable=False),
        sa.Column("actor_id", sa.String(length=100), nullable=False),
        sa.Column("first_action", sa.String(length=50), nullable=False),
        sa.Column("acted_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["round_id"], ["review_rounds.id"], name=op.f("fk_round_duties_round_id_review_rounds")
        ),
        sa.PrimaryKeyConstraint("round_id", "duty", "actor_id", name=op.f("pk_round_duties")),
    )
    op.alter_column("review_results", "finalised_by", new_column_name="finalized_by")
    op.alter_column("review_results", "finalised_at", new_column_name="finalized_at")
    op.execute("UPDATE review_rounds SET status = 'finalized' WHERE status = 'finalised'")
    for old, new in ACTIONS:
        op.execute(
            sa.text("UPDATE audit_log SET action = :new WHERE action = :old").bindparams(old=old, new=new)
        )


def downgrade() -> None:
    for old, new in ACTIONS:
        op.execute(
            sa.text("UPDATE audit_log SET action = :old WHERE action = :new").bindparams(old=old, new=new)
        )
    op.execute("UPDATE review_rounds SET status = 'finalised' WHERE status = 'finalized'")
    op.alter_column("review_results", "finalized_at", new_column_name="finalised_at")
    op.alter_column("review_results", "finalized_by", new_column_name="finalised_by")
    op.drop_table("round_duties")
