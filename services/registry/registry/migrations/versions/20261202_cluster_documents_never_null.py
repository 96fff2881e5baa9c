"""cluster documents are never a JSON null

Rows saved while the API still let ``null`` through for a cluster's lists and documents made
every read of the register fail; they are repaired to the empty value, and check constraints
keep the database from holding them again.

Revision ID: 8c1e4b7d2a90
Revises: e6b8d0f2a465
Create Date: 2026-12-02 12:50:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "8c1e4b7d2a90"
down_revision: str | None = "e6b8d0f2a465"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DOCUMENT_KINDS = {
    "lead_platform_ids": "array",
    "vice_directors": "array",
    "expert_committee": "object",
    "member_units": "array",
    "secretariat": "object",
    "service_organisations": "array",
    "required_measures": "array",
}


def upgrade() -> None:
    for column, kind in DOCUMENT_KINDS.items():
        empty = "'[]'::jsonb" if kind == "array" else "'{}'::jsonb"
        op.execute(
            f"UPDATE clusters SET {column} = {empty} "  # noqa: S608 - names from the table above
            f"WHERE {column} IS NULL OR jsonb_typeof({column}) <> '{kind}'"
        )
        op.create_check_constraint(
            op.f(f"ck_clusters_{column}_is_{kind}"), "clusters", f"jsonb_typeof({column}) = '{kind}'"
        )
    # A director saved as a JSON null reads as no director, as SQL NULL does.
    op.execute("UPDATE clusters SET director = NULL WHERE jsonb_typeof(director) <> 'object'")
    # Nulls inside the lists (e.g. [null]) are dropped from each list.
    for column, kind in DOCUMENT_KINDS.items():
        if kind == "array" and column not in ("lead_platform_ids", "required_measures"):
            op.execute(
                f"UPDATE clusters SET {column} = COALESCE("  # noqa: S608
                f"(SELECT jsonb_agg(e) FROM jsonb_array_elements({column}) e "
                f"WHERE jsonb_typeof(e) = 'object'), '[]'::jsonb) "
                f"WHERE EXISTS (SELECT 1 FROM jsonb_array_elements({column}) e "
                f"WHERE jsonb_typeof(e) <> 'object')"
            )


def downgrade() -> None:
    for column, kind in DOCUMENT_KINDS.items():
        op.drop_constraint(op.f(f"ck_clusters_{column}_is_{kind}"), "clusters", type_="check")
