#!/usr/bin/env bash
# The whole suite against real Kafka, PostgreSQL and Redis. pytest's exit code 5 ("no tests
# collected") is a failure here: a suite that runs nothing proves nothing.
set -uo pipefail
cd "$(dirname "$0")/.."
.venv/bin/python -m pytest "$@"
rc=$?
if [ "$rc" -eq 5 ]; then echo "pytest collected no tests" >&2; exit 1; fi
exit "$rc"
