#!/usr/bin/env bash
# `make test`: the suite on SQLite with the browser journeys and, when TEST_POSTGRES_URL is set, on
# PostgreSQL at the same time, one run per core. The PostgreSQL run leaves out the engine-free modules
# (they run once, on SQLite) and takes the journeys' runs with JavaScript off (marked no_javascript;
# the journeys' server has a SQLite database of its own, whichever run starts it), so that both runs
# take about as long. It writes to var/test-postgres.log, printed once it ends. Each run has a Redis
# database of its own (the Redis tests empty theirs): TEST_REDIS_URL's for the SQLite run,
# TEST_REDIS_URL_2's for the PostgreSQL run, by default the database paired with the first (its number
# with the last bit flipped: 15 and 14, 10 and 11). Exit status: non-zero if either failed.
set -uo pipefail
cd "$(dirname "$0")/.."
PYTEST=(.venv/bin/pytest --durations=15 --durations-min=1.0)
REDIS_BASE="${TEST_REDIS_URL:-redis://127.0.0.1:6379/15}"
if [[ "$REDIS_BASE" =~ ^(.*)/([0-9]+)$ ]]; then
  REDIS_PAIRED="${BASH_REMATCH[1]}/$((BASH_REMATCH[2] ^ 1))"
else
  REDIS_PAIRED="${REDIS_BASE%/}/1" # no number: database 0, paired with 1
fi
REDIS_SECOND="${TEST_REDIS_URL_2:-$REDIS_PAIRED}"
if [ "$REDIS_SECOND" = "$REDIS_BASE" ]; then
  echo "TEST_REDIS_URL_2 must name another Redis database than TEST_REDIS_URL ($REDIS_BASE)" >&2
  exit 2
fi

postgres_pid=""
sqlite_selection=()
if [ -n "${TEST_POSTGRES_URL:-}" ]; then
  mkdir -p var
  echo "PostgreSQL run started beside this one; its output: var/test-postgres.log"
  TEST_DATABASE_URL="$TEST_POSTGRES_URL" TEST_REDIS_URL="$REDIS_SECOND" \
    "${PYTEST[@]}" -m "not engine_free and (not browser or no_javascript)" >var/test-postgres.log 2>&1 &
  postgres_pid=$!
  sqlite_selection=(-m "not no_javascript")
fi

echo "== SQLite =="
TEST_REDIS_URL="$REDIS_BASE" "${PYTEST[@]}" "${sqlite_selection[@]}" "$@"
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
