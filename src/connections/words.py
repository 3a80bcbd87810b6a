"""A connection in words, for the templates: the other side's name, its state and its access dates.

The one source of these words: templates/macros/connections.html wraps these functions (for the pages
that import its macros) and the list row calls `row_words` directly, since a call from a template costs
about as much as the words. `c` is a list row (a dict from the queries) or an object with the same names.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from src.clock import long_date
from src.connections.rules import ENDED, OFFER_OPEN, USABLE


def _get(c: Any, name: str) -> Any:
    return c.get(name) if isinstance(c, dict) else getattr(c, name, None)


def other_name(c: Any, role: str) -> str:
    """The other side as this person may see it. A learner's name shows only once they have acted
    (shared, accepted or declined): before that, showing it would tell the third party that an account
    has the address they typed (Add Connection must not)."""
    if role == "third_party":
        acted = _get(c, "started_by") == "learner" or _get(c, "expires_on") or _get(c, "state") == "declined"
        if _get(c, "learner_first") and acted:
            return f"{_get(c, 'learner_first')} {_get(c, 'learner_last')}"
        return str(_get(c, "learner_email") or "")
    if _get(c, "tp_first"):
        company = _get(c, "tp_company")
        return f"{_get(c, 'tp_first')} {_get(c, 'tp_last')}" + (f" ({company})" if company else "")
    return str(_get(c, "third_party_email") or "")


def state_words(c: Any, today: date, role: str) -> str:
    state = _get(c, "state")
    if state == "awaiting_third_party":
        return "Waiting for you to accept" if role == "third_party" else "Waiting for them to accept"
    if state == "awaiting_learner":
        return "Waiting for the learner to answer" if role == "third_party" else "Waiting for you to answer"
    if USABLE.holds(c, today):
        return "Active"
    if state == "active":
        return "Access ended"
    if state == "declined":
        return "Declined"
    return "Cancelled"


def access_words(c: Any, today: date, role: str) -> str:
    """ "Access ends" is about the connection, never about the document. An offer not yet accepted is
    worded as an offer, never as access that is running."""
    expires_on = _get(c, "expires_on")
    if not expires_on:
        return ""
    tp = role == "third_party"
    if OFFER_OPEN.holds(c, today):
        return ("If you accept, your access ends on " if tp else "Offered until ") + long_date(expires_on)
    if USABLE.holds(c, today):
        return ("Your access ends on " if tp else "Access ends on ") + long_date(expires_on)
    if ENDED.holds(c, today):
        return ("Your access ended on " if tp else "Access ended on ") + long_date(expires_on)
    return ""


def row_words(c: Any, today: date, role: str) -> tuple[str, str, str]:
    """A list row's three phrases in one call (the name, the state, the access dates): a template
    pays more for each call than for the words themselves."""
    return other_name(c, role), state_words(c, today, role), access_words(c, today, role)
