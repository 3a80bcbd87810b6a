"""The dashboard's and the connections page's counts: what waits for this person, what waits for
the other side, what is active, and (on the dashboard) the connections whose access ends soon."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from src.connections.queries import _columns, mine
from src.connections.rules import ACTIVE, WAITING_LEARNER, WAITING_TP, usable_where
from src.tables.accounts import Account, Role
from src.tables.connections import Connection


@dataclass
class Counts:
    waiting_for_me: int
    waiting_for_them: int
    active: int
    ending_soon: list[dict[str, Any]]
    extensions_waiting: int = 0


async def counts_for(account: Account, today: date, ending_soon: bool = True) -> Counts:
    """What the dashboard shows: requests that wait for this person, active connections, and those ending
    within 30 days (`ending_soon=False` leaves that list out, for the connections page). The counts are one
    query on connection_tally (kept by triggers: one row per side, state and end date), so they cost the
    same for 10 connections as for 10,000."""
    learner = account.role == Role.learner.value
    asked_me = WAITING_LEARNER if learner else WAITING_TP
    asked_them = WAITING_TP if learner else WAITING_LEARNER
    side = "learner" if learner else "third_party"
    tally = 'SELECT COALESCE(SUM("n"), 0) FROM "connection_tally" WHERE "account" = {} AND "side" = {} AND "state" = {}'
    extensions = (
        '(SELECT COUNT(*) FROM "extension_request" JOIN "connection" '
        'ON "connection"."id" = "extension_request"."connection" '
        'WHERE "connection"."learner" = {} AND "extension_request"."state" = \'pending\')'
        if learner
        else "0"
    )
    args: list[Any] = [
        account.id,
        side,
        asked_me,
        account.id,
        side,
        asked_them,
        account.id,
        side,
        ACTIVE,
        today,
    ]
    if learner:
        args.append(account.id)
    rows = await Connection.raw(
        f'SELECT ({tally}) AS "waiting_for_me", ({tally}) AS "waiting_for_them", '
        f'({tally} AND "expires_on" >= {{}}) AS "active", {extensions} AS "extensions"',
        *args,
    )
    row = rows[0]
    ending: list[dict[str, Any]] = []
    if ending_soon:
        ending = (
            await Connection.select(*_columns())
            .where(
                mine(account) & usable_where(today) & (Connection.expires_on <= today + timedelta(days=30))
            )
            .order_by(Connection.expires_on)
            .limit(10)
        )
    return Counts(
        int(row["waiting_for_me"]),
        int(row["waiting_for_them"]),
        int(row["active"]),
        ending,
        int(row["extensions"]),
    )
