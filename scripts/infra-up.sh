#!/usr/bin/env bash
# Local/CI infrastructure up: Kafka broker on 127.0.0.1:19092 (tools/kafka/kafka-up.sh), then make sure
# the PostgreSQL database in DATABASE_URL exists (tools/postgres/ensure-db.sh). Idempotent.
# Env: KAFKA_PROFILE, KAFKA_STATE_DIR (see kafka-up.sh), DATABASE_URL (see ensure-db.sh).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$ROOT/tools/kafka/kafka-up.sh"
bash "$ROOT/tools/postgres/ensure-db.sh"
