"""`python -m bench` (or `make bench`). First the connections page for a third party with 10,000 connections
against one with 10, measured interleaved in one run; then the server, the mail worker, the documents
viewer (200 documents against 2), a document's page with 1,000 views against none, and the
5,000-row CSV import. Exits 1 when a target is missed.

Steps: a throw-away database (SQLite, or PostgreSQL when BENCH_DATABASE_URL is set), the migrations,
bulk-inserted data, the query plans of the list and count queries, then the real app under Litestar's
test client (in-process, no network), both third parties logged in through the login form, and
ROUNDS rounds of every page for both accounts. See bench/README.md.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import shutil
import subprocess
import sys
from datetime import UTC, date, datetime
from typing import Any

from bench.csv_import import csv_gate
from bench.document_views import document_views_ratio, seed_document_views, statement_plans
from bench.env import (
    _TMP,
    DB_URL,
    IS_POSTGRES,
    LARGE,
    LIMIT,
    N_LEARNERS,
    OUT_DIR,
    PASSWORD,
    REDIS_URL,
    ROOT,
    ROUNDS,
    SEARCH_SURNAME,
    SECOND_STEP,
    SIZES,
    SMALL,
    WARMUP,
)
from bench.first_load import first_load_table
from bench.mailrate import EMAILS, mails_per_second
from bench.plans import query_plans
from bench.seed import _recreate_postgres, prepare_database, seed
from bench.server import server_table
from bench.timing import measure, queries_per_page, report
from bench.viewer import seed_viewers, viewer_ratio
from src.clock import today_in
from src.settings import load_settings


async def setup() -> tuple[dict[str, Any], dict[str, Any], date, dict[str, Any], dict[str, Any]]:
    await prepare_database()
    today = today_in(load_settings().tz)
    third_parties = await seed(today)
    viewers = {} if os.environ.get("BENCH_SKIP_VIEWER") else await seed_viewers(today)
    views = {} if os.environ.get("BENCH_SKIP_VIEWS") else await seed_document_views(today)
    # The plans after every seed (and its ANALYZE): the ones the timings below run with.
    plans = await query_plans(third_parties, today)
    if views:
        views["plans"] = await statement_plans(views)
    return third_parties, plans, today, viewers, views


def verify_page_section() -> list[str]:
    """The verify page with 1,000,000 documents (bench/verify_page.py), in a process of its own: it
    seeds its own database (on PostgreSQL, one named after the bench's with `_verify` added)."""
    env = dict(os.environ)
    if IS_POSTGRES:
        env["BENCH_DATABASE_URL"] = DB_URL + "_verify"
    print("\nVerify page (/v/CODE) under `portal serve`:", flush=True)
    done = subprocess.run([sys.executable, "-m", "bench.verify_page"], cwd=ROOT, env=env, check=False)
    return [] if done.returncode == 0 else ["verify page: see its section above"]


def main() -> int:
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one INFO line per request otherwise
    logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd: one per SMTP command
    print(f"database: {'PostgreSQL ' + DB_URL.rpartition('/')[2] if IS_POSTGRES else DB_URL}")
    try:
        third_parties, plans, today, viewers, views = asyncio.run(setup())
        results = measure(third_parties)
        failures = report(results)
        queries = queries_per_page(third_parties)
        print(
            "\nQueries per page (small account, with the session's account lookup): "
            + ", ".join(f"{url} {n}" for url, n in queries.items())
        )
        failures += [
            f"{url} runs {n} queries (at most 4)"
            for url, n in queries.items()
            if url.startswith("/connections") and n > 4
        ]
        lines, missed = first_load_table(third_parties)
        print("\n".join(lines))
        failures += missed
        if not os.environ.get("BENCH_SKIP_SERVER"):
            lines, missed = server_table(
                DB_URL, REDIS_URL, third_parties[SMALL]["username"], PASSWORD, f"bench_{SECOND_STEP}"
            )
            print("\n".join(lines))
            failures += missed
        if not os.environ.get("BENCH_SKIP_MAIL"):
            print(f"\nMail: {EMAILS} emails through the outbox to a local SMTP server")
            for workers in (1, 2):
                rate, duplicates = mails_per_second(DB_URL, workers)
                print(
                    f"  {workers} worker{'s' if workers > 1 else ''}: {rate:,.0f} mails/s, {duplicates} duplicates"
                )
                if duplicates:
                    failures.append(f"mail: {duplicates} duplicates with {workers} workers")
                if workers == 2 and rate < 200:
                    failures.append(f"mail: {rate:.0f} mails/s with two workers (target 200)")
        if viewers:
            lines, missed = viewer_ratio(viewers)
            print("\n".join(lines))
            failures += missed
        if views:
            lines, missed = views.pop("plans")
            print("\n".join(lines))
            failures += missed
            lines, missed = document_views_ratio(views)
            print("\n".join(lines))
            failures += missed
        if not os.environ.get("BENCH_SKIP_CSV"):
            lines, missed = csv_gate()
            print("\n".join(lines))
            failures += missed
        if not os.environ.get("BENCH_SKIP_VERIFY"):
            failures += verify_page_section()
        OUT_DIR.mkdir(parents=True, exist_ok=True)
        out = OUT_DIR / ("connections-postgresql.json" if IS_POSTGRES else "connections.json")
        out.write_text(
            json.dumps(
                {
                    "engine": "postgresql" if IS_POSTGRES else "sqlite",
                    "run_at": datetime.now(UTC).isoformat(timespec="seconds"),
                    "today": today.isoformat(),
                    "rounds": ROUNDS,
                    "warmup": WARMUP,
                    "max_ratio": LIMIT,
                    "connections": SIZES,
                    "learners": N_LEARNERS,
                    "search": SEARCH_SURNAME.lower(),
                    "pages": results,
                    "failures": failures,
                    "query_plans": plans,
                },
                indent=2,
                default=str,
            )
        )
        print(f"\nresults written to {out.relative_to(ROOT)}")
        if failures:
            print("FAIL: " + "; ".join(failures))
            return 1
        print(
            f"OK: every target met; every gated page for {SIZES[LARGE]:,} connections within {LIMIT}x of {SIZES[SMALL]}."
        )
        return 0
    finally:
        if IS_POSTGRES and not os.environ.get("BENCH_KEEP"):
            asyncio.run(_recreate_postgres(DB_URL, drop_only=True))
        if os.environ.get("BENCH_KEEP"):
            print(f"kept {_TMP} (BENCH_KEEP is set)")
        else:
            shutil.rmtree(_TMP, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
