"""Kit: writes sent with an Idempotency-Key keep their answer, stored with the change.

Revision ID: 3bb3fcc6fc0e
Revises: a3b7d1f5c9e2
Create Date: 2026-12-02 19:10:00
"""

from collections.abc import Sequence

from shared.kit_migrations import downgrade_kit_idempotency, upgrade_kit_idempotency

revision: str = "3bb3fcc6fc0e"
down_revision: str | None = "a3b7d1f5c9e2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    upgrade_kit_idempotency()


def downgrade() -> None:
    downgrade_kit_idempotency()
