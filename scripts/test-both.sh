#!/usr/bin/env bash
# `make test`: the suite on SQLite (browser journeys included) and, when TEST_POSTGRES_URL is set, on
# PostgreSQL at the same time, one run per core. The PostgreSQL run leaves out the engine-free modules
# (they ran on SQLite already) and writes to var/test-postgres.log, printed once it ends. Each run
# has a Redis database of its own (the Redis tests empty theirs). Exit status: non-zero if either failed.
set -uo pipefail
cd "$(dirname "$0")/.."
PYTEST=(.venv/bin/pytest --durations=15 --durations-min=1.0)
REDIS_BASE="${TEST_REDIS_URL:-redis://127.0.0.1:6379/15}"

postgres_pid=""
if [ -n "${TEST_POSTGRES_URL:-}" ]; then
  mkdir -p var
  echo "PostgreSQL run started beside this one; its output: var/test-postgres.log"
  TEST_DATABASE_URL="$TEST_POSTGRES_URL" TEST_REDIS_URL="${REDIS_BASE%/*}/14" \
    "${PYTEST[@]}" -m "not browser and not engine_free" >var/test-postgres.log 2>&1 &
  postgres_pid=$!
fi

echo "== SQLite =="
TEST_REDIS_URL="$REDIS_BASE" "${PYTEST[@]}" "$@"
sqlite_status=$?

postgres_status=0
if [ -n "$postgres_pid" ]; then
  wait "$postgres_pid"
  postgres_status=$?
  echo
  echo "== PostgreSQL (var/test-postgres.log) =="
  cat var/test-postgres.log
fi
[ "$sqlite_status" -eq 0 ] && [ "$postgres_status" -eq 0 ]
