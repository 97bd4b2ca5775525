#!/usr/bin/env bash
# Run the services as background processes for `make run`.
#   scripts/services.sh start intake notify ...   start (each waits for /readyz)
#   scripts/services.sh stop | status | banner
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
RUN="$ROOT/.local/run"; LOGS="$ROOT/.local/logs"; MAIL="$ROOT/.local/mail"; SMS="$ROOT/.local/sms"
PY="$ROOT/.venv/bin/python"
declare -A PORT=([console]=8000 [intake]=8001 [dispatch]=8002 [billing]=8003 [survey]=8004 [notify]=8005 [portal]=8006 [insight]=8007)
mkdir -p "$RUN" "$LOGS" "$MAIL"/{tmp,new,cur} "$SMS"
set -a; . "$ROOT/deploy/local/fixflow.env"; set +a
# Development secrets (JWT dev key, survey answer-link key): generated once per checkout, never in git.
export FIXFLOW_SECRETS_FILE="$ROOT/.local/secrets.env"
[ -x "$PY" ] && "$PY" -c "from fixflow_shared.keys import dev_secrets; dev_secrets()"

alive() { [ -f "$RUN/$1.pid" ] && kill -0 "$(cat "$RUN/$1.pid")" 2>/dev/null; }

start_mail_catcher() {
  # A local SMTP server keeps every email notify sends as a file under .local/mail.
  alive mail && return
  nohup "$PY" -m aiosmtpd -n -l "127.0.0.1:${NOTIFY_SMTP_PORT}" -c aiosmtpd.handlers.Mailbox "$MAIL" >"$LOGS/mail.log" 2>&1 &
  echo $! >"$RUN/mail.pid"
}

start_sms_catcher() {
  # A local SMS gateway (notify's provider contract) keeps every SMS as a JSON line in .local/sms.
  alive sms && return
  nohup "$PY" -m fixflow_shared.testing.sms_gateway --port 1026 --log "$SMS/messages.jsonl" >"$LOGS/sms.log" 2>&1 &
  echo $! >"$RUN/sms.pid"
}

start() {
  start_mail_catcher
  start_sms_catcher
  for s in "$@"; do
    if alive "$s"; then echo "[services] $s already running"; continue; fi
    nohup "$PY" -m "$s" serve >"$LOGS/$s.log" 2>&1 &
    echo $! >"$RUN/$s.pid"
  done
  for s in "$@"; do
    for _ in $(seq 1 120); do
      curl -fs "http://127.0.0.1:${PORT[$s]}/readyz" >/dev/null 2>&1 && break
      alive "$s" || { echo "[services] $s exited; last lines of $LOGS/$s.log:" >&2; tail -n 30 "$LOGS/$s.log" >&2; exit 1; }
      sleep 0.5
    done
    curl -fs "http://127.0.0.1:${PORT[$s]}/readyz" >/dev/null || { echo "[services] $s not ready" >&2; exit 1; }
    echo "[services] $s ready on http://127.0.0.1:${PORT[$s]}"
  done
}

stop() {
  for f in "$RUN"/*.pid; do
    [ -e "$f" ] || continue
    pid="$(cat "$f")"; kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    kill -9 "$pid" 2>/dev/null || true
    rm -f "$f"
  done
}

status() {
  for s in "${!PORT[@]}"; do
    if alive "$s"; then echo "$s up http://127.0.0.1:${PORT[$s]}"; else echo "$s down"; fi
  done
}

banner() {
  local token; token="$("$PY" -m fixflow_shared.auth --tenant demo --roles agent,dispatcher,manager,admin)"
  cat <<MSG

Fixflow is running.
  console   http://127.0.0.1:8000         the staff web application: sign in as tenant "demo" with any staff roles
  portal    http://127.0.0.1:8006         customers (/sign-in?tenant=demo, code by SMS/e-mail) and technicians (/tech)
  intake    http://127.0.0.1:8001/docs    dispatch http://127.0.0.1:8002/docs
  billing   http://127.0.0.1:8003/docs    survey   http://127.0.0.1:8004/docs
  notify    http://127.0.0.1:8005/docs    insight  http://127.0.0.1:8007/docs (KPIs, quality alerts, monthly reports)
  health    /healthz /readyz /metrics /asyncapi.json on every service
  emails    .local/mail/new (local SMTP catcher on 127.0.0.1:${NOTIFY_SMTP_PORT})
  SMS       .local/sms/messages.jsonl (local SMS gateway on ${NOTIFY_SMS_PRIMARY_URL}; sign-in codes land here)
  logs      .local/logs/<service>.log        stop: make stop
  Kafka     127.0.0.1:9092   PostgreSQL 127.0.0.1:5432   Redis 127.0.0.1:6379
  traces    Zipkin http://127.0.0.1:9411/zipkin/  (every service sends its spans there)

Demo tenant "demo" (scripts/demo.py, run by make run; running it again adds nothing):
  20 technicians, 200 customers with appliances, the retailer fee schedule, SLA policy,
  and tickets in every state; the ticket to follow is printed above.
Dev token (tenant demo, all staff roles):
  export TOKEN=$token
Follow a ticket:
  curl -s -H "Authorization: Bearer \$TOKEN" http://127.0.0.1:8001/v1/tickets/<id>/timeline
  curl -s -H "Authorization: Bearer \$TOKEN" "http://127.0.0.1:8005/v1/deliveries?ticket_id=<id>"
  curl -s -H "Authorization: Bearer \$TOKEN" "http://127.0.0.1:8003/v1/invoices?ticket_id=<id>"
Open a ticket's trace (one trace from the first request to the survey, whoever the clients are):
  http://127.0.0.1:9411/zipkin/?annotationQuery=fixflow.ticket_id%3D<id>    (search by ticket id)
  or take the trace id from the ticket's traceparent (00-<trace id>-<span id>-01):
  curl -s -H "Authorization: Bearer \$TOKEN" http://127.0.0.1:8001/v1/tickets/<id> | grep -o '"traceparent":"[^"]*"'
  http://127.0.0.1:9411/zipkin/traces/<trace id>    (the console's ticket page links it: "Trace")
Dead letters (docs/operations.md): the console's "Dead letters" page (sign in with role admin), or
  FIXFLOW_TOKEN=$token .venv/bin/python -m fixflow_shared.deadletters summary
MSG
}

case "${1:-}" in
  start) shift; start "$@" ;;
  stop) stop ;;
  status) status ;;
  banner) banner ;;
  *) echo "usage: $0 start SERVICE...|stop|status|banner" >&2; exit 2 ;;
esac
