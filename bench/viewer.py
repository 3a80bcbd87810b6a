"""The documents viewer gate: a learner with 200 documents against one with 2, their documents page
and one document's view measured interleaved in one run (as timing.py does for connections), gated
on the ratio of medians (issue 7: within 1.5x). BENCH_SKIP_VIEWER=1 leaves it out."""

from __future__ import annotations

import os
import statistics
from datetime import date, timedelta
from typing import Any

from litestar.testing import TestClient

from bench.env import BASE_URL, LIMIT, PASSWORD
from bench.timing import fetch, log_in
from src.app import create_app
from src.settings import load_settings

SIZES = {"2 documents": 2, "200 documents": 200}
ROUNDS = int(os.environ.get("BENCH_VIEWER_ROUNDS", "100"))
WARMUP = int(os.environ.get("BENCH_VIEWER_WARMUP", "10"))


async def seed_viewers(today: date) -> dict[str, dict[str, Any]]:
    """Two learners who log in, with 2 and 200 documents; returns username and one document id each."""
    from src import accounts, db, documents
    from src.tables.accounts import Role

    learners = {}
    for key, count in SIZES.items():
        username = f"bench_docs_{count}"
        owner = await accounts.create_account(
            accounts.NewAccount(
                Role.learner,
                username,
                f"{username}@bench.invalid",
                "Dana",
                "Viewer",
                password=PASSWORD,
                verified=True,
            )
        )
        async with db.write_transaction():
            issued = [
                await documents.issue(
                    owner,
                    f"Level {n % 4 + 1} Certificate {n}",
                    f"VIEW-{count}-{n:04}",
                    today - timedelta(days=n),
                    units=[
                        {"code": f"U{u}", "title": f"Unit {u}", "level": "2", "credits": "5"}
                        for u in range(4)
                    ],
                )
                for n in range(count)
            ]
        learners[key] = {"username": username, "document": issued[count // 2].id}
    return learners


def viewer_ratio(learners: dict[str, dict[str, Any]]) -> tuple[list[str], list[str]]:
    """Lines to print and failures: median and p90 per page and learner, and the ratio of medians."""
    small, large = SIZES
    pages = {
        "documents page": lambda key: "/documents",
        "one document": lambda key: f"/documents/{learners[key]['document']}",
    }
    samples: dict[str, dict[str, list[float]]] = {page: {small: [], large: []} for page in pages}
    with TestClient(create_app(load_settings()), base_url=BASE_URL) as client:
        jars = {key: log_in(client, learner["username"]) for key, learner in learners.items()}
        shown = fetch(client, jars[large], "/documents", False)[1].text.count('id="document-')
        if shown == 0:
            raise SystemExit("the documents page of the 200-document learner shows no documents")
        order = [small, large]
        for round_number in range(WARMUP + ROUNDS):
            for page, url in pages.items():
                order.reverse()  # alternate who goes first, page by page and round by round
                for key in order:
                    elapsed = fetch(client, jars[key], url(key), False)[0]
                    if round_number >= WARMUP:
                        samples[page][key].append(elapsed)
    lines = [
        f"\nDocuments viewer ({ROUNDS} rounds after {WARMUP} warm-up, interleaved; the page lists {shown})"
    ]
    failures = []
    for page, by_key in samples.items():
        medians = {key: statistics.median(values) * 1000 for key, values in by_key.items()}
        p90 = {key: sorted(values)[int(0.9 * (len(values) - 1))] * 1000 for key, values in by_key.items()}
        ratio = medians[large] / medians[small]
        verdict = "ok" if ratio <= LIMIT else f"TOO SLOW (> {LIMIT}x)"
        lines.append(
            f"  {page:<16} {small}: {medians[small]:.1f} ms (p90 {p90[small]:.1f}), "
            f"{large}: {medians[large]:.1f} ms (p90 {p90[large]:.1f}), ratio {ratio:.2f}x  {verdict}"
        )
        if ratio > LIMIT:
            failures.append(f"documents viewer, {page}: {ratio:.2f}x")
    return lines, failures
