from alembic import context

from dispatch.adapters.orm import metadata
from fixflow_shared.migrations import run_env

run_env(context, metadata)
