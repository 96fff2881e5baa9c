"""The competent department's matching funds live beside the sealed content, not in it.

A recommendation used to overwrite the applicant's own matching funds, which changed the sealed
content and made the pledge and the endorsement read invalid. Existing rows get the amount back
from their recommendation seal and the applicant's figure back from the submitted version.

Revision ID: 5b1e7c9d3a42
Revises: 6f3b0d2e8c51
Create Date: 2026-12-02 12:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5b1e7c9d3a42"
down_revision: str | None = "6f3b0d2e8c51"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("applications", sa.Column("recommended_matching_fund_fen", sa.BigInteger(), nullable=True))
    op.execute(
        """
        UPDATE applications a
           SET recommended_matching_fund_fen = (s.statement ->> 'matching_fund_fen')::bigint,
               matching_fund_fen = COALESCE((v.content ->> 'matching_fund_fen')::bigint, 0)
          FROM seals s, application_versions v
         WHERE s.application_id = a.id AND s.kind = 'recommendation' AND s.revision = a.revision
           AND v.application_id = a.id AND v.revision = a.revision
        """
    )


def downgrade() -> None:
    op.drop_column("applications", "recommended_matching_fund_fen")
