"""Connection rules: the states, the one rule for whether a connection gives access (in Python, Piccolo
and SQL, from one definition) and the end-date checks. An action fails with `src.errors`' `Conflict`
or `Refused`.

Every state change (in actions and extensions) is a compare-and-set on (id, state, version) inside a
write transaction that also writes the change's emails and its AccessEvent: two racing actions give
one winner, the other gets `Conflict` ("this has changed, reload"), and one set of emails is queued.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any

from src.tables.accounts import Account
from src.tables.connections import Connection, ConnectionState

ACTIVE = ConnectionState.active.value
WAITING_TP = ConnectionState.awaiting_third_party.value
WAITING_LEARNER = ConnectionState.awaiting_learner.value
DEFAULT_DAYS = 30
MAX_DAYS = 365
OPEN_STATES = (WAITING_TP, WAITING_LEARNER, ACTIVE)


# --- the usable rule, written once ---------------------------------------------------------------
#
# A connection is usable (its third party may see what it shares) while its state is active and today,
# in the portal's time zone, is on or before its end day. USABLE is that sentence as data; the Python
# check, the Piccolo where-clause and the SQL text are each read from it, so a page, a query and the
# reminder job cannot disagree. ENDED (active, past the end day) and OFFER_OPEN (the same day test
# before the third party has accepted) are made from it, not written again.

_SQL_OPERATORS = {operator.ge: ">=", operator.lt: "<"}
_OTHER_SIDE = {operator.ge: operator.lt, operator.lt: operator.ge}


@dataclass(frozen=True)
class DayRule:
    """A connection in `state` whose `last_day` compares with the day asked about by `compare`
    (`operator.ge`: the day is on or before the last day). A missing last day never passes, as in SQL."""

    state: str
    compare: Callable[[Any, Any], Any]
    last_day: str = "expires_on"

    def holds(self, c: Any, day: date) -> bool:
        """For a Connection, or a row (a dict) with the same names."""
        if isinstance(c, dict):
            state, last = c.get("state"), c.get(self.last_day)
        else:
            state, last = c.state, getattr(c, self.last_day)
        return state == self.state and last is not None and bool(self.compare(last, day))

    def where(self, day: date, table: Any = Connection) -> Any:
        """For Piccolo queries; `table` may be a foreign key to a connection (`SharedDocument.connection`)."""
        return (table.state == self.state) & self.compare(getattr(table, self.last_day), day)

    def sql(self, table: str = "connection", *, day_as_filter: bool = False) -> str:
        """For statements written by hand: SQL with two `{}`, for `args(day)`. With `day_as_filter` the
        day is tested row by row (`IS TRUE`), and no index is searched by it; the state still is."""
        day_test = f'"{table}"."{self.last_day}" {_SQL_OPERATORS[self.compare]} {{}}'
        if day_as_filter:
            day_test = f"({day_test}) IS TRUE"
        return f'("{table}"."state" = {{}} AND {day_test})'

    def args(self, day: date) -> list[Any]:
        return [self.state, day]

    def past(self) -> DayRule:
        """The same state, and the day is beyond the last day."""
        return replace(self, compare=_OTHER_SIDE[self.compare])


USABLE = DayRule(ACTIVE, operator.ge)
ENDED = USABLE.past()
OFFER_OPEN = replace(USABLE, state=WAITING_TP)


def is_usable(connection: Connection | dict[str, Any], today: date) -> bool:
    """A connection gives access while it is active and today is on or before its end day."""
    return USABLE.holds(connection, today)


def usable_where(today: date, table: Any = Connection) -> Any:
    """The same rule for Piccolo: apply it in every query that reads shared documents."""
    return USABLE.where(today, table)


def check_end_date(expires_on: date | None, today: date, current: date | None = None) -> str | None:
    """Why an access end date is refused, or None."""
    if expires_on is None:
        return "Enter the date access ends"
    if expires_on < today:
        return "The date access ends must be today or in the future"
    if expires_on > today + timedelta(days=MAX_DAYS):
        return f"The date access ends must be within {MAX_DAYS} days of today"
    if current is not None and expires_on <= current:
        return "The new date must be later than the current end date"
    return None


def display_name(account: Account | None, fallback_email: str = "") -> str:
    if account is None:
        return fallback_email
    return f"{account.first_name} {account.last_name}".strip()
