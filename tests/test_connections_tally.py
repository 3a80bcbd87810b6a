"""The counts above the connections lists come from connection_tally, which triggers keep (see its
migration). Whatever happens at once, the tally must say what counting the connections says."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from src import connections as actions
from src.errors import Conflict
from src.tables.connections import Connection
from tests.support.client import run
from tests.support.clocks import today
from tests.support.factories import (
    People,
    build_connection,
    make_account,
    make_document,
    reload,
)

COUNTED = ("awaiting_third_party", "awaiting_learner", "active")


async def tally_rows() -> dict[tuple[int, str, str, str], int]:
    rows = await Connection.raw("SELECT account, side, state, expires_on, n FROM connection_tally")
    return {(r["account"], r["side"], r["state"], str(r["expires_on"])): r["n"] for r in rows}


async def counted_rows() -> dict[tuple[int, str, str, str], int]:
    found: dict[tuple[int, str, str, str], int] = {}
    for c in await Connection.select(
        Connection.third_party, Connection.learner, Connection.state, Connection.expires_on
    ):
        if c["state"] not in COUNTED:
            continue
        for side in ("third_party", "learner"):
            if c[side] is not None:
                key = (c[side], side, c["state"], str(c["expires_on"] or "0001-01-01"))
                found[key] = found.get(key, 0) + 1
    return found


def test_the_tally_matches_a_fresh_count_after_many_changes_at_once(people: People) -> None:
    document = run(make_document(people.learner, 1))
    other = run(make_document(people.other_learner, 1))
    # One open connection per pair: each learner shares with four third parties, so the changes
    # below move connections between the same learner-side tally rows at once.
    partners = [run(make_account("third_party", f"tp{n}", password=None)) for n in range(8)]
    made = [
        run(
            build_connection(
                "active",
                people.learner if n < 4 else people.other_learner,
                partners[n],
                [document if n < 4 else other],
                pending_extension=True,
            )
        )
        for n in range(8)
    ]
    waiting = [
        run(build_connection("awaiting_third_party", people.learner, people.other_third_party, [document]))
    ]
    assert run(tally_rows()) == run(counted_rows())

    async def all_at_once() -> list[Any]:
        day = today()
        work = []
        for n, connection in enumerate(made):
            fresh = await reload(connection.id)
            owner = people.learner if n < 4 else people.other_learner
            if n % 2:
                work.append(actions.cancel(owner, fresh))
            else:
                request = await actions.pending_extension(connection.id)
                # Two end dates, so the transactions move connections between the same tally rows.
                new_end = day + timedelta(days=60 if n % 4 else 90)
                work.append(actions.approve_extension(owner, fresh, request, new_end, day))
        for connection in waiting:
            work.append(
                actions.accept_as_third_party(people.other_third_party, await reload(connection.id), day)
            )
        return await asyncio.gather(*work, return_exceptions=True)

    results = run(all_at_once())
    assert [r for r in results if r is not None and not isinstance(r, Conflict)] == []
    assert run(tally_rows()) == run(counted_rows())
    states = [run(reload(c.id)).state for c in made]
    assert states.count("cancelled") == 4 and states.count("active") == 4
