"""Signed verify receipts for a batch of 100 codes (issue 24): the server's CPU per batch, read from
/proc around BATCHES posts of `POST /api/v1/verify/receipts` to a running `portal serve`, one at a
time, each of 100 codes that name documents (so each gets a lookup, a signature and a counted
check). Target: under 50 ms of the portal's CPU a batch; PostgreSQL's share is printed beside it.
Run by bench/verify_page.py against its seeded server (`BENCH_VERIFY_RECEIPTS_ONLY=1` runs only
this part there)."""

from __future__ import annotations

import os

import httpx

from bench import cpu
from src.documents import SigningKeys

BATCH = 100
BATCHES = int(os.environ.get("BENCH_RECEIPT_BATCHES", "50"))
WARMUP = 5
MAX_MS = 50.0


def batch_cpu(
    base: str, server_pid: int, codes: list[str], signing_key: str, postgres: bool
) -> tuple[list[str], list[str]]:
    """(printed lines, missed targets) for BATCHES batches of receipts of `codes` (100 at a time).
    On PostgreSQL, its processes' CPU is printed beside the portal's (on SQLite, any PostgreSQL on
    the machine is someone else's)."""
    keys = SigningKeys((signing_key,))
    batches = [codes[(n * BATCH) % len(codes) :][:BATCH] for n in range(BATCHES + WARMUP)]
    batches = [batch + codes[: BATCH - len(batch)] for batch in batches]  # wrapped round: 100 each
    with httpx.Client(base_url=base, timeout=30) as client:

        def post(batch: list[str]) -> None:
            answer = client.post("/api/v1/verify/receipts", json={"codes": batch})
            answer.raise_for_status()
            receipts = [item["receipt"] for item in answer.json()["receipts"]]
            # Nothing fast for the wrong reason: every code got a receipt that the server's key signed.
            if len(receipts) != BATCH or None in receipts or keys.read(receipts[-1]).outcome != "genuine":
                raise SystemExit("receipts: a batch came back without 100 good receipts")

        for batch in batches[:WARMUP]:
            post(batch)
        before = cpu.seconds_so_far(server_pid)
        for batch in batches[WARMUP:]:
            post(batch)
        after = cpu.seconds_so_far(server_pid)
    spent = {who: 1000 * (after[who] - before.get(who, 0.0)) / BATCHES for who in after}
    others = f"PostgreSQL {spent['PostgreSQL']:.1f} ms" if postgres else ""
    lines = [
        f"Receipts, POST /api/v1/verify/receipts with {BATCH} codes, {BATCHES} batches one at a time:",
        f"  server CPU a batch: portal {spent['portal']:.1f} ms (target < {MAX_MS:.0f} ms)"
        + (f"; {others}" if others else ""),
    ]
    missed = []
    if spent["portal"] >= MAX_MS:
        missed.append(
            f"receipts: {spent['portal']:.1f} ms of server CPU a batch of {BATCH} (target < {MAX_MS:.0f})"
        )
    return lines, missed
