"""event kit

Revision ID: 1361aa0a8802
Revises:
Create Date: 2026-11-23 07:24:51.985654
"""

from collections.abc import Sequence

from shared.kit_migrations import downgrade_kit_v1, upgrade_kit_v1

revision: str = "1361aa0a8802"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    upgrade_kit_v1()


def downgrade() -> None:
    downgrade_kit_v1()
