#!/usr/bin/env bash
# Local infrastructure without a Docker engine: PostgreSQL and Redis from Debian packages, a
# real single-node Apache Kafka (KRaft) assembled from Maven Central jars and run as a JVM, and
# Zipkin (the trace viewer, in-memory storage) from its executable jar on Maven Central.
#
#   deploy/local/infra.sh install   install packages and fetch the Kafka and Zipkin jars (cached)
#   deploy/local/infra.sh start     install if needed, start everything, wait until it answers
#   deploy/local/infra.sh stop      stop what this script started
#   deploy/local/infra.sh status    one line per component
#   deploy/local/infra.sh start-stores  PostgreSQL and Redis only (tests bring their own broker)
#   deploy/local/infra.sh kafka-start PORT CONTROLLER_PORT DIR   an extra broker (tests)
#   deploy/local/infra.sh zipkin-start PORT DIR   an extra Zipkin (tests); zipkin-stop DIR
#   deploy/local/infra.sh topics    create the project's topics on the local broker (the one place
#                                   outside Kubernetes that does: services never create topics)
#
# Every command is safe to run twice. State and logs live under .local/ (git-ignored).
set -euo pipefail
# The infrastructure keeps the machine's clock, also when scripts/time-of-day.sh runs the Python
# processes that call this script under libfaketime: the JVM ignores FAKETIME_SKIP_CMDS, and
# redis-cli hangs under libfaketime.
unset LD_PRELOAD FAKETIME

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
HERE="$ROOT/deploy/local"
STATE="${FIXFLOW_LOCAL_DIR:-$ROOT/.local}"
LOGS="$STATE/logs"
KAFKA_LIBS="${FIXFLOW_KAFKA_LIBS:-$STATE/kafka/libs}"
KAFKA_PORT="${KAFKA_PORT:-9092}"
KAFKA_CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-9093}"
PG_PORT="${PG_PORT:-5432}"
REDIS_PORT="${REDIS_PORT:-6379}"
PG_VERSION="${PG_VERSION:-15}"
SERVICES=(intake dispatch billing survey notify insight)
LIBFAKETIME="${LIBFAKETIME:-/usr/lib/$(uname -m)-linux-gnu/faketime/libfaketimeMT.so.1}"
# How far ahead of the broker's clock a producer's record timestamp may be (Kafka's default: 1 h).
# scripts/time-of-day.sh raises it: its Python processes run up to two days ahead of the broker.
KAFKA_TIMESTAMP_AFTER_MAX_MS="${KAFKA_TIMESTAMP_AFTER_MAX_MS:-3600000}"
ZIPKIN_VERSION="3.5.1"
ZIPKIN_JAR="${FIXFLOW_ZIPKIN_JAR:-$STATE/zipkin/zipkin-server-$ZIPKIN_VERSION-exec.jar}"
ZIPKIN_PORT="${ZIPKIN_PORT:-9411}"

log() { printf '[infra] %s\n' "$*" >&2; }

need_root() {
  if [ "$(id -u)" -ne 0 ]; then
    echo "infra.sh installs Debian packages and must run as root (or install postgresql and redis-server yourself)" >&2
    exit 1
  fi
}

