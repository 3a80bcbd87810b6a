"""The dashboard's and the connections page's counts: what waits for this person, what waits for
the other side, what is active, and (on the dashboard) the connections whose access ends soon."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from src.connections.listing import ending_soon as soonest
from src.connections.rules import USABLE, WAITING_LEARNER, WAITING_TP
from src.db import Row, Statement, fetch_one
from src.tables.accounts import Account, Role


@dataclass
class Counts:
    waiting_for_me: int
    waiting_for_them: int
    active: int
    ending_soon: list[Row]
    extensions_waiting: int = 0


_TALLY = 'SELECT COALESCE(SUM("n"), 0) FROM "connection_tally" WHERE "account" = {} AND "side" = {} AND '
_IN_STATE = '"state" = {}'
_EXTENSIONS = (
    '(SELECT COUNT(*) FROM "extension_request" JOIN "connection" '
    'ON "connection"."id" = "extension_request"."connection" '
    'WHERE "connection"."learner" = {} AND "extension_request"."state" = \'pending\')'
)
# By side: learner (True) or third party (False), who has no extension requests to answer.
_COUNTS = {
    learner: Statement(
        f'SELECT ({_TALLY}{_IN_STATE}) AS "waiting_for_me", ({_TALLY}{_IN_STATE}) AS "waiting_for_them", '
        f'({_TALLY}{USABLE.sql("connection_tally")}) AS "active", {_EXTENSIONS if learner else "0"} AS "extensions"'
    )
    for learner in (True, False)
}


async def counts_for(account: Account, today: date, ending_soon: bool = True) -> Counts:
    """What the dashboard shows: requests that wait for this person, active connections, and those ending
    within 30 days (`ending_soon=False` leaves that list out, for the connections page). The counts are one
    query on connection_tally (kept by triggers: one row per side, state and end date), so they cost the
    same for 10 connections as for 10,000."""
    learner = account.role == Role.learner.value
    asked_me = WAITING_LEARNER if learner else WAITING_TP
    asked_them = WAITING_TP if learner else WAITING_LEARNER
    side = "learner" if learner else "third_party"
    args: list[Any] = [
        account.id,
        side,
        asked_me,
        account.id,
        side,
        asked_them,
        account.id,
        side,
        *USABLE.args(today),
    ]
    if learner:
        args.append(account.id)
    row = await fetch_one(_COUNTS[learner], *args)
    assert row is not None  # sub-selects and sums: always one row
    ending = await soonest(account, today) if ending_soon else []
    return Counts(
        int(row["waiting_for_me"]),
        int(row["waiting_for_them"]),
        int(row["active"]),
        ending,
        int(row["extensions"]),
    )
