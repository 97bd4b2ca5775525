from alembic import context

from fixflow_shared.migrations import run_env
from dispatch.adapters.orm import metadata

run_env(context, metadata)
