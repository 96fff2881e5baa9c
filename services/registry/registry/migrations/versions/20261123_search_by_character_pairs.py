"""substring search by character pairs: people's names; platforms' names, codes, directions

``registry_bigrams`` lists a text's distinct character pairs (lower-cased); generated columns
keep them per row under GIN indexes, so ``q=稀土永磁`` finds its rows by index under any
database locale (pg_trgm ignores Chinese characters under the C locale).

Revision ID: c3e5a7b92d43
Revises: b2d4f6a81c32
Create Date: 2026-11-23 10:46:50.774565
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "c3e5a7b92d43"
down_revision: str | None = "b2d4f6a81c32"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


BIGRAMS_FUNCTION = """
CREATE FUNCTION registry_bigrams(value text) RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT coalesce(array_agg(DISTINCT substr(lower(value), i, 2)), '{}'::text[])
    FROM generate_series(1, length(value) - 1) AS i
$$
"""


def upgrade() -> None:
    op.execute(BIGRAMS_FUNCTION)
    op.add_column(
        "people",
        sa.Column(
            "name_bigrams",
            postgresql.ARRAY(sa.Text()),
            sa.Computed("registry_bigrams((name)::text)", persisted=True),
            nullable=False,
        ),
    )
    op.create_index(
        "ix_people_name_bigrams",
        "people",
        ["name_bigrams"],
        unique=False,
        postgresql_using="gin",
        postgresql_with={"fastupdate": "off"},
    )
    op.add_column(
        "platforms",
        sa.Column(
            "search_text",
            sa.Text(),
            sa.Computed(
                "(((((name)::text || ' '::text) || (code)::text) || ' '::text) || (research_directions)::text)",
                persisted=True,
            ),
            nullable=False,
        ),
    )
    op.add_column(
        "platforms",
        sa.Column(
            "search_bigrams",
            postgresql.ARRAY(sa.Text()),
            sa.Computed(
                "registry_bigrams((((((name)::text || ' '::text) || (code)::text) || ' '::text) || (research_directions)::text))",
                persisted=True,
            ),
            nullable=False,
        ),
    )
    op.create_index(
        "ix_platforms_search_bigrams",
        "platforms",
        ["search_bigrams"],
        unique=False,
        postgresql_using="gin",
        postgresql_with={"fastupdate": "off"},
    )


def downgrade() -> None:
    op.drop_index("ix_platforms_search_bigrams", table_name="platforms", postgresql_using="gin")
    op.drop_column("platforms", "search_bigrams")
    op.drop_column("platforms", "search_text")
    op.drop_index("ix_people_name_bigrams", table_name="people", postgresql_using="gin")
    op.drop_column("people", "name_bigrams")
    op.execute("DROP FUNCTION registry_bigrams(text)")
