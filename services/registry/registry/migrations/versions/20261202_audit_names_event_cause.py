"""audit rows name the event a step was applied from and that event's original actor (kit)

Revision ID: 3e7a9c1d5b24
Revises: 8c1e4b7d2a90
Create Date: 2026-12-02 13:40:00
"""

from collections.abc import Sequence

from shared.kit_migrations import downgrade_kit_audit_cause, upgrade_kit_audit_cause

revision: str = "3e7a9c1d5b24"
down_revision: str | None = "8c1e4b7d2a90"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    upgrade_kit_audit_cause()


def downgrade() -> None:
    downgrade_kit_audit_cause()
