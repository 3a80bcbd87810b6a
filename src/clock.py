"""The one place that reads the clock, so tests can freeze it, and the one way a day is written.
Reading the clock anywhere else in src/ is refused by ruff (banned-api in pyproject.toml).

Access control depends only on these functions: a connection is usable while today, in the
portal's time zone, is on or before its `expires_on` day.
"""

from __future__ import annotations

import time
from datetime import UTC, date, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo


def utcnow() -> datetime:
    return datetime.now(UTC)


def seconds() -> float:
    """Seconds since the epoch, for the session's ages (tests move it apart from `utcnow`)."""
    return time.time()


def today_in(tz: ZoneInfo) -> date:
    """Today's date where the portal is (Europe/London by default), whatever the server's zone."""
    return utcnow().astimezone(tz).date()


@lru_cache(maxsize=4096)
def long_date(value: date | None) -> str:
    """A day in words ("14 March 2026"; nothing for no date), remembered: a list page writes a few
    dozen, mostly the same few, and strftime costs more than the rest of a row's words."""
    return value.strftime("%-d %B %Y") if value else ""
