#!/usr/bin/env bash
# Build Spindle's JVM runner (the long-lived JVM of a worker that runs `jvm-runner` tasks, such as
# Ilum SCALA groups' requests) into runtimes/jvm/: spindle-jvm-runner.jar and lib/ (Gson), and the
# Scala code session of Ilum's SCALA CODE groups (scala-session/) into runtimes/jvm/scala/:
# spindle-scala-session.jar and lib/ (Scala 2.13's compiler and library, about 23 MB).
#
#   bash tools/jvm-runner/build.sh     # idempotent: does nothing when the jar is up to date
#
# Needs java, javac and mvn (Gson and Scala come from Maven Central once, through ~/.m2). Without them it
# says so and exits 0 with SPINDLE_JVM_RUNNER_OPTIONAL=1 (`npm start` on a machine with only
# Node: every other runtime works; a jvm-runner task then fails naming this script).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
OUT="${SPINDLE_JVM_RUNNER_DIR:-$ROOT/runtimes/jvm}"

log() { echo "jvm-runner: $*"; }       # progress: stdout
warn() { echo "jvm-runner: $*" >&2; }  # what keeps it from being built: stderr

# Optional (npm start): a machine without Java runs every other runtime; say why and go on.
give_up() {
  warn "$1"
  if [ "${SPINDLE_JVM_RUNNER_OPTIONAL:-}" = 1 ]; then
    warn "the JVM runner is not built: jvm-runner tasks (Ilum SCALA groups) fail until it is, and SCALA CODE groups answer 409"
    exit 0
  fi
  exit 1
}

for tool in java javac jar mvn; do
  command -v "$tool" >/dev/null 2>&1 || give_up "'$tool' not found on PATH"
done

# Up to date when the stamp names the same sources, pom and javac.
STAMP="$( (cat "$HERE/pom.xml" "$HERE/scala-session/pom.xml"
  find "$HERE/src" "$HERE/scala-session/src" -name '*.java' -print0 | sort -z | xargs -0 cat
  javac -version 2>&1) | sha1sum | cut -d' ' -f1)"
mkdir -p "$(dirname "$OUT")"
exec 8>"$HERE/.build.lock" # one build at a time (jest's setup and a start may race)
command -v flock >/dev/null 2>&1 && flock -w 600 8
if [ "$(cat "$OUT/.complete" 2>/dev/null || true)" = "$STAMP" ]; then exit 0; fi

T0=$SECONDS
TMP="$(mktemp -d "$HERE/.build-tmp.XXXXXX")" # not under runtimes/: agents copy that whole
trap 'rm -rf "$TMP"' EXIT
# Debian's Maven 3.8 prints stray ANSI resets even with -B -q: strip them (pipefail keeps mvn's status).
copy_dependencies() { # pom, into
  local status=0
  mvn -B -q -f "$1" dependency:copy-dependencies -DincludeScope=runtime \
    -DoutputDirectory="$2" < /dev/null 2>&1 | sed -u 's/\x1b\[[0-9;]*m//g' >&2 || status=$?
  rm -rf "$(dirname "$1")/target"
  [ "$status" = 0 ] || warn "mvn dependency:copy-dependencies -f $1 failed (is Maven Central reachable?)"
  return "$status"
}
copy_dependencies "$HERE/pom.xml" "$TMP/lib" || give_up "the runner's libraries could not be fetched"
# Optional (npm start), Scala alone: without it only SCALA CODE groups go (409), and the stamp is
# not written, so that the next run tries again.
SCALA=1
if ! copy_dependencies "$HERE/scala-session/pom.xml" "$TMP/scala/lib"; then
  [ "${SPINDLE_JVM_RUNNER_OPTIONAL:-}" = 1 ] || give_up "Scala 2.13 could not be fetched"
  warn "built without Scala: SCALA CODE groups answer 409 until it is fetched"
  SCALA=0
  rm -rf "$TMP/scala"
fi
mkdir -p "$TMP/classes"
javac --release 17 -encoding UTF-8 -Xlint:all -Werror -cp "$(ls "$TMP"/lib/*.jar | tr '\n' :)" \
  -d "$TMP/classes" $(find "$HERE/src" -name '*.java') || give_up "javac failed"
jar --create --file "$TMP/spindle-jvm-runner.jar" -C "$TMP/classes" .
rm -rf "$TMP/classes"
# The session: the runner puts its own scala/lib/ in the loader of a jar whose manifest asks for it.
# (-path: scala-compiler's manifest names jars by a Class-Path that Maven's copies do not match.)
if [ "$SCALA" = 1 ]; then
  mkdir -p "$TMP/classes"
  javac --release 17 -encoding UTF-8 -Xlint:all,-path -Werror -cp "$(ls "$TMP"/scala/lib/*.jar | tr '\n' :)" \
    -d "$TMP/classes" $(find "$HERE/scala-session/src" -name '*.java') || give_up "javac failed (scala-session)"
  printf 'Spindle-Runner-Libraries: scala\n' > "$TMP/session.mf"
  jar --create --file "$TMP/scala/spindle-scala-session.jar" --manifest "$TMP/session.mf" -C "$TMP/classes" .
  rm -rf "$TMP/classes" "$TMP/session.mf"
fi
rm -rf "$OUT"
mv "$TMP" "$OUT"
chmod -R a+rX "$OUT"
if [ "$SCALA" = 1 ]; then echo "$STAMP" > "$OUT/.complete"; fi
log "built $OUT ($((SECONDS - T0)) s)$([ "$SCALA" = 1 ] || echo ', without Scala')"
