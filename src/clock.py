"""The one place that reads the clock, so tests can freeze it.

Access control depends only on these functions: a connection is usable while today, in the
portal's time zone, is on or before its `expires_on` day.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo


def utcnow() -> datetime:
    return datetime.now(UTC)


def today_in(tz: ZoneInfo) -> date:
    """Today's date where the portal is (Europe/London by default), whatever the server's zone."""
    return utcnow().astimezone(tz).date()
