"""Seeding: two third parties (10 and 10,000 connections), learners, documents, requests."""

from __future__ import annotations

import random
import re
import secrets
import time
from datetime import UTC, date, datetime, timedelta
from typing import Any

from bench.env import (
    BATCH,
    DB_URL,
    FIRST_NAMES,
    IS_POSTGRES,
    LARGE,
    LAST_NAMES,
    N_LEARNERS,
    PASSWORD,
    SEARCH_SURNAME,
    SECOND_STEP,
    SIZES,
    SMALL,
)
from src.db import engine
from src.passwords import hash_password
from src.tables.accounts import Account
from src.tables.connections import Connection, ExtensionRequest, SharedDocument
from src.tables.documents import Document


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
                # SECOND_STEP: an account with no connections that turns two-step sign-in on
                # during the server run, for the second-step page (bench/server.py).
                for name in (SMALL, LARGE, SECOND_STEP)
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
