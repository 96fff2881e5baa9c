"""The kit's tables, created by the first migration of every service's own chain.

Versioned: a later change to these tables adds ``upgrade_kit_v2`` here and one migration per
service that calls it, so each service's chain still describes its whole database.
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

OUTBOX_NOTIFY_FUNCTION = """
CREATE FUNCTION kit_outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('outbox', '');
    RETURN NULL;
END;
$$
"""


def upgrade_kit_v1() -> None:
    op.create_table(
        "audit_log",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("actor_id", sa.String(length=100), nullable=True, comment="user id, or 'system'"),
        sa.Column(
            "actor_roles",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'[]'::jsonb"),
            nullable=False,
        ),
        sa.Column("action", sa.String(length=100), nullable=False),
        sa.Column("entity_type", sa.String(length=100), nullable=False),
        sa.Column("entity_id", sa.String(length=100), nullable=False),
        sa.Column(
            "changes",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("request_id", sa.String(length=100), nullable=True),
        sa.Column("event_id", sa.UUID(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
        comment="Append-only record of every state change: who, when, what, why.",
    )
    op.create_index("ix_audit_log_actor_id", "audit_log", ["actor_id"], unique=False)
    op.create_index(
        "ix_audit_log_entity", "audit_log", ["entity_type", "entity_id", "occurred_at"], unique=False
    )
    op.create_table(
        "consumer_progress",
        sa.Column("consumer", sa.String(length=100), nullable=False),
        sa.Column("source", sa.String(length=100), nullable=False),
        sa.Column("event_type", sa.String(length=200), nullable=False),
        sa.Column("contiguous_upto", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("max_seen", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("gap_since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("consumer", "source", "event_type", name=op.f("pk_consumer_progress")),
        comment="Per producer and event type: every sequence up to contiguous_upto was received.",
    )
    op.create_table(
        "dead_letter",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("consumer", sa.String(length=100), nullable=False),
        sa.Column("event_id", sa.UUID(), nullable=False),
        sa.Column("source", sa.String(length=100), nullable=False),
        sa.Column("event_type", sa.String(length=200), nullable=False),
        sa.Column("sequence", sa.BigInteger(), nullable=True),
        sa.Column("envelope", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), server_default=sa.text("'parked'"), nullable=False),
        sa.Column("parked_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolved_by", sa.String(length=100), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dead_letter")),
        comment="Events a handler failed to apply after the allowed deliveries; replayable.",
    )
    op.create_index("ix_dead_letter_consumer_event_id", "dead_letter", ["consumer", "event_id"], unique=True)
    op.create_index("ix_dead_letter_status", "dead_letter", ["status"], unique=False)
    op.create_table(
        "event_sequence",
        sa.Column("event_type", sa.String(length=200), nullable=False),
        sa.Column("last_value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("event_type", name=op.f("pk_event_sequence")),
    )
    op.create_table(
        "inbox",
        sa.Column("consumer", sa.String(length=100), nullable=False, comment="which consumer applied it"),
        sa.Column("event_id", sa.UUID(), nullable=False),
        sa.Column("source", sa.String(length=100), nullable=False),
        sa.Column("event_type", sa.String(length=200), nullable=False),
        sa.Column("sequence", sa.BigInteger(), nullable=True),
        sa.Column("applied_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("consumer", "event_id", name=op.f("pk_inbox")),
        comment="Events this service has applied: a redelivered event finds its row and is skipped.",
    )
    op.create_index("ix_inbox_applied_at", "inbox", ["applied_at"], unique=False)
    op.create_index(
        "ix_inbox_consumer_source_type_sequence",
        "inbox",
        ["consumer", "source", "event_type", "sequence"],
        unique=False,
    )
    op.create_table(
        "outbox",
        sa.Column("id", sa.UUID(), nullable=False, comment="event id (UUIDv7)"),
        sa.Column("position", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("event_type", sa.String(length=200), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column(
            "aggregate_key", sa.String(length=300), nullable=False, comment="events of one key keep order"
        ),
        sa.Column("sequence", sa.BigInteger(), nullable=True, comment="per event type, set by the relay"),
        sa.Column("envelope", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("publish_attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
        sa.UniqueConstraint("position", name=op.f("uq_outbox_position")),
        comment="Transactional outbox: events written with the change, published by the relay.",
    )
    op.create_index("ix_outbox_event_type_sequence", "outbox", ["event_type", "sequence"], unique=True)
    op.create_index("ix_outbox_created_at", "outbox", ["created_at"], unique=False)
    op.create_index(
        "ix_outbox_unsent", "outbox", ["position"], unique=False, postgresql_where=sa.text("sent_at IS NULL")
    )

    # Wakes the outbox relay when events are committed (delivered on commit, de-duplicated
    # within a transaction): no round trip from the application, whatever wrote the rows.
    op.execute(OUTBOX_NOTIFY_FUNCTION)
    op.execute(
        "CREATE TRIGGER outbox_notify AFTER INSERT ON outbox "
        "FOR EACH STATEMENT EXECUTE FUNCTION kit_outbox_notify()"
    )


def upgrade_kit_v2() -> None:
    """The outbox no longer notifies: a notifying transaction holds a database-wide lock from
    its commit until the commit is on disk, which serialised every writer of events. The relay
    is woken in its own process instead (shared.events.wake) and polls for the rest."""
    op.execute("DROP TRIGGER IF EXISTS outbox_notify ON outbox")
    op.execute("DROP FUNCTION IF EXISTS kit_outbox_notify()")


def downgrade_kit_v2() -> None:
    op.execute(OUTBOX_NOTIFY_FUNCTION)
    op.execute(
        "CREATE TRIGGER outbox_notify AFTER INSERT ON outbox "
        "FOR EACH STATEMENT EXECUTE FUNCTION kit_outbox_notify()"
    )


def downgrade_kit_v1() -> None:
    op.execute("DROP TRIGGER IF EXISTS outbox_notify ON outbox")
    op.execute("DROP FUNCTION IF EXISTS kit_outbox_notify()")
    op.drop_index("ix_outbox_unsent", table_name="outbox", postgresql_where=sa.text("sent_at IS NULL"))
    op.drop_index("ix_outbox_created_at", table_name="outbox")
    op.drop_index("ix_outbox_event_type_sequence", table_name="outbox")
    op.drop_table("outbox")
    op.drop_index("ix_inbox_consumer_source_type_sequence", table_name="inbox")
    op.drop_index("ix_inbox_applied_at", table_name="inbox")
    op.drop_table("inbox")
    op.drop_table("event_sequence")
    op.drop_index("ix_dead_letter_status", table_name="dead_letter")
    op.drop_index("ix_dead_letter_consumer_event_id", table_name="dead_letter")
    op.drop_table("dead_letter")
    op.drop_table("consumer_progress")
    op.drop_index("ix_audit_log_entity", table_name="audit_log")
    op.drop_index("ix_audit_log_actor_id", table_name="audit_log")
    op.drop_table("audit_log")


def upgrade_kit_audit_cause() -> None:
    """Audit rows name the event a step was applied from and the actor at the event's source."""
    op.add_column(
        "audit_log",
        sa.Column(
            "cause_event_id",
            sa.UUID(),
            nullable=True,
            comment="the event (of this or another service) this step was applied from",
        ),
    )
    op.add_column(
        "audit_log",
        sa.Column(
            "cause_actor_id", sa.String(length=100), nullable=True, comment="who acted at the event's source"
        ),
    )


