#!/usr/bin/env bash
# Start a single-node Apache Kafka broker (KRaft, broker+controller) on 127.0.0.1:19092
# (controller 127.0.0.1:19093) from Maven Central jars: no Kafka tarball, no Docker.
#
#   bash tools/kafka/kafka-up.sh        # idempotent: exits 0 if our broker is already up
#   bash tools/kafka/kafka-down.sh      # stop it and delete its data
#
# Environment:
#   KAFKA_PROFILE        kafka3 (default, Kafka 3.9.2) or kafka4 (Kafka 4.3.1); see pom.xml
#   KAFKA_STATE_DIR      pid file and data dirs (default: <repo>/.kafka, git-ignored)
#   KAFKA_CLUSTER_ID     KRaft cluster id (default MkU3OEVBNTcwNTJENDM2Qg)
#   KAFKA_START_TIMEOUT  seconds to wait for "Kafka Server started" (default 90)
#   KAFKA_PORT           broker port (default 19092); KAFKA_CONTROLLER_PORT (default 19093). With a
#                        KAFKA_STATE_DIR of its own, a second broker runs beside the first (a bench,
#                        or engineers testing in parallel: suites on one broker share its groups)
#   KAFKA_LIBS_DIR       the jar cache (default <repo>/.kafka/libs-<profile>, whatever the state dir):
#                        shared by every broker of the checkout (npm test starts one per jest worker,
#                        kafka-reset's suite one of its own), filled once, under a lock
#   KAFKA_SASL_PORT      also a SASL_PLAINTEXT listener on this port, with PLAIN, SCRAM-SHA-256 and
#                        SCRAM-SHA-512 for the users of KAFKA_SASL_USERS (name:password,...; default
#                        spindle:spindle-secret), to test clients' SASL (docs/security.md)
#   KAFKA_SSL_PORT       also an SSL listener on this port, serving the PKCS12 keystore
#                        KAFKA_SSL_KEYSTORE (password KAFKA_SSL_KEYSTORE_PASSWORD) that the caller
#                        made, to test clients' TLS (docs/security.md)
#   KAFKA_SSL_CLIENT_CA  with KAFKA_SSL_PORT: that listener asks every client for a certificate
#                        signed by this CA (a PEM file): mutual TLS
#
# Jars are resolved once per profile with Maven (~/.m2 as usual) and copied into the jar cache;
# every start formats a fresh log dir.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
PROFILE="${KAFKA_PROFILE:-kafka3}"
STATE="${KAFKA_STATE_DIR:-$ROOT/.kafka}"
CLUSTER_ID="${KAFKA_CLUSTER_ID:-MkU3OEVBNTcwNTJENDM2Qg}"
TIMEOUT="${KAFKA_START_TIMEOUT:-90}"
HOST=127.0.0.1
PORT="${KAFKA_PORT:-19092}"
CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-19093}"

log() { echo "kafka-up: $*"; }
err() { echo "kafka-up: $*" >&2; }

case "$PROFILE" in
  kafka3|kafka4) ;;
  *) err "unknown KAFKA_PROFILE '$PROFILE' (expected kafka3 or kafka4)"; exit 2 ;;
esac
for tool in java mvn; do
  command -v "$tool" >/dev/null 2>&1 || { err "'$tool' not found on PATH"; exit 1; }
done

mkdir -p "$STATE"
STATE="$(cd "$STATE" && pwd)"
LIBS="${KAFKA_LIBS_DIR:-$ROOT/.kafka/libs-$PROFILE}"
PIDFILE="$STATE/kafka.pid"
DATAFILE="$STATE/kafka.data"

