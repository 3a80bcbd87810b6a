"""Dates as the portal sees them, dates as a person types them, and clocks the tests control.

Three clocks are read by the app, each for its own job, and each can be moved here without sleeping:
`src.clock.utcnow` (access rules and "today"), `src.clock.seconds` (session time-outs) and
itsdangerous's time (how old an emailed link is).
"""

from __future__ import annotations

import time
from datetime import date, datetime
from types import SimpleNamespace

import itsdangerous.timed
import pytest

from src import clock
from src.settings import Settings


def today() -> date:
    """Today where the portal is, as the rules see it (the tests run with the default TIME_ZONE)."""
    return clock.today_in(Settings().tz)


def fmt(day: date) -> str:
    """A date the way the pages and emails write it: 5 March 2026."""
    return day.strftime("%-d %B %Y")


def date_fields(prefix: str, day: date) -> dict[str, str]:
    """The three GOV.UK date inputs (day, month, year) of a form field, filled in with `day`."""
    return {f"{prefix}-day": str(day.day), f"{prefix}-month": str(day.month), f"{prefix}-year": str(day.year)}


def freeze(monkeypatch: pytest.MonkeyPatch, instant: datetime) -> None:
    """Stop the portal's clock at `instant` (a UTC datetime) for the rest of the test."""
    monkeypatch.setattr(clock, "utcnow", lambda: instant)


def session_clock(monkeypatch: pytest.MonkeyPatch) -> SimpleNamespace:
    """Moves the session clock (`src.clock.seconds`, read only by src.auth) forward by `.minutes`."""
    state = SimpleNamespace(minutes=0.0)
    real = clock.seconds
    monkeypatch.setattr(clock, "seconds", lambda: real() + state.minutes * 60)
    return state


def link_clock(monkeypatch: pytest.MonkeyPatch) -> SimpleNamespace:
    """Moves itsdangerous's clock (only) forward by `.seconds`: emailed links age without waiting."""
    state = SimpleNamespace(seconds=0)
    real = time.time
    monkeypatch.setattr(itsdangerous.timed, "time", SimpleNamespace(time=lambda: real() + state.seconds))
    return state
