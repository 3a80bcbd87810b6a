#!/usr/bin/env bash
# `make test`: the suite on SQLite, its browser journeys and, when TEST_POSTGRES_URL is set, the suite
# on PostgreSQL, as three runs at the same time. The two cores are shared by the three: the browser
# journeys spend much of their time waiting on Chromium and a real server, and the runs end at about
# the same time instead of one long SQLite run with the journeys at its end. The PostgreSQL run
# leaves out the engine-free modules (they ran on SQLite already). The runs beside the SQLite one
# write to var/test-postgres.log and var/test-browser.log, printed once they end. Each run has a
# Redis database of its own (the Redis tests empty theirs). Exit status: non-zero if any failed.
# With pytest arguments (`bash scripts/test-both.sh -k revoked`) the SQLite run takes them and runs
# the browser journeys they select itself.
set -uo pipefail
cd "$(dirname "$0")/.."
PYTEST=(.venv/bin/pytest --durations=15 --durations-min=1.0)
REDIS_BASE="${TEST_REDIS_URL:-redis://127.0.0.1:6379/15}"
mkdir -p var

postgres_pid=""
if [ -n "${TEST_POSTGRES_URL:-}" ]; then
  echo "PostgreSQL run started beside this one; its output: var/test-postgres.log"
  TEST_DATABASE_URL="$TEST_POSTGRES_URL" TEST_REDIS_URL="${REDIS_BASE%/*}/14" \
    "${PYTEST[@]}" -m "not browser and not engine_free" >var/test-postgres.log 2>&1 &
  postgres_pid=$!
fi

browser_pid=""
sqlite_args=("$@")
if [ "$#" -eq 0 ]; then
  echo "Browser journeys started beside this one; their output: var/test-browser.log"
  TEST_REDIS_URL="${REDIS_BASE%/*}/13" "${PYTEST[@]}" -m browser >var/test-browser.log 2>&1 &
  browser_pid=$!
  sqlite_args=(-m "not browser")
fi

echo "== SQLite =="
TEST_REDIS_URL="$REDIS_BASE" "${PYTEST[@]}" "${sqlite_args[@]}"
sqlite_status=$?

browser_status=0
if [ -n "$browser_pid" ]; then
  wait "$browser_pid"
  browser_status=$?
  echo
  echo "== Browser journeys (var/test-browser.log) =="
  cat var/test-browser.log
fi

postgres_status=0
if [ -n "$postgres_pid" ]; then
  wait "$postgres_pid"
  postgres_status=$?
  echo
  echo "== PostgreSQL (var/test-postgres.log) =="
  cat var/test-postgres.log
fi
[ "$sqlite_status" -eq 0 ] && [ "$browser_status" -eq 0 ] && [ "$postgres_status" -eq 0 ]
