"""The learner's document page with its views (issue 22): one learner's document viewed 1,000 times
by third parties and staff and checked 10,000 times on its verify page, against the same learner's
page of a document with none, measured interleaved in one run (as viewer.py does) and gated on the
ratio of medians (within 1.5x). It also prints the plans of the statements that read the views and
the checks, and fails when one sorts or scans the table (the page reads a page of views off the
access_event (document, action, at, id) index and the count from the per-day tally).

`python -m bench.document_views` runs it alone on a throw-away database (BENCH_DATABASE_URL for
PostgreSQL, as for the rest of the bench); BENCH_SKIP_VIEWS=1 leaves it out of `make bench`.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import statistics
import sys
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from bench.env import _TMP, BASE_URL, DB_URL, IS_POSTGRES, LIMIT, PASSWORD
from bench.plans import captured_queries, explain
from bench.timing import fetch, log_in

VIEWS, CHECKS, CHECK_DAYS = 1_000, 10_000, 200
NEIGHBOURS = 500
ROUNDS = int(os.environ.get("BENCH_VIEWS_ROUNDS", os.environ.get("BENCH_VIEWER_ROUNDS", "100")))
WARMUP = int(os.environ.get("BENCH_VIEWS_WARMUP", os.environ.get("BENCH_VIEWER_WARMUP", "10")))
LEARNER = "bench_seen_by"


async def seed_document_views(today: date) -> dict[str, Any]:
    """One learner who logs in, with two documents: one viewed VIEWS times (a tenth by staff) through
    a connection with each of 50 third parties and checked CHECKS times over CHECK_DAYS days; one
    with none. Another learner's document gets as many views, and NEIGHBOURS documents of theirs
    20 days of checks each, so the indexes have neighbours and PostgreSQL's planner a table worth
    searching."""
    from src import accounts, connections, db, documents
    from src.audit import AuditAction
    from src.tables.accounts import Role
    from src.tables.connections import AccessEvent
    from src.tables.documents import VerifyTally

    def person(role: Role, username: str, password: str | None = None) -> Any:
        return accounts.create_account(
            accounts.NewAccount(
                role,
                username,
                f"{username}@bench.invalid",
                "Dana",
                "Viewer",
                password=password,
                verified=True,
            )
        )

    learner = await person(Role.learner, LEARNER, PASSWORD)
    other = await person(Role.learner, "bench_seen_by_other")
    staff = await person(Role.staff, "bench_seen_by_staff")
    third_parties = [await person(Role.third_party, f"bench_seen_by_tp{n}") for n in range(50)]
    units = [{"code": f"U{u}", "title": f"Unit {u}", "level": "2", "credits": "5"} for u in range(4)]
    async with db.write_transaction():
        viewed, quiet, neighbour = [
            await documents.issue(
                owner, f"Level 3 Certificate {n}", f"SEEN-{n}", today - timedelta(days=400), units=units
            )
            for n, owner in enumerate((learner, learner, other))
        ]
        checked_elsewhere = [
            await documents.issue(other, f"Award {n}", f"SEEN-N{n}", today - timedelta(days=400))
            for n in range(NEIGHBOURS)
        ]
    links = {}
    for third_party in third_parties:
        for owner, document in ((learner, viewed), (other, neighbour)):
            connection = await connections.share(
                owner, third_party.email, [document.id], today + timedelta(days=300), today
            )
            await connections.accept_as_third_party(third_party, connection, today)
            links[third_party.id, document.id] = connection.id
    start = datetime.combine(today - timedelta(days=365), time(9), UTC)
    events = []
    for document in (viewed, neighbour):
        for n in range(VIEWS):
            by_staff = n % 10 == 0
            viewer = staff if by_staff else third_parties[n % len(third_parties)]
            events.append(
                {
                    "account": viewer.id,
                    "action": AuditAction.viewed_document.value,
                    "connection": None if by_staff else links[viewer.id, document.id],
                    "document": document.id,
                    "detail": "",
                    "at": start + timedelta(minutes=521 * n),
                }
            )
    per_day = CHECKS // CHECK_DAYS
    tallies = [
        {
            "document": viewed.id,
            "day": today - timedelta(days=day),
            "checks": per_day,
            "last_at": datetime.combine(today - timedelta(days=day), time(15), UTC),
        }
        for day in range(CHECK_DAYS)
    ] + [
        {
            "document": document.id,
            "day": today - timedelta(days=day),
            "checks": 3,
            "last_at": datetime.combine(today - timedelta(days=day), time(15), UTC),
        }
        for document in checked_elsewhere
        for day in range(20)
    ]
    async with db.write_transaction():
        await db.insert_many(AccessEvent, events)
        await db.insert_many(VerifyTally, tallies)
    if IS_POSTGRES:
        await db.engine().run_ddl("VACUUM ANALYZE")  # as autovacuum would have on a live database
    return {"viewed": viewed.id, "quiet": quiet.id, "learner_id": learner.id}


async def statement_plans(seeded: dict[str, Any]) -> tuple[list[str], list[str]]:
    """The plans of the views page and the checks count for the viewed document; a line that sorts
    or scans access_event or verify_tally is a failure."""
    from src import connections
    from src.settings import load_settings
    from src.tables.accounts import Account

    learner = await Account.objects().where(Account.id == seeded["learner_id"]).first()
    tz = load_settings().tz

    async def work() -> None:
        await connections.views_page(learner, seeded["viewed"], 1)
        await connections.views_page(learner, seeded["viewed"], 40)
        await connections.verify_checks(seeded["viewed"], tz)

    lines, failures = ["\nDocument views: query plans"], []
    for n, querystring in enumerate(await captured_queries(work)):
        plan = await explain(querystring)
        lines += [f"  statement {n + 1}:"] + [f"    {line}" for line in plan]
        for line in plan:
            if _sorts_or_scans(line):
                failures.append(f"document views, statement {n + 1}: {line.strip()}")
    return lines, failures


def _sorts_or_scans(line: str) -> bool:
    if IS_POSTGRES:
        return any(f"Seq Scan on {table}" in line for table in ("access_event", "verify_tally")) or (
            "Sort" in line and "Top-N" not in line
        )
    return "TEMP B-TREE" in line or any(
        line.strip().startswith(f"SCAN {table}") for table in ("access_event", "verify_tally", "e", "t")
    )


def document_views_ratio(seeded: dict[str, Any]) -> tuple[list[str], list[str]]:
    """Lines to print and failures: median and p90 of both pages, and the ratio of medians."""
    from litestar.testing import TestClient

    from src.app import create_app
    from src.settings import load_settings

    pages = {"1,000 views": f"/documents/{seeded['viewed']}", "none": f"/documents/{seeded['quiet']}"}
    samples: dict[str, list[float]] = {key: [] for key in pages}
    with TestClient(create_app(load_settings()), base_url=BASE_URL) as client:
        jar = log_in(client, LEARNER)
        shown = fetch(client, jar, pages["1,000 views"], False)[1].text
        if shown.count("<li><span>") < 10 or f"Checked on the verify page: {CHECKS} times" not in shown:
            raise SystemExit("the viewed document's page shows no page of views or no verify count")
        order = list(pages)
        for round_number in range(WARMUP + ROUNDS):
            order.reverse()  # alternate which page goes first
            for key in order:
                elapsed = fetch(client, jar, pages[key], False)[0]
                if round_number >= WARMUP:
                    samples[key].append(elapsed)
    medians = {key: statistics.median(values) * 1000 for key, values in samples.items()}
    p90 = {key: sorted(values)[int(0.9 * (len(values) - 1))] * 1000 for key, values in samples.items()}
    ratio = medians["1,000 views"] / medians["none"]
    verdict = "ok" if ratio <= LIMIT else f"TOO SLOW (> {LIMIT}x)"
    lines = [
        f"\nA learner's document page, {VIEWS:,} views and {CHECKS:,} verify checks against none "
        f"({ROUNDS} rounds after {WARMUP} warm-up, interleaved)",
        f"  none: {medians['none']:.1f} ms (p90 {p90['none']:.1f}), {VIEWS:,} views: "
        f"{medians['1,000 views']:.1f} ms (p90 {p90['1,000 views']:.1f}), ratio {ratio:.2f}x  {verdict}",
    ]
    return lines, [] if ratio <= LIMIT else [f"document page with views: {ratio:.2f}x"]


def main() -> int:
    """The gate alone, on a database of its own."""
    from bench.seed import _recreate_postgres, prepare_database
    from src.clock import today_in
    from src.settings import load_settings

    print(f"database: {'PostgreSQL ' + DB_URL.rpartition('/')[2] if IS_POSTGRES else DB_URL}")

    async def setup() -> tuple[dict[str, Any], list[str], list[str]]:
        await prepare_database()
        seeded = await seed_document_views(today_in(load_settings().tz))
        return (seeded, *await statement_plans(seeded))

    try:
        seeded, lines, failures = asyncio.run(setup())
        print("\n".join(lines))
        lines, missed = document_views_ratio(seeded)
        print("\n".join(lines))
        failures += missed
    finally:
        if IS_POSTGRES and not os.environ.get("BENCH_KEEP"):
            asyncio.run(_recreate_postgres(DB_URL, drop_only=True))
        if not os.environ.get("BENCH_KEEP"):
            shutil.rmtree(_TMP, ignore_errors=True)
    if failures:
        print("FAIL: " + "; ".join(failures))
        return 1
    print("OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
