from alembic import context

from projects.definition import metadata
from shared.migrations import run_migrations

run_migrations(context, metadata)
