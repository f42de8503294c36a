#!/usr/bin/env bash
# Local/CI infrastructure up: Kafka broker on 127.0.0.1:19092 (tools/kafka/kafka-up.sh), the
# S3-compatible storage of MapReduce jobs on 127.0.0.1:19000 (tools/s3/s3-up.sh), then make sure
# the PostgreSQL database in DATABASE_URL exists (tools/postgres/ensure-db.sh). Idempotent.
# Env: KAFKA_PROFILE, KAFKA_STATE_DIR, KAFKA_PORT (see kafka-up.sh), S3_PORT (see s3-up.sh),
# DATABASE_URL (see ensure-db.sh).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$ROOT/tools/kafka/kafka-up.sh"
bash "$ROOT/tools/s3/s3-up.sh"
bash "$ROOT/tools/postgres/ensure-db.sh"
