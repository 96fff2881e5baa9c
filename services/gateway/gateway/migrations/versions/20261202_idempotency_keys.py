"""Kit: writes sent with an Idempotency-Key keep their answer, stored with the change.

Revision ID: cf2bb066fd8d
Revises: 7c2d9e41a5b3
Create Date: 2026-12-02 19:10:00
"""

from collections.abc import Sequence

from shared.kit_migrations import downgrade_kit_idempotency, upgrade_kit_idempotency

revision: str = "cf2bb066fd8d"
down_revision: str | None = "7c2d9e41a5b3"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    upgrade_kit_idempotency()


def downgrade() -> None:
    downgrade_kit_idempotency()
