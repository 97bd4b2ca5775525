#!/usr/bin/env bash
# The time-sensitive suites at several hours of the day: proves that no test (and no rule) depends on
# the hour the suite happens to run at. Each hour is one pytest session whose Python processes (the
# tests and the services they start) and a PostgreSQL cluster of its own see a clock set to that hour
# of tomorrow, UTC, through libfaketime; the clock then runs at its normal rate (an hour's run starts
# at HH:00). Kafka brokers (infra.sh starts them without libfaketime) and Redis keep the machine's
# clock: the brokers only stamp records, Redis is given every time it compares.
#
#   scripts/time-of-day.sh                  00, 06, 12 and 18 h over the default suites
#   scripts/time-of-day.sh 06 18            only these hours
#   scripts/time-of-day.sh 18:07            an hour and minute
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

# PostgreSQL on the same faked clock (its now() must agree with the services' clock): a private
# cluster per hour, with the roles and databases of deploy/local/infra.sh, on a free port.
# The services owning a database: infra.sh's list, so a service added there gets its role here too
# (insight's tests failed under this script for want of its role).
eval "$(grep -m1 '^SERVICES=(' deploy/local/infra.sh)"
pg_bin="/usr/lib/postgresql/${PG_VERSION:-15}/bin"
pg_dir=""
stop_pg() {
  if [ -n "$pg_dir" ]; then
    runuser -u postgres -- "$pg_bin/pg_ctl" -D "$pg_dir/data" -m fast stop >/dev/null 2>&1 || true
    rm -rf "$pg_dir"
    pg_dir=""
  fi
}
trap stop_pg EXIT
start_pg() {  # start_pg FAKETIME
  pg_dir="$(mktemp -d /tmp/fixflow-pg-XXXXXX)"
  chown postgres "$pg_dir"
  pg_port="$(.venv/bin/python -c 'from fixflow_shared.testing.infra import free_port; print(free_port())')"
  runuser -u postgres -- "$pg_bin/initdb" -D "$pg_dir/data" -U postgres --auth=trust -E UTF8 --no-sync >/dev/null
  runuser -u postgres -- env LD_PRELOAD="$lib" FAKETIME="$1" FAKETIME_DONT_FAKE_MONOTONIC=1 TZ=UTC \
    "$pg_bin/pg_ctl" -D "$pg_dir/data" -l "$pg_dir/postgres.log" -w \
    -o "-p $pg_port -k $pg_dir -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=500" start >/dev/null
  local sql="" s
  for s in "${SERVICES[@]}"; do
    sql+="CREATE ROLE $s LOGIN CREATEDB PASSWORD '$s'; GRANT pg_signal_backend TO $s; CREATE DATABASE $s OWNER $s;"
  done
  printf '%s\n' "${sql//;/;$'\n'}" | psql -q -h 127.0.0.1 -p "$pg_port" -U postgres -v ON_ERROR_STOP=1 >/dev/null
}

day="$(date -u -d tomorrow +%F)"
summary=()
status=0
for hour in "${hours[@]}"; do
  case "$hour" in *:*) at="$day $hour:00" ;; *) at="$day $hour:00:00" ;; esac  # HH or HH:MM
  echo "=== clock at $at UTC: pytest ${args[*]}"
  # One offset for every process ("+N" seconds), so the tests and the services they start later
  # agree on the time (FAKETIME="@..." would start each new process's clock at that instant);
  # monotonic clocks (asyncio's timers, timeouts) stay real. The brokers accept records stamped up
  # to three days ahead of their clock.
  offset=$(( $(date -u -d "$at" +%s) - $(date -u +%s) ))
  start_pg "+$offset"
  echo "    PostgreSQL on the same clock: 127.0.0.1:$pg_port ($(psql -tA -h 127.0.0.1 -p "$pg_port" -U postgres -c 'SELECT now()'))"
  # scripts/faketime/sitecustomize.py mends Python's time.sleep under Debian's libfaketime.
  TZ=UTC FAKETIME="+$offset" FAKETIME_DONT_FAKE_MONOTONIC=1 LD_PRELOAD="$lib" \
    PYTHONPATH="$PWD/scripts/faketime${PYTHONPATH:+:$PYTHONPATH}" \
    KAFKA_TIMESTAMP_AFTER_MAX_MS=$((3 * 24 * 3600 * 1000)) \
    FIXFLOW_TEST_PG_PORT="$pg_port" scripts/pytest.sh "${args[@]}" -p no:cacheprovider
  rc=$?
  stop_pg
  summary+=("$at UTC: $([ "$rc" -eq 0 ] && echo passed || echo "FAILED (pytest exit $rc)")")
  [ "$rc" -eq 0 ] || status=1
done
printf '%s\n' "${summary[@]}"
exit "$status"
