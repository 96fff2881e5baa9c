"""Event kit v2: the outbox no longer notifies on insert (the relay is woken in its process).

Revision ID: 8b5d2f4a0e73
Revises: 6d2f8b4a0e17
Create Date: 2026-12-02 13:00:00
"""

from collections.abc import Sequence

from shared.kit_migrations import downgrade_kit_v2, upgrade_kit_v2

revision: str = "8b5d2f4a0e73"
down_revision: str | None = "6d2f8b4a0e17"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    upgrade_kit_v2()


def downgrade() -> None:
    downgrade_kit_v2()
