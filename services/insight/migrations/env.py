from alembic import context

from fixflow_shared.migrations import run_env
from insight.adapters.orm import metadata

run_env(context, metadata)