def downgrade_kit_audit_cause() -> None:
    op.drop_column("audit_log", "cause_actor_id")
    op.drop_column("audit_log", "cause_event_id")


def upgrade_kit_idempotency() -> None:
    """Writes sent with an ``Idempotency-Key`` keep their answer, stored with the change."""
    op.create_table(
        "idempotency_key",
        sa.Column(
            "principal", sa.String(length=200), nullable=False, comment="the caller the key belongs to"
        ),
        sa.Column("key", sa.String(length=255), nullable=False, comment="the caller's Idempotency-Key"),
        sa.Column(
            "fingerprint", sa.String(length=64), nullable=False, comment="SHA-256 of method, path and body"
        ),
        sa.Column("method", sa.String(length=10), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column(
            "headers",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'[]'::jsonb"),
            nullable=False,
        ),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("principal", "key", name=op.f("pk_idempotency_key")),
        comment="The answer of a write sent with an Idempotency-Key, stored with the change: "
        "a repeat gets it again instead of a second write.",
    )
    op.create_index("ix_idempotency_key_expires_at", "idempotency_key", ["expires_at"], unique=False)


def downgrade_kit_idempotency() -> None:
    op.drop_index("ix_idempotency_key_expires_at", table_name="idempotency_key")
    op.drop_table("idempotency_key")
