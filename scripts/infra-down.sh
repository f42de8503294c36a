#!/usr/bin/env bash
# Local/CI infrastructure down: stops the Kafka broker started by scripts/infra-up.sh and deletes its
# data, and stops the S3 storage (its objects stay in .s3/). PostgreSQL is a machine service and is
# left alone.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$ROOT/tools/kafka/kafka-down.sh"
bash "$ROOT/tools/s3/s3-down.sh"