apt_install() {
  need_root
  if [ ! -f "$STATE/.apt-updated" ]; then
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    mkdir -p "$STATE" && touch "$STATE/.apt-updated"
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

install_packages() {
  local missing=()
  command -v pg_ctlcluster >/dev/null 2>&1 && [ -x "/usr/lib/postgresql/$PG_VERSION/bin/postgres" ] || missing+=(postgresql "postgresql-$PG_VERSION")
  command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
  command -v java >/dev/null 2>&1 || missing+=(openjdk-17-jre-headless)
  command -v mvn >/dev/null 2>&1 || missing+=(maven)
  # libfaketime: scripts/time-of-day.sh runs the suites with the Python processes' clock set to other hours.
  [ -e "$LIBFAKETIME" ] || missing+=(faketime)
  # The console's browser tests drive Debian's Chromium (Playwright cannot fetch its own browser
  # here); CJK fonts so Chinese pages and screenshots render as people see them.
  command -v chromium >/dev/null 2>&1 || missing+=(chromium)
  dpkg -s fonts-noto-cjk >/dev/null 2>&1 || missing+=(fonts-noto-cjk)
  if [ "${#missing[@]}" -gt 0 ]; then
    log "installing ${missing[*]}"
    apt_install "${missing[@]}"
  fi
}

install_kafka() {
  if [ -f "$KAFKA_LIBS/.complete" ] && [ "$KAFKA_LIBS/.complete" -nt "$HERE/kafka/pom.xml" ]; then
    return
  fi
  log "fetching Kafka jars with Maven (cached in $KAFKA_LIBS)"
  rm -rf "$KAFKA_LIBS" && mkdir -p "$KAFKA_LIBS"
  mvn -B -q -f "$HERE/kafka/pom.xml" dependency:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$KAFKA_LIBS" >"$STATE/mvn.log" 2>&1 \
    || { cat "$STATE/mvn.log" >&2; exit 1; }
  touch "$KAFKA_LIBS/.complete"
}

install_zipkin() {
  [ -f "$ZIPKIN_JAR" ] && return
  log "fetching Zipkin $ZIPKIN_VERSION with Maven (cached in $(dirname "$ZIPKIN_JAR"))"
  mkdir -p "$(dirname "$ZIPKIN_JAR")"
  mvn -B -q org.apache.maven.plugins:maven-dependency-plugin:3.6.1:copy \
    -Dartifact="io.zipkin:zipkin-server:$ZIPKIN_VERSION:jar:exec" -DoutputDirectory="$(dirname "$ZIPKIN_JAR")" \
    >"$STATE/mvn-zipkin.log" 2>&1 || { cat "$STATE/mvn-zipkin.log" >&2; exit 1; }
}

# kustomize renders the Kubernetes overlays for the manifest tests: kubectl's built-in one when
# kubectl is there, else kustomize built from its Go module into .local/bin.
install_kustomize() {
  command -v kubectl >/dev/null 2>&1 || command -v kustomize >/dev/null 2>&1 || [ -x "$STATE/bin/kustomize" ] && return
  command -v go >/dev/null 2>&1 || apt_install golang-go
  log "building kustomize v5.5.0 into $STATE/bin"
  GOBIN="$STATE/bin" go install sigs.k8s.io/kustomize/kustomize/v5@v5.5.0
}

cmd_install() {
  mkdir -p "$STATE" "$LOGS"
  install_packages
  install_kafka
  install_zipkin
  install_kustomize
}

# --- PostgreSQL: Debian's cluster manager, one role and database per service --------------------
pg_ready() { pg_isready -q -h 127.0.0.1 -p "$PG_PORT"; }

start_postgres() {
  if ! pg_lsclusters -h 2>/dev/null | awk '{print $1" "$2}' | grep -qx "$PG_VERSION main"; then
    log "creating PostgreSQL cluster $PG_VERSION/main"
    pg_createcluster "$PG_VERSION" main -p "$PG_PORT" >/dev/null
  fi
  # More connections than Debian's 100 (services with pools plus the test suite, or two suites at once); no TLS on
  # loopback, where it only costs CPU (about a fifth of intake's throughput).
  local conf="/etc/postgresql/$PG_VERSION/main/conf.d/fixflow.conf" wanted
  wanted="listen_addresses = '127.0.0.1'
port = $PG_PORT
max_connections = 1000
shared_buffers = 256MB
ssl = off"
  local changed=0
  if [ "$(cat "$conf" 2>/dev/null)" != "$wanted" ]; then printf '%s\n' "$wanted" >"$conf"; changed=1; fi
  if pg_ready; then
    log "postgresql already answers on $PG_PORT"
    # ssl is reloadable; port and max_connections need a restart, left to the operator.
    [ "$changed" = 1 ] && pg_ctlcluster "$PG_VERSION" main reload
  else
    pg_ctlcluster "$PG_VERSION" main start
    for _ in $(seq 1 60); do pg_ready && break; sleep 0.5; done
    pg_ready || { log "postgresql did not start"; exit 1; }
  fi
  local sql=""
  for s in "${SERVICES[@]}"; do
    # The password equals the role name: development only; production takes it from a secret.
    sql+="DO \$\$BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname='$s') THEN CREATE ROLE $s LOGIN CREATEDB PASSWORD '$s'; END IF; END\$\$;"
    # Tests drop their databases WITH (FORCE), which must also end an autovacuum worker busy there
    # (it runs as no role the service is a member of). Local machines only.
    sql+="GRANT pg_signal_backend TO $s;"
  done
  runuser -u postgres -- psql -q -p "$PG_PORT" -v ON_ERROR_STOP=1 -c "$sql" >/dev/null
  for s in "${SERVICES[@]}"; do
    if ! runuser -u postgres -- psql -tA -p "$PG_PORT" -c "SELECT 1 FROM pg_database WHERE datname='$s'" | grep -q 1; then
      runuser -u postgres -- createdb -p "$PG_PORT" -O "$s" "$s"
    fi
  done
}

stop_postgres() { pg_ctlcluster "$PG_VERSION" main stop 2>/dev/null || true; }

# --- Redis ----------------------------------------------------------------------------------------
redis_ready() { redis-cli -p "$REDIS_PORT" ping 2>/dev/null | grep -q PONG; }

start_redis() {
  if redis_ready; then log "redis already answers on $REDIS_PORT"; return; fi
  mkdir -p "$STATE/redis"
  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --daemonize yes --dir "$STATE/redis" \
    --pidfile "$STATE/redis/redis.pid" --logfile "$LOGS/redis.log" --appendonly yes --save ""
  for _ in $(seq 1 40); do redis_ready && return; sleep 0.25; done
  log "redis did not start"; exit 1
}

stop_redis() { redis_ready && redis-cli -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true; }

# --- Kafka ----------------------------------------------------------------------------------------
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# kafka_start PORT CONTROLLER_PORT DIR: format DIR once, start a broker, wait until it serves.
# Alone by default; a node of a test cluster (fixflow_shared.testing.cluster) also gets KAFKA_NODE_ID,
# KAFKA_VOTERS (id@host:cport,...), KAFKA_REPLICAS, KAFKA_MIN_ISR and the cluster's KAFKA_CLUSTER_ID.
# KAFKA_HEAP_MB (512) bounds its heap, KAFKA_START_S (60) how long it may take to serve,
# KAFKA_JVM_OPTS adds JVM options after the defaults (the soak's pre-touched heap and GC log).
kafka_start() {
  local port="$1" cport="$2" dir="$3"
  local node="${KAFKA_NODE_ID:-1}"
  mkdir -p "$dir/data"
  if [ -f "$dir/kafka.pid" ] && kill -0 "$(cat "$dir/kafka.pid")" 2>/dev/null && port_open "$port"; then
    log "kafka already answers on $port"; return
  fi
  sed -e "s#@PORT@#$port#g" -e "s#@CONTROLLER_PORT@#$cport#g" -e "s#@DATA_DIR@#$dir/data#g" \
    -e "s#@TIMESTAMP_AFTER_MAX_MS@#$KAFKA_TIMESTAMP_AFTER_MAX_MS#g" \
    -e "s#@NODE_ID@#$node#g" -e "s#@VOTERS@#${KAFKA_VOTERS:-$node@127.0.0.1:$cport}#g" \
    -e "s#@REPLICAS@#${KAFKA_REPLICAS:-1}#g" -e "s#@MIN_ISR@#${KAFKA_MIN_ISR:-1}#g" \
    "$HERE/kafka/server.properties.template" >"$dir/server.properties"
  if [ ! -f "$dir/data/meta.properties" ]; then
    local cluster_id="${KAFKA_CLUSTER_ID:-}"
    [ -n "$cluster_id" ] || cluster_id="$(java -cp "$KAFKA_LIBS/*" kafka.tools.StorageTool random-uuid 2>/dev/null | tail -n1)"
    java -cp "$KAFKA_LIBS/*" -Dlog4j2.configurationFile="$HERE/kafka/log4j2.properties" \
      kafka.tools.StorageTool format -t "$cluster_id" -c "$dir/server.properties" --ignore-formatted >"$dir/format.log" 2>&1 \
      || { cat "$dir/format.log" >&2; exit 1; }
  fi
  : >"$dir/kafka.log"
  local heap="${KAFKA_HEAP_MB:-512}"
  # shellcheck disable=SC2086  # KAFKA_JVM_OPTS is a list of options, split on purpose
  nohup java -Xms$((heap / 2))m -Xmx"$heap"m -XX:+UseG1GC -XX:TieredStopAtLevel=1 -Djava.awt.headless=true \
    ${KAFKA_JVM_OPTS:-} \
    -Dkafka.logs.dir="$dir" -Dlog4j2.configurationFile="$HERE/kafka/log4j2.properties" \
    -cp "$KAFKA_LIBS/*" kafka.Kafka "$dir/server.properties" >>"$dir/kafka.log" 2>&1 &
  echo $! >"$dir/kafka.pid"
  local wait_s="${KAFKA_START_S:-60}"
  for _ in $(seq 1 $((wait_s * 4))); do
    if grep -q "Kafka Server started" "$dir/kafka.log" && port_open "$port"; then
      log "kafka ready on $port"; return
    fi
    kill -0 "$(cat "$dir/kafka.pid")" 2>/dev/null || { tail -n 40 "$dir/kafka.log" >&2; exit 1; }
    sleep 0.25
  done
  log "kafka did not start in $wait_s s"; tail -n 40 "$dir/kafka.log" >&2; exit 1
}

kafka_stop() {
  local dir="$1"
  [ -f "$dir/kafka.pid" ] || return 0
  local pid; pid="$(cat "$dir/kafka.pid")"
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid"
    for _ in $(seq 1 80); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$dir/kafka.pid"
}

# --- Zipkin: the trace viewer (UI and API on one port, spans kept in memory) ------------------------
zipkin_ready() { curl -fs "http://127.0.0.1:$1/health" >/dev/null 2>&1; }

# zipkin_start PORT DIR: start Zipkin on 127.0.0.1:PORT (pid and log in DIR), wait until it answers.
zipkin_start() {
  local port="$1" dir="$2"
  mkdir -p "$dir"
  if [ -f "$dir/zipkin.pid" ] && kill -0 "$(cat "$dir/zipkin.pid")" 2>/dev/null && zipkin_ready "$port"; then
    log "zipkin already answers on $port"; return
  fi
  # MEM_MAX_SPANS bounds the memory it keeps (the oldest traces go first).
  STORAGE_TYPE=mem MEM_MAX_SPANS="${ZIPKIN_MAX_SPANS:-200000}" nohup java -Xms64m -Xmx384m -XX:TieredStopAtLevel=1 \
    -Djava.awt.headless=true -jar "$ZIPKIN_JAR" \
    "--armeria.ports[0].ip=127.0.0.1" "--armeria.ports[0].port=$port" "--armeria.ports[0].protocols[0]=http" \
    >"$dir/zipkin.log" 2>&1 &
  echo $! >"$dir/zipkin.pid"
  for _ in $(seq 1 240); do
    zipkin_ready "$port" && { log "zipkin ready on http://127.0.0.1:$port/zipkin/"; return; }
    kill -0 "$(cat "$dir/zipkin.pid")" 2>/dev/null || { tail -n 40 "$dir/zipkin.log" >&2; exit 1; }
    sleep 0.25
  done
  log "zipkin did not start in 60 s"; tail -n 40 "$dir/zipkin.log" >&2; exit 1
}

zipkin_stop() {
  local dir="$1"
  [ -f "$dir/zipkin.pid" ] || return 0
  local pid; pid="$(cat "$dir/zipkin.pid")"
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid"
    for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$dir/zipkin.pid"
}

# --- Topics: created here for local runs (Strimzi KafkaTopic resources in Kubernetes) --------------
create_topics() {
  KAFKA_BOOTSTRAP_SERVERS="127.0.0.1:$KAFKA_PORT" "$ROOT/.venv/bin/python" -m fixflow_shared.topics create
}

cmd_start() {
  cmd_install
  start_postgres
  start_redis
  kafka_start "$KAFKA_PORT" "$KAFKA_CONTROLLER_PORT" "$STATE/kafka"
  zipkin_start "$ZIPKIN_PORT" "$STATE/zipkin"
}

cmd_stop() {
  zipkin_stop "$STATE/zipkin"
  kafka_stop "$STATE/kafka"
  stop_redis
  stop_postgres
}

cmd_status() {
  pg_ready && echo "postgresql  up    127.0.0.1:$PG_PORT" || echo "postgresql  down"
  redis_ready && echo "redis       up    127.0.0.1:$REDIS_PORT" || echo "redis       down"
  port_open "$KAFKA_PORT" && echo "kafka       up    127.0.0.1:$KAFKA_PORT" || echo "kafka       down"
  zipkin_ready "$ZIPKIN_PORT" && echo "zipkin      up    http://127.0.0.1:$ZIPKIN_PORT/zipkin/" || echo "zipkin      down"
}

case "${1:-}" in
  install) cmd_install ;;
  start) cmd_start ;;
  start-stores) mkdir -p "$STATE" "$LOGS"; install_packages; start_postgres; start_redis ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  kafka-start) mkdir -p "$STATE" "$LOGS"; install_kafka; kafka_start "$2" "$3" "$4" ;;
  kafka-stop) kafka_stop "$2" ;;
  zipkin-start) mkdir -p "$STATE" "$LOGS"; install_zipkin; zipkin_start "$2" "$3" ;;
  zipkin-stop) zipkin_stop "$2" ;;
  topics) create_topics ;;
  *) echo "usage: $0 install|start|stop|status|topics|kafka-start PORT CPORT DIR|kafka-stop DIR|zipkin-start PORT DIR|zipkin-stop DIR" >&2; exit 2 ;;
esac
