#!/usr/bin/env bash
# The time-sensitive suites at several hours of the day: proves that no test (and no rule) depends on
# the hour the suite happens to run at. Each hour is one pytest session whose Python processes (the
# tests and the services they start) see a clock set to that hour of tomorrow, UTC, through
# libfaketime; the clock then runs at its normal rate. Kafka brokers keep the machine's clock
# (infra.sh starts the JVM without libfaketime), and so do PostgreSQL and Redis (already running).
#
#   scripts/time-of-day.sh                  00, 06, 12 and 18 h over the default suites
#   scripts/time-of-day.sh 06 18            only these hours
#   scripts/time-of-day.sh 12 -- tests/e2e -x   pytest arguments after --
#
# Default suites: every service's integration tests and tests/e2e. It is slow (one whole run per
# hour): run it with nice. Exits non-zero if any hour failed; a summary line per hour at the end.
set -uo pipefail
cd "$(dirname "$0")/.."

hours=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do hours+=("$1"); shift; done
[ "${1:-}" = "--" ] && shift
[ "${#hours[@]}" -gt 0 ] || hours=(00 06 12 18)
if [ $# -gt 0 ]; then args=("$@"); else args=(services/*/tests/integration tests/e2e -q); fi

deploy/local/infra.sh install >/dev/null
deploy/local/infra.sh start-stores >/dev/null
lib="${LIBFAKETIME:-/usr/lib/$(uname -m)-linux-gnu/faketime/libfaketimeMT.so.1}"
[ -e "$lib" ] || { echo "libfaketime not found at $lib (deploy/local/infra.sh install installs it)" >&2; exit 1; }

day="$(date -u -d tomorrow +%F)"
summary=()
status=0
for hour in "${hours[@]}"; do
  at="$day $hour:00:00"
  echo "=== clock at $at UTC: pytest ${args[*]}"
  # FAKETIME "@..." starts the clock there and lets it run; monotonic clocks (asyncio's timers,
  # timeouts) stay real. The brokers accept records stamped up to two days ahead of their clock.
  # scripts/faketime/sitecustomize.py mends Python's time.sleep under Debian's libfaketime.
  TZ=UTC FAKETIME="@$at" FAKETIME_DONT_FAKE_MONOTONIC=1 LD_PRELOAD="$lib" \
    PYTHONPATH="$PWD/scripts/faketime${PYTHONPATH:+:$PYTHONPATH}" \
    KAFKA_TIMESTAMP_AFTER_MAX_MS=$((3 * 24 * 3600 * 1000)) \
    scripts/pytest.sh "${args[@]}" -p no:cacheprovider
  rc=$?
  summary+=("$at UTC: $([ "$rc" -eq 0 ] && echo passed || echo "FAILED (pytest exit $rc)")")
  [ "$rc" -eq 0 ] || status=1
done
printf '%s\n' "${summary[@]}"
exit "$status"
