"""people's ID numbers encrypted at rest, found by a keyed digest; platform code counters

Existing numbers are encrypted in place with the key of ``REGISTRY_ID_NUMBER_KEY`` (the
development key only when ``REGISTRY_ENVIRONMENT`` is local or test, its default being local);
downgrading decrypts them back with the same key.

Revision ID: b2d4f6a81c32
Revises: a1c3e5f70b21
Create Date: 2026-11-23 10:27:07.047100
"""

import os
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from registry.people import identity

revision: str = "b2d4f6a81c32"
down_revision: str | None = "a1c3e5f70b21"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _configure_keyring() -> None:
    key = os.environ.get("REGISTRY_ID_NUMBER_KEY")
    if key is None and os.environ.get("REGISTRY_ENVIRONMENT", "local") not in ("local", "test"):
        raise RuntimeError("REGISTRY_ID_NUMBER_KEY is required to encrypt the ID numbers already stored")
    identity.configure(
        identity.Keyring.from_master(identity.parse_master_key(key or identity.DEVELOPMENT_KEY))
    )


def upgrade() -> None:
    op.create_table(
        "platform_code_counters",
        sa.Column("prefix", sa.String(length=3), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("last_number", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("prefix", "year", name=op.f("pk_platform_code_counters")),
    )
    op.add_column("people", sa.Column("id_number_ciphertext", sa.LargeBinary(), nullable=True))
    op.add_column("people", sa.Column("id_number_hmac", sa.String(length=64), nullable=True))
    bind = op.get_bind()
    rows = bind.execute(sa.text("SELECT id, id_number FROM people")).all()
    if rows:
        _configure_keyring()
        bind.execute(
            sa.text("UPDATE people SET id_number_ciphertext = :c, id_number_hmac = :h WHERE id = :id"),
            [
                {"id": pid, "c": identity.encrypt(number), "h": identity.lookup_digest(number)}
                for pid, number in rows
            ],
        )
    op.alter_column("people", "id_number_ciphertext", nullable=False)
    op.alter_column("people", "id_number_hmac", nullable=False)
    op.drop_constraint(op.f("uq_people_id_number_digest"), "people", type_="unique")
    op.create_unique_constraint(op.f("uq_people_id_number_hmac"), "people", ["id_number_hmac"])
    op.drop_column("people", "id_number_digest")
    op.drop_column("people", "id_number")


def downgrade() -> None:
    op.add_column("people", sa.Column("id_number", sa.VARCHAR(length=18), nullable=True))
    op.add_column("people", sa.Column("id_number_digest", sa.VARCHAR(length=64), nullable=True))
    bind = op.get_bind()
    rows = bind.execute(sa.text("SELECT id, id_number_ciphertext FROM people")).all()
    if rows:
        _configure_keyring()
        clear = [(pid, identity.decrypt(bytes(blob))) for pid, blob in rows]
        bind.execute(
            sa.text("UPDATE people SET id_number = :n, id_number_digest = :d WHERE id = :id"),
            [{"id": pid, "n": number, "d": identity.digest(number)} for pid, number in clear],
        )
    op.alter_column("people", "id_number", nullable=False)
    op.alter_column("people", "id_number_digest", nullable=False)
    op.drop_constraint(op.f("uq_people_id_number_hmac"), "people", type_="unique")
    op.create_unique_constraint(op.f("uq_people_id_number_digest"), "people", ["id_number_digest"])
    op.drop_column("people", "id_number_hmac")
    op.drop_column("people", "id_number_ciphertext")
    op.drop_table("platform_code_counters")
