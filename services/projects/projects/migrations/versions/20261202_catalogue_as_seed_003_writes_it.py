"""The catalogue as seed 003 writes it: every organisation mode per programme, who applies
(an enterprise-led 创新联合体 for 重点产业链专项), and the consortium on the application.

A programme nobody has edited yet (version 1) takes the seed's modes exactly; one staff have
edited keeps its modes and gains the seed's missing ones. Calls already made are not touched.

Revision ID: 8c2f4a6e1b93
Revises: 5b1e7c9d3a42
Create Date: 2026-12-02 13:00:00
"""

import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "8c2f4a6e1b93"
down_revision: str | None = "5b1e7c9d3a42"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen here (projects.catalogue.seed.MODE_BASIS, as of this revision).
SEED_MODES = {
    "major.breakthrough": ["unveiling", "horse_race", "directed", "case_by_case"],
    "major.central_local": ["central_local"],
    "major.demonstration": ["unveiling", "horse_race", "directed"],
    "rd.key_rd_transfer": ["open_competition", "unveiling", "horse_race", "directed"],
    "rd.industrial_chain": ["unveiling", "directed"],
    "platform.national_cultivation": ["directed", "stable_support"],
    "platform.regional_capacity": ["stable_support", "post_subsidy"],
    "capacity.strategy": ["directed", "open_competition"],
    "capacity.talent": ["stable_support", "open_competition"],
    "capacity.cooperation": ["open_competition", "case_by_case"],
    "capacity.policy_guidance": ["post_subsidy"],
    "basic.nsf": ["open_competition"],
    "basic.joint_fund": ["open_competition"],
    "basic.research_conditions": ["open_competition", "post_subsidy"],
}


def upgrade() -> None:
    op.add_column(
        "programmes", sa.Column("applicant_form", sa.String(length=40), server_default="any", nullable=False)
    )
    op.add_column(
        "applications",
        sa.Column("consortium", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    )
    op.execute(
        "UPDATE programmes SET applicant_form = 'enterprise_led_consortium' WHERE code = 'rd.industrial_chain'"
    )
    conn = op.get_bind()
    rows = conn.execute(sa.text("SELECT code, organisation_modes, version FROM programmes")).all()
    for code, modes, version in rows:
        seed = SEED_MODES.get(code)
        if seed is None:
            continue
        new = seed if version == 1 else list(modes) + [m for m in seed if m not in modes]
        if new != list(modes):
            conn.execute(
                sa.text("UPDATE programmes SET organisation_modes = CAST(:m AS jsonb) WHERE code = :c"),
                {"m": json.dumps(new), "c": code},
            )


def downgrade() -> None:
    op.drop_column("applications", "consortium")
    op.drop_column("programmes", "applicant_form")
