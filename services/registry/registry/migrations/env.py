from alembic import context

from registry.definition import metadata
from shared.migrations import run_migrations

run_migrations(context, metadata)
