from alembic import context

from fixflow_shared.migrations import run_env
from notify.adapters.orm import metadata

run_env(context, metadata)
