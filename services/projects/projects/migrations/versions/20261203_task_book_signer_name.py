"""A signed task book (任务书) keeps the signer's name as it was when they signed, beside the
account id, so the task book shows who signed it by name (as seals do, 7d1f3a9c2b64). Task books
signed before keep no name: they show the account id marked 〔未知〕.

Revision ID: 4b8e2c6a1d93
Revises: 7d1f3a9c2b64
Create Date: 2026-12-03 07:05:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "4b8e2c6a1d93"
down_revision: str | None = "7d1f3a9c2b64"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("task_books", sa.Column("signed_by_name", sa.String(length=200), nullable=True))


def downgrade() -> None:
    op.drop_column("task_books", "signed_by_name")
