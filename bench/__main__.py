"""`python -m bench` (or `make bench`): the connections page for a third party with 10,000 connections
against one with 10, measured interleaved in one run. Exits 1 when a gated ratio exceeds 1.5.

Steps: a throw-away database (SQLite, or PostgreSQL when BENCH_DATABASE_URL is set), the migrations,
bulk-inserted data, the query plans of the list and count queries, then the real app under Litestar's
test client (in-process, no network), both third parties logged in through the login form, and
ROUNDS rounds of every page for both accounts. See bench/README.md.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import re
import secrets
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

# --- environment first: Piccolo binds its engine when the tables are imported ----------------------

ROOT = Path(__file__).resolve().parent.parent
_TMP = Path(tempfile.mkdtemp(prefix="portal-bench-"))
PG_URL = os.environ.get("BENCH_DATABASE_URL", "").strip()
DB_URL = PG_URL or f"sqlite:///{_TMP / 'bench.sqlite3'}"
os.environ["DATABASE_URL"] = DB_URL
os.environ["VAR_DIR"] = str(_TMP)
os.environ["RUN_MAIL_WORKER"] = "false"
os.environ["PORTAL_MODE"] = "development"
os.environ["MAIL_DELIVERY"] = "mailbox"
os.environ["BASE_URL"] = "http://testserver.local"
os.environ.pop("REDIS_URL", None)
IS_POSTGRES = DB_URL.startswith("postgres")

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "200"))
WARMUP = int(os.environ.get("BENCH_WARMUP", "20"))
LIMIT = float(os.environ.get("BENCH_MAX_RATIO", "1.5"))
OUT_DIR = ROOT / "var" / "bench"
BASE_URL = "http://testserver.local"
PASSWORD = "bench-lantern-meadow-piano-" + secrets.token_hex(4)

SMALL, LARGE = "small", "large"
SIZES = {SMALL: 10, LARGE: 10_000}
N_LEARNERS = 2_000
BATCH = 250

FIRST_NAMES = [
    "Amelia",
    "Olivia",
    "Isla",
    "Ava",
    "Mia",
    "Ivy",
    "Lily",
    "Grace",
    "Freya",
    "Sophia",
    "Ella",
    "Evie",
    "Noah",
    "Oliver",
    "George",
    "Arthur",
    "Leo",
    "Harry",
    "Oscar",
    "Archie",
    "Henry",
    "Theodore",
    "Jack",
    "Freddie",
    "Charlie",
    "Thomas",
    "Alfie",
    "Jacob",
    "Samir",
    "Priya",
    "Aisha",
    "Mohammed",
    "Yusuf",
    "Zara",
    "Chloe",
    "Megan",
    "Rhys",
    "Cerys",
    "Dylan",
    "Niamh",
]
LAST_NAMES = [
    "Smith",
    "Jones",
    "Taylor",
    "Brown",
    "Williams",
    "Wilson",
    "Johnson",
    "Davies",
    "Patel",
    "Robinson",
    "Wright",
    "Thompson",
    "Evans",
    "Walker",
    "White",
    "Roberts",
    "Green",
    "Hall",
    "Thomas",
    "Clarke",
    "Jackson",
    "Wood",
    "Harris",
    "Edwards",
    "Turner",
    "Martin",
    "Cooper",
    "Hill",
    "Ward",
    "Hughes",
    "Moore",
    "Clark",
    "King",
    "Harrison",
    "Lewis",
    "Baker",
    "Lee",
    "Allen",
    "Morris",
    "Khan",
    "Scott",
    "Watson",
    "Davis",
    "Parker",
    "James",
    "Bennett",
    "Young",
    "Phillips",
    "Richardson",
    "Mitchell",
    "Bailey",
    "Carter",
    "Cook",
    "Singh",
    "Shaw",
    "Bell",
    "Collins",
    "Morgan",
    "Kelly",
    "Begum",
    "Miller",
    "Cox",
    "Hussain",
    "Marshall",
    "Simpson",
    "Price",
    "Anderson",
    "Adams",
    "Wilkinson",
    "Ali",
    "Ahmed",
    "Foster",
    "Ellis",
    "Murphy",
    "Chapman",
    "Mason",
    "Gray",
    "Richards",
    "Webb",
    "Griffiths",
    "Hunt",
    "Palmer",
    "Campbell",
    "Holmes",
    "Mills",
    "Rogers",
    "Barnes",
    "Knight",
    "Matthews",
    "Barker",
    "Powell",
    "Stevens",
    "Kaur",
    "Fisher",
    "Butler",
    "Dixon",
    "Russell",
    "Harvey",
    "Pearson",
    "Graham",
    "Fletcher",
    "Lloyd",
    "Hart",
    "Jenkins",
    "Holt",
    "Reid",
    "Burton",
    "Lawson",
    "Doyle",
    "Quinn",
    "Nolan",
    "Ferguson",
    "Okafor",
    "Nowak",
    "Kowalski",
    "Rossi",
    "Silva",
    "Novak",
    "Byrne",
    "Lynch",
    "Gallagher",
    "Fraser",
]
SEARCH_SURNAME = "Gallagher"  # about N_LEARNERS / len(LAST_NAMES) learners carry it

import logging  # noqa: E402

from litestar.testing import TestClient  # noqa: E402
from piccolo.querystring import QueryString  # noqa: E402

from src import connections  # noqa: E402
from src.app import create_app  # noqa: E402
from src.clock import today_in  # noqa: E402
from src.db import engine  # noqa: E402
from src.passwords import hash_password  # noqa: E402
from src.settings import load_settings  # noqa: E402
from src.tables.accounts import Account  # noqa: E402
from src.tables.connections import Connection, ExtensionRequest, SharedDocument  # noqa: E402
from src.tables.documents import Document  # noqa: E402

# --- database ------------------------------------------------------------------------------------


async def prepare_database() -> None:
    from piccolo.apps.migrations.commands.forwards import run_forwards

    if IS_POSTGRES:
        await _recreate_postgres(DB_URL)
    result = await run_forwards(app_name="all")
    if not result.success:
        raise SystemExit(f"migrations failed: {result.message}")


async def _recreate_postgres(url: str, drop_only: bool = False) -> None:
    import asyncpg

    base, _, name = url.rpartition("/")
    if not re.fullmatch(r"[A-Za-z0-9_]+", name) or "bench" not in name:
        raise SystemExit(
            f"BENCH_DATABASE_URL must name a throw-away database with 'bench' in it, not {name!r}"
        )
    conn = await asyncpg.connect(f"{base}/postgres")
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if not drop_only:
            await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


async def insert_all(table: Any, rows: list[Any]) -> None:
    for start in range(0, len(rows), BATCH):
        await table.insert(*rows[start : start + BATCH])


async def seed(today: date) -> dict[str, Any]:
    """Two third parties (10 and 10,000 connections), N_LEARNERS learners with 3 documents each,
    connections in every state with 1-3 shared documents, and some pending extension requests."""
    rng = random.Random(20261128)  # noqa: S311 - repeatable test data, not secrets
    now = datetime.now(UTC)
    password_hash = await hash_password(PASSWORD)  # the two accounts that log in; learners get none
    started = time.perf_counter()
    async with engine().transaction():
        await Account.insert(
            *[
                Account(
                    role="third_party",
                    username=f"bench_{name}",
                    username_key=f"bench_{name}",
                    email=f"bench_{name}@example.com",
                    password_hash=password_hash,
                    password_changed_at=now,
                    email_verified_at=now,
                    first_name=name.capitalize(),
                    last_name="Employer",
                    company_name=f"{name.capitalize()} Recruiting Ltd",
                )
                for name in (SMALL, LARGE)
            ]
        )
        await insert_all(
            Account,
            [
                Account(
                    role="learner",
                    username=f"learner{i:05d}",
                    username_key=f"learner{i:05d}",
                    email=f"learner{i:05d}@example.com",
                    password_hash=None,
                    email_verified_at=now,
                    first_name=rng.choice(FIRST_NAMES),
                    last_name=LAST_NAMES[i % len(LAST_NAMES)],
                )
                for i in range(N_LEARNERS)
            ],
        )
        accounts = await Account.select(Account.id, Account.username, Account.email, Account.last_name)
        by_name = {a["username"]: a for a in accounts}
        learners = [by_name[f"learner{i:05d}"] for i in range(N_LEARNERS)]
        await insert_all(
            Document,
            [
                Document(
                    owner=learner["id"],
                    title=title,
                    certificate_number=f"BEN-{i:05d}-{j}",
                    verify_code=secrets.token_urlsafe(24),
                    awarded_on=today - timedelta(days=rng.randint(30, 3000)),
                )
                for i, learner in enumerate(learners)
                for j, title in enumerate(
                    (
                        "Level 2 Certificate in Plumbing",
                        "First Aid at Work",
                        "Level 3 Diploma in Health and Social Care",
                    )
                )
            ],
        )
        documents: dict[int, list[int]] = {}
        for d in await Document.select(Document.id, Document.owner):
            documents.setdefault(d["owner"], []).append(d["id"])

        searchable = [learner for learner in learners if learner["last_name"] == SEARCH_SURNAME]
        connections = []
        for key in (SMALL, LARGE):
            tp = by_name[f"bench_{key}"]
            if key == SMALL:  # the search finds at least one of the small account's learners too
                chosen = [searchable[0], *rng.sample(learners, SIZES[key] - 1)]
            else:
                chosen = [learners[rng.randrange(N_LEARNERS)] for _ in range(SIZES[key])]
            for k, learner in enumerate(chosen):
                connections.append(_connection(rng, today, now, tp, learner, k, SIZES[key]))
        await insert_all(Connection, connections)

        shared, extensions = [], []
        for c in await Connection.select(
            Connection.id, Connection.learner, Connection.third_party, Connection.state, Connection.expires_on
        ):
            for document_id in rng.sample(documents[c["learner"]], rng.randint(1, 3)):
                shared.append(SharedDocument(connection=c["id"], document=document_id))
            if c["state"] == "active" and c["expires_on"] >= today and rng.random() < 0.03:
                extensions.append(
                    ExtensionRequest(
                        connection=c["id"],
                        requested_by=c["third_party"],
                        wanted_until=c["expires_on"] + timedelta(days=30),
                        message="More time, please.",
                    )
                )
        await insert_all(SharedDocument, shared)
        await insert_all(ExtensionRequest, extensions)
    if IS_POSTGRES:
        await engine().run_ddl("VACUUM ANALYZE")  # what autovacuum would have done on a live database
    counts = {
        t.__name__: await t.count() for t in (Account, Document, Connection, SharedDocument, ExtensionRequest)
    }
    print(f"seeded in {time.perf_counter() - started:.1f}s: {counts}")
    return {key: by_name[f"bench_{key}"] for key in (SMALL, LARGE)}


def _connection(
    rng: random.Random,
    today: date,
    now: datetime,
    tp: dict[str, Any],
    learner: dict[str, Any],
    k: int,
    size: int,
) -> Connection:
    roll = rng.random()
    if roll < 0.70:
        state, expires_on = "active", today + timedelta(days=rng.randint(-200, 365))  # some of them ended
    elif roll < 0.80:
        state, expires_on = "awaiting_third_party", today + timedelta(days=30)
    elif roll < 0.85:
        state, expires_on = "awaiting_learner", None
    elif roll < 0.92:
        state, expires_on = "declined", None
    else:
        state, expires_on = "cancelled", today - timedelta(days=rng.randint(1, 300))
    started_by = {"awaiting_third_party": "learner", "awaiting_learner": "third_party"}.get(
        state, rng.choice(["learner", "third_party"])
    )
    created = now - timedelta(minutes=10 * (size - k))
    return Connection(
        learner=learner["id"],
        learner_email=learner["email"],
        third_party=tp["id"],
        third_party_email=tp["email"],
        started_by=started_by,
        state=state,
        expires_on=expires_on,
        created_at=created,
        updated_at=created,
    )


# --- query plans ---------------------------------------------------------------------------------


async def captured_queries(work: Any) -> list[QueryString]:
    """The query strings Piccolo runs while `work()` runs (the real ones, not a copy of them)."""
    kind = type(engine())  # the engine has __slots__: patch its class, only while `work()` runs
    original = kind.run_querystring
    seen: list[QueryString] = []

    async def spy(self: Any, querystring: QueryString, in_pool: bool = False) -> Any:
        seen.append(querystring)
        return await original(self, querystring, in_pool=in_pool)

    kind.run_querystring = spy  # type: ignore[method-assign]
    try:
        await work()
    finally:
        kind.run_querystring = original  # type: ignore[method-assign]
    return seen


async def explain(querystring: QueryString) -> list[str]:
    if IS_POSTGRES:
        rows = await engine().run_querystring(
            QueryString("EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) {}", querystring)
        )
        return [row["QUERY PLAN"] for row in rows]
    rows = await engine().run_querystring(QueryString("EXPLAIN QUERY PLAN {}", querystring))
    depth: dict[int, int] = {0: -1}
    lines = []
    for row in rows:
        depth[row["id"]] = depth.get(row["parent"], -1) + 1
        lines.append("  " * depth[row["id"]] + row["detail"])
    return lines


def suspicious(line: str) -> bool:
    """A plan line that reads or sorts every connection of the account, or the whole table."""
    if IS_POSTGRES:
        return bool(re.search(r"Seq Scan on connection|Sort\b", line)) and "Top-N" not in line
    return bool(re.search(r"SCAN connection|TEMP B-TREE", line))


async def query_plans(third_parties: dict[str, Any], today: date) -> dict[str, Any]:
    account = await Account.objects().where(Account.id == third_parties[LARGE]["id"]).first()
    assert account is not None
    cases = {
        "list: all": lambda: connections.list_page(account, today),
        "list: active": lambda: connections.list_page(account, today, "active"),
        "list: waiting": lambda: connections.list_page(account, today, "waiting"),
        "list: ended": lambda: connections.list_page(account, today, "ended"),
        "list: search": lambda: connections.list_page(account, today, "all", SEARCH_SURNAME),
        "list: page 40": lambda: connections.list_page(account, today, "all", "", 40),
        "counts_for": lambda: connections.counts_for(account, today),
    }
    report: dict[str, Any] = {}
    lines_out = []
    for name, work in cases.items():
        for n, querystring in enumerate(await captured_queries(work), start=1):
            sql = str(querystring)
            plan = await explain(querystring)
            flagged = [line.strip() for line in plan if suspicious(line)]
            report[f"{name} #{n}"] = {"sql": sql, "plan": plan, "flagged": flagged}
            lines_out += [f"== {name} #{n}", sql, *plan, ""]
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    plans_path = OUT_DIR / f"plans-{'postgresql' if IS_POSTGRES else 'sqlite'}.txt"
    plans_path.write_text("\n".join(lines_out))
    print(
        f"\nQuery plans for the large account ({'PostgreSQL' if IS_POSTGRES else 'SQLite'}); full text in "
        f"{plans_path.relative_to(ROOT)}"
    )
    for name, item in report.items():
        first_line = re.sub(r"\s+", " ", item["sql"])[:70]
        mark = "CHECK: " + " | ".join(item["flagged"]) if item["flagged"] else "ok"
        print(f"  {name:<18} {first_line:<72} {mark}")
    return report


# --- the pages, timed ----------------------------------------------------------------------------

ROW = re.compile(r'id="connection-\d+"')


def pages() -> list[tuple[str, str, str, bool]]:
    """(name, small account's URL, large account's URL, gated by the ratio)."""
    search = f"/connections?q={SEARCH_SURNAME.lower()}"
    return [
        ("connections", "/connections", "/connections", True),
        ("show=active", "/connections?show=active", "/connections?show=active", True),
        ("search", search, search, True),
        ("page 40 (small: page 1)", "/connections", "/connections?page=40", True),
        ("htmx list", "/connections", "/connections", False),
        ("dashboard", "/dashboard", "/dashboard", False),
    ]


def log_in(client: TestClient[Any], username: str) -> Any:
    client.cookies.clear()
    page = client.get("/login")
    match = re.search(r'name="_csrf_token"\s+value="([^"]+)"', page.text) or re.search(
        r'value="([^"]+)"\s+name="_csrf_token"', page.text
    )
    if match is None:
        raise SystemExit("no CSRF field on /login")
    answer = client.post(
        "/login",
        data={"_csrf_token": match.group(1), "login": username, "password": PASSWORD},
        follow_redirects=False,
    )
    if answer.status_code != 303:
        raise SystemExit(f"log-in as {username} failed: {answer.status_code} {answer.text[:300]}")
    return client.cookies.copy() if hasattr(client.cookies, "copy") else dict(client.cookies)


def fetch(client: TestClient[Any], jar: Any, url: str, htmx: bool) -> tuple[float, Any]:
    client.cookies = jar
    headers = {"HX-Request": "true"} if htmx else {}
    started = time.perf_counter()
    answer = client.get(url, headers=headers, follow_redirects=False)
    elapsed = time.perf_counter() - started
    if answer.status_code != 200:
        raise SystemExit(f"GET {url} answered {answer.status_code}: {answer.text[:300]}")
    return elapsed, answer


def check_content(client: TestClient[Any], jars: dict[str, Any]) -> dict[str, dict[str, int]]:
    """The pages show what they should (rows, a next page for the large account): not an empty page that is
    fast for the wrong reason."""
    seen: dict[str, dict[str, int]] = {}
    for name, small_url, large_url, _ in pages():
        seen[name] = {}
        for key, url in ((SMALL, small_url), (LARGE, large_url)):
            _, answer = fetch(client, jars[key], url, name == "htmx list")
            seen[name][key] = len(ROW.findall(answer.text))
            if name != "dashboard" and seen[name][key] == 0:
                raise SystemExit(f"{url} for the {key} account shows no connections")
            if key == LARGE and name in ("connections", "show=active") and 'rel="next"' not in answer.text:
                raise SystemExit(f"{url} for the large account has no next page")
    return seen


def measure(third_parties: dict[str, Any]) -> dict[str, Any]:
    app = create_app(load_settings())
    samples: dict[str, dict[str, list[float]]] = {name: {SMALL: [], LARGE: []} for name, *_ in pages()}
    with TestClient(app, base_url=BASE_URL) as client:
        jars = {key: log_in(client, tp["username"]) for key, tp in third_parties.items()}
        rows_shown = check_content(client, jars)
        order = [SMALL, LARGE]
        for round_number in range(WARMUP + ROUNDS):
            for name, small_url, large_url, _ in pages():
                order.reverse()  # alternate which account goes first, page by page and round by round
                for key in order:
                    elapsed, _answer = fetch(
                        client, jars[key], small_url if key == SMALL else large_url, name == "htmx list"
                    )
                    if round_number >= WARMUP:
                        samples[name][key].append(elapsed)
    results: dict[str, Any] = {}
    for name, *_, gated in pages():
        entry: dict[str, Any] = {"gated": gated, "rows_shown": rows_shown[name]}
        for key in (SMALL, LARGE):
            values = sorted(samples[name][key])
            entry[key] = {
                "median_ms": statistics.median(values) * 1000,
                "p90_ms": values[int(0.9 * (len(values) - 1))] * 1000,
                "n": len(values),
            }
        entry["ratio"] = entry[LARGE]["median_ms"] / entry[SMALL]["median_ms"]
        results[name] = entry
    return results


def report(results: dict[str, Any]) -> list[str]:
    print(
        f"\nPage timings ({ROUNDS} rounds after {WARMUP} warm-up, interleaved; small = {SIZES[SMALL]} "
        f"connections, large = {SIZES[LARGE]:,}; {'PostgreSQL' if IS_POSTGRES else 'SQLite'})"
    )
    header = f"{'page':<26}{'small med':>10}{'small p90':>10}{'large med':>10}{'large p90':>10}{'ratio':>8}  verdict"
    print(header)
    print("-" * len(header))
    failures = []
    for name, entry in results.items():
        s, big = entry[SMALL], entry[LARGE]
        if entry["gated"]:
            ok = entry["ratio"] <= LIMIT
            verdict = "ok" if ok else f"TOO SLOW (> {LIMIT}x)"
            if not ok:
                failures.append(f"{name}: {entry['ratio']:.2f}x")
        else:
            verdict = "(not gated)"
        print(
            f"{name:<26}{s['median_ms']:>9.1f}ms{s['p90_ms']:>8.1f}ms{big['median_ms']:>8.1f}ms"
            f"{big['p90_ms']:>8.1f}ms{entry['ratio']:>7.2f}x  {verdict}"
        )
    return failures


async def setup() -> tuple[dict[str, Any], dict[str, Any], date]:
    await prepare_database()
    today = today_in(load_settings().tz)
    third_parties = await seed(today)
    plans = await query_plans(third_parties, today)
    return third_parties, plans, today


def main() -> int:
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one INFO line per request otherwise
    print(f"database: {'PostgreSQL ' + DB_URL.rpartition('/')[2] if IS_POSTGRES else DB_URL}")
    try:
        third_parties, plans, today = asyncio.run(setup())
        results = measure(third_parties)
        failures = report(results)
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
            print(
                "FAIL: the large account is more than {:.1f}x slower on: {}".format(
                    LIMIT, "; ".join(failures)
                )
            )
            return 1
        print(f"OK: every gated page for {SIZES[LARGE]:,} connections within {LIMIT}x of {SIZES[SMALL]}.")
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
