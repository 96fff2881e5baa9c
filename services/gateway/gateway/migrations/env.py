from alembic import context

from gateway.definition import metadata
from shared.migrations import run_migrations

run_migrations(context, metadata)