port_open() { timeout 2 bash -c "exec 3<>/dev/tcp/$HOST/$1" >/dev/null 2>&1; }
# true when $1 is a live process running kafka.Kafka (guards against a recycled pid)
is_broker() {
  [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null || return 1
  ps -o args= -p "$1" 2>/dev/null | grep -q 'kafka\.Kafka'
}
print_log() {
  local f="$1" n
  [ -f "$f" ] || { err "(no log file $f)"; return 0; }
  n="$(wc -l < "$f")"
  err "----- $f ($n lines$([ "$n" -gt 300 ] && echo ', last 300 shown')) -----"
  tail -n 300 "$f" >&2
  err "----- end of broker log -----"
}

# One kafka-up/kafka-down at a time per state dir (fd 9 is closed for the broker itself).
exec 9>"$STATE/.lock"
if command -v flock >/dev/null 2>&1; then
  flock -w 300 9 || { err "timed out waiting for $STATE/.lock (another kafka-up?)"; exit 1; }
fi

# --- already running? -------------------------------------------------------------------------
if [ -f "$PIDFILE" ]; then
  OLD_PID="$(cat "$PIDFILE" 2>/dev/null || true)"
  if is_broker "$OLD_PID"; then
    if port_open "$PORT"; then
      log "already running (pid $OLD_PID), answering on $HOST:$PORT; nothing to do"
      exit 0
    fi
    log "broker pid $OLD_PID is alive but not answering on $HOST:$PORT; restarting it"
    KAFKA_STATE_DIR="$STATE" KAFKA_LOCK_HELD=1 bash "$HERE/kafka-down.sh"
  else
    log "removing stale pid file (pid ${OLD_PID:-?} is not a running broker)"
  fi
fi
rm -f "$PIDFILE" "$DATAFILE"
rm -rf "$STATE"/data.*   # leftovers of brokers that died without kafka-down

for p in "$PORT" "$CONTROLLER_PORT"; do
  if port_open "$p"; then
    err "$HOST:$p is already in use by a process not started from $STATE:"
    ss -ltnp "sport = :$p" >&2 2>/dev/null || true
    exit 1
  fi
done

# --- jars (cached per profile; refreshed when pom.xml changes) -----------------------------------
STAMP="$PROFILE $(sha1sum < "$HERE/pom.xml" | cut -d' ' -f1)"
mkdir -p "$(dirname "$LIBS")"
exec 8>"$LIBS.lock"   # one resolution at a time per jar cache (another state dir may share it)
if command -v flock >/dev/null 2>&1; then
  flock -w 600 8 || { err "timed out waiting for $LIBS.lock (another kafka-up resolving jars?)"; exit 1; }
fi
if [ "$(cat "$LIBS/.complete" 2>/dev/null || true)" != "$STAMP" ]; then
  log "resolving $PROFILE broker jars with Maven into $LIBS (first run downloads from Maven Central)"
  T0=$SECONDS
  TMP="$(mktemp -d "$LIBS-tmp.XXXXXX")"
  # Debian's Maven 3.8 prints stray ANSI resets (ESC[0m) even with -B -q: strip them (pipefail keeps mvn's status)
  if ! mvn -B -q -f "$HERE/pom.xml" -P"$PROFILE" dependency:copy-dependencies \
        -DincludeScope=runtime -DoutputDirectory="$TMP" < /dev/null 2>&1 | sed -u 's/\x1b\[[0-9;]*m//g'; then
    rm -rf "$TMP"
    err "mvn dependency:copy-dependencies failed (is Maven Central reachable?)"
    exit 1
  fi
  rm -rf "$HERE/target"   # maven-dependency-plugin may leave an empty target/ beside the pom
  if ! ls "$TMP"/kafka_2.13-*.jar >/dev/null 2>&1; then
    rm -rf "$TMP"; err "no kafka_2.13 jar was copied; check tools/kafka/pom.xml"; exit 1
  fi
  rm -rf "$LIBS"
  mv "$TMP" "$LIBS"
  echo "$STAMP" > "$LIBS/.complete"
  log "$(ls "$LIBS"/*.jar | wc -l) jars in $LIBS ($((SECONDS - T0)) s)"
fi
exec 8>&-

# --- fresh data dir, format, start ---------------------------------------------------------------
DATA="$(mktemp -d "$STATE/data.XXXXXX")"
sed_escape() { printf '%s' "$1" | sed -e 's/[\\&|]/\\&/g'; }
sed -e "s|@LOG_DIRS@|$(sed_escape "$DATA/logs")|" -e "s|@PORT@|$PORT|g" -e "s|@CONTROLLER_PORT@|$CONTROLLER_PORT|g" \
  "$HERE/server.properties" > "$DATA/server.properties"
echo "$DATA" > "$DATAFILE"

# An extra listener that asks for SASL; SCRAM credentials are written by the format below.
SCRAM=()
if [ -n "${KAFKA_SASL_PORT:-}" ]; then
  JAAS_USERS=""
  IFS=',' read -ra SASL_PAIRS <<< "${KAFKA_SASL_USERS:-spindle:spindle-secret}"
  for pair in "${SASL_PAIRS[@]}"; do
    name="${pair%%:*}" secret="${pair#*:}"
    JAAS_USERS+=" user_$name=\"$secret\""
    SCRAM+=(--add-scram "SCRAM-SHA-256=[name=$name,password=$secret]"
            --add-scram "SCRAM-SHA-512=[name=$name,password=$secret]")
  done
  SASL_LISTENER="SASL_PLAINTEXT://$HOST:$KAFKA_SASL_PORT"
  sed -i -e "s|^listeners=\(.*\)|listeners=\1,$SASL_LISTENER|" \
    -e "s|^advertised.listeners=\(.*\)|advertised.listeners=\1,$SASL_LISTENER|" \
    -e "s|^listener.security.protocol.map=\(.*\)|listener.security.protocol.map=\1,SASL_PLAINTEXT:SASL_PLAINTEXT|" \
    "$DATA/server.properties"
  cat >> "$DATA/server.properties" <<EOF
sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256,SCRAM-SHA-512
listener.name.sasl_plaintext.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required$JAAS_USERS;
listener.name.sasl_plaintext.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
EOF
fi

# An extra listener that speaks TLS, with the caller's key and certificate.
if [ -n "${KAFKA_SSL_PORT:-}" ]; then
  [ -r "${KAFKA_SSL_KEYSTORE:-}" ] || { err "KAFKA_SSL_PORT needs KAFKA_SSL_KEYSTORE, a readable PKCS12 file"; exit 1; }
  SSL_LISTENER="SSL://$HOST:$KAFKA_SSL_PORT"
  sed -i -e "s|^listeners=\(.*\)|listeners=\1,$SSL_LISTENER|" \
    -e "s|^advertised.listeners=\(.*\)|advertised.listeners=\1,$SSL_LISTENER|" \
    -e "s|^listener.security.protocol.map=\(.*\)|listener.security.protocol.map=\1,SSL:SSL|" \
    "$DATA/server.properties"
  cat >> "$DATA/server.properties" <<EOF
listener.name.ssl.ssl.keystore.type=PKCS12
listener.name.ssl.ssl.keystore.location=$KAFKA_SSL_KEYSTORE
listener.name.ssl.ssl.keystore.password=${KAFKA_SSL_KEYSTORE_PASSWORD:-}
listener.name.ssl.ssl.key.password=${KAFKA_SSL_KEYSTORE_PASSWORD:-}
EOF
  if [ -n "${KAFKA_SSL_CLIENT_CA:-}" ]; then
    [ -r "$KAFKA_SSL_CLIENT_CA" ] || { err "KAFKA_SSL_CLIENT_CA must be a readable PEM file"; exit 1; }
    cat >> "$DATA/server.properties" <<EOF
listener.name.ssl.ssl.client.auth=required
listener.name.ssl.ssl.truststore.type=PEM
listener.name.ssl.ssl.truststore.location=$KAFKA_SSL_CLIENT_CA
EOF
  fi
fi

if [ "$PROFILE" = kafka3 ]; then LOGCFG="-Dlog4j.configuration=file:$HERE/log4j.properties"
else LOGCFG="-Dlog4j2.configurationFile=$HERE/log4j2.properties"; fi
JOPTS=(-Xms256m -Xmx512m -XX:+UseG1GC -XX:MaxGCPauseMillis=20
       -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true "$LOGCFG")
# The one-shot format tool starts faster on the JIT's first tier alone. The broker gets the whole
# JIT, as a production broker has: on the first tier alone it spent about a third more CPU per
# message, which the benchmark counted against Spindle on a 2-core machine (BENCHMARKS.md,
# 2026-12-07 (day)). The full JIT compiles for a minute or two after the start, then costs nothing.
FORMAT_JOPTS=("${JOPTS[@]}" -XX:TieredStopAtLevel=1)

cd "$STATE"   # so that any hs_err_pid*.log lands in the state dir, not in the caller's cwd
if ! java "${FORMAT_JOPTS[@]}" -cp "$LIBS/*" kafka.tools.StorageTool format \
      -t "$CLUSTER_ID" -c "$DATA/server.properties" ${SCRAM[@]+"${SCRAM[@]}"} > "$DATA/format.log" 2>&1 < /dev/null; then
  err "formatting $DATA/logs failed:"
  cat "$DATA/format.log" >&2
  exit 1
fi

# Detach the broker: own session (setsid), no stdin, no inherited lock fd. The inner bash writes
# its own pid (then execs java), so the pid file holds the java pid even if setsid forks.
SETSID=()
command -v setsid >/dev/null 2>&1 && SETSID=(setsid)
nohup ${SETSID[@]+"${SETSID[@]}"} bash -c 'echo $$ > "$0"; exec "$@"' "$PIDFILE" \
  java "${JOPTS[@]}" -cp "$LIBS/*" kafka.Kafka "$DATA/server.properties" \
  > "$DATA/broker.log" 2>&1 < /dev/null 9>&- &
LAUNCHER=$!
for _ in $(seq 1 50); do [ -s "$PIDFILE" ] && break; sleep 0.1; done
[ -s "$PIDFILE" ] || echo "$LAUNCHER" > "$PIDFILE"
PID="$(cat "$PIDFILE")"

stop_broker() {
  kill -TERM "$PID" 2>/dev/null || true
  for _ in $(seq 1 20); do kill -0 "$PID" 2>/dev/null || return 0; sleep 0.5; done
  kill -KILL "$PID" 2>/dev/null || true
}

DEADLINE=$((SECONDS + TIMEOUT))
while :; do
  if grep -q "Kafka Server started" "$DATA/broker.log" 2>/dev/null && port_open "$PORT"; then
    log "up: $HOST:$PORT (pid $PID, profile $PROFILE, ${SECONDS} s, log $DATA/broker.log)"
    exit 0
  fi
  if ! kill -0 "$PID" 2>/dev/null; then
    err "broker process $PID exited during startup"
    print_log "$DATA/broker.log"
    rm -f "$PIDFILE"
    exit 1
  fi
  if [ "$SECONDS" -ge "$DEADLINE" ]; then
    err "broker did not log 'Kafka Server started' within ${TIMEOUT} s; stopping it"
    stop_broker
    print_log "$DATA/broker.log"
    rm -f "$PIDFILE"
    exit 1
  fi
  sleep 0.5
done
