"""Connection rules: the states, the one rule for whether a connection gives access (and its query
form) and the end-date checks. An action fails with `src.errors`' `Conflict` or `Refused`.

Every state change (in actions and extensions) is a compare-and-set on (id, state, version) inside a
write transaction that also writes the change's emails and its AccessEvent: two racing actions give
one winner, the other gets `Conflict` ("this has changed, reload"), and one set of emails is queued.
"""

from __future__ import annotations

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


# --- expiry: the one helper, and its query form -------------------------------------------------


def is_usable(connection: Connection | dict[str, Any], today: date) -> bool:
    """A connection gives access while it is active and today is on or before its end day."""
    get = connection.get if isinstance(connection, dict) else lambda k: getattr(connection, k)
    expires_on = get("expires_on")
    return get("state") == ACTIVE and expires_on is not None and today <= expires_on


def usable_where(today: date) -> Any:
    """The same rule as `is_usable`, for queries: apply it in every query that reads shared documents."""
    return (Connection.state == ACTIVE) & (Connection.expires_on >= today)


# The same rule in SQL, for statements written by hand (listing.py); its values are ACTIVE and today.
USABLE_SQL = '"connection"."state" = {} AND "connection"."expires_on" >= {}'


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
