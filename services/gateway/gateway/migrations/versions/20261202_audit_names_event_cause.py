"""audit rows name the event a step was applied from and that event's original actor (kit)

Revision ID: 6d2f8b4a0e17
Revises: 1eb8340caed0
Create Date: 2026-12-02 13:40:00
"""

from collections.abc import Sequence

from shared.kit_migrations import downgrade_kit_audit_cause, upgrade_kit_audit_cause

revision: str = "6d2f8b4a0e17"
down_revision: str | None = "1eb8340caed0"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    upgrade_kit_audit_cause()


def downgrade() -> None:
    downgrade_kit_audit_cause()
