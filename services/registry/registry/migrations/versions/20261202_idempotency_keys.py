"""Kit: writes sent with an Idempotency-Key keep their answer, stored with the change.

Revision ID: 942d51e4f539
Revises: 4b8e1c3f7a26
Create Date: 2026-12-02 19:10:00
"""

from collections.abc import Sequence

from shared.kit_migrations import downgrade_kit_idempotency, upgrade_kit_idempotency

revision: str = "942d51e4f539"
down_revision: str | None = "4b8e1c3f7a26"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    upgrade_kit_idempotency()


def downgrade() -> None:
    downgrade_kit_idempotency()
