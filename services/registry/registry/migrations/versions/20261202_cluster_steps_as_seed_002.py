"""cluster build steps as seed 002 has them: step 3 selects service organisations

Step 3 was member recruitment (成员征集); in seed 002 it is 选择服务机构. Clusters standing in
the old ``recruitment`` state are at the same place of the procedure and move to
``service_organisations``; their members stay as they are. The intent's 组建工作计划 gets its
own column (empty for clusters proposed before it was asked for).

Revision ID: 9d4f2b6e8a13
Revises: 7c9e1b3d5f42
Create Date: 2026-12-02 14:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "9d4f2b6e8a13"
down_revision: str | None = "7c9e1b3d5f42"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("clusters", sa.Column("work_plan", sa.Text(), nullable=True))
    op.execute("UPDATE clusters SET state = 'service_organisations' WHERE state = 'recruitment'")


def downgrade() -> None:
    op.execute("UPDATE clusters SET state = 'recruitment' WHERE state = 'service_organisations'")
    op.drop_column("clusters", "work_plan")
