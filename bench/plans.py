"""The query plans of the connections list: no full scan or sort of an account's connections."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from piccolo.querystring import QueryString

from bench.env import IS_POSTGRES, LARGE, OUT_DIR, ROOT, SEARCH_SURNAME
from src import connections
from src.db import engine
from src.tables.accounts import Account
from src.tables.connections import Connection


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


async def explain_generic(querystring: QueryString) -> list[str]:
    """PostgreSQL: the plan of the statement prepared as the portal's pool prepares it (asyncpg, with
    $n parameters), forced generic. After five runs on a connection PostgreSQL keeps that plan, made
    without the values, whenever it looks no dearer than the custom ones: it takes every account for
    the average one (bench/README.md, "The search and generic plans"). On a connection of its own,
    so PREPARE and SET never reach a pool."""
    sql, args = querystring.compile_string(engine_type="postgres")
    values = str(QueryString(", ".join(["{}"] * len(args)), *args))
    connection = await engine().get_new_connection()  # type: ignore[attr-defined]
    try:
        await connection.execute(f"PREPARE bench_plan AS {sql}")
        await connection.execute("SET plan_cache_mode = force_generic_plan")
        rows = await connection.fetch(
            f"EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) EXECUTE bench_plan({values})"
        )
    finally:
        await connection.close()
    return [row["QUERY PLAN"] for row in rows]


def suspicious(line: str) -> bool:
    """A plan line that reads or sorts every connection of the account, or the whole table."""
    if IS_POSTGRES:
        return bool(re.search(r"Seq Scan on connection|Sort\b", line)) and "Top-N" not in line
    return bool(re.search(r"SCAN connection\b(?!_)|TEMP B-TREE", line))  # not the FTS5 connection_search


def flagged(plan: list[str]) -> list[str]:
    """The suspicious lines of a plan; on PostgreSQL also a scan of `connection` whose filter threw
    1,000 rows or more away (it read the account's connections to keep a few: a generic plan's
    mistake, bench/README.md "The search and generic plans"), with the scan it belongs to."""
    lines, node = [], ""
    for line in plan:
        text = line.strip()
        if not line.startswith(" ") or text.startswith("->"):
            node = text.removeprefix("->").strip()
        removed = re.search(r"Rows Removed by (?:Join )?Filter: (\d+)", text)
        if suspicious(text):
            lines.append(text)
        elif IS_POSTGRES and removed and int(removed.group(1)) >= 1000 and " on connection " in node:
            lines.append(f"{node.split('  (')[0]}: {text}")
    return lines


async def query_plans(third_parties: dict[str, Any], today: date) -> dict[str, Any]:
    account = await Account.objects().where(Account.id == third_parties[LARGE]["id"]).first()
    assert account is not None
    # Page 40 by keyset: after the last id of page 39 (found here, outside what is measured).
    before_40 = (
        await Connection.select(Connection.id)
        .where(Connection.third_party == account.id)
        .order_by(Connection.id, ascending=False)
        .offset(39 * connections.PAGE_SIZE - 1)
        .limit(1)
    )
    cases = {
        "list: all": lambda: connections.list_page(account, today),
        "list: active": lambda: connections.list_page(account, today, "active"),
        "list: waiting": lambda: connections.list_page(account, today, "waiting"),
        "list: ended": lambda: connections.list_page(account, today, "ended"),
        "list: search": lambda: connections.list_page(account, today, "all", SEARCH_SURNAME),
        "list: page 40": lambda: connections.list_page(account, today, "all", "", after=before_40[0]["id"]),
        "counts_for": lambda: connections.counts_for(account, today),
    }
    report: dict[str, Any] = {}
    lines_out = []
    for name, work in cases.items():
        for n, querystring in enumerate(await captured_queries(work), start=1):
            sql = str(querystring)
            plans = {"": await explain(querystring)}
            if IS_POSTGRES:
                plans[" generic"] = await explain_generic(querystring)
            for kind, plan in plans.items():
                report[f"{name} #{n}{kind}"] = {"sql": sql, "plan": plan, "flagged": flagged(plan)}
                lines_out += [f"== {name} #{n}{kind}", sql, *plan, ""]
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
        print(f"  {name:<26} {first_line:<72} {mark}")
    return report
