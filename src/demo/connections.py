"""Demo documents for the demo learners, and connections in every state, made through the same
rules the pages use (so their emails are in the development mailbox too)."""

from __future__ import annotations

from datetime import date, timedelta

from src import connections as actions
from src.documents import issue
from src.tables.accounts import Account
from src.tables.connections import Connection
from src.tables.documents import DocumentStatus


async def load_demo_connections(people: dict[str, Account], today: date) -> None:
    lena, liam, tara, theo = people["lena"], people["liam"], people["tara"], people["theo"]
    diploma = await issue(
        lena,
        "Level 3 Diploma in Health and Social Care",
        "APC-300101",
        today - timedelta(days=400),
        qualification_code="603/2345/X",
        level="3",
        grade="Merit",
        units=[
            {"code": "H/601/8573", "title": "Safeguarding", "level": "3", "credits": "4", "grade": "Pass"}
        ],
    )
    first_aid = await issue(
        lena,
        "First Aid at Work",
        "APC-300102",
        today - timedelta(days=200),
        kind="accreditation",
        valid_until=today + timedelta(days=900),
    )
    await issue(
        lena,
        "Food Hygiene Level 2",
        "APC-300103",
        today - timedelta(days=800),
        level="2",
        status=DocumentStatus.revoked.value,
        revoked_reason="Issued in error",
    )
    plumbing = await issue(
        liam,
        "Level 2 Certificate in Plumbing",
        "APC-400201",
        today - timedelta(days=120),
        qualification_code="601/1111/2",
        level="2",
    )

    # Lena and Tara: one connection whose access ended, then an active one.
    old = await actions.share(lena, tara.email, [diploma.id], today + timedelta(days=1), today)
    await actions.accept_as_third_party(tara, old, today)
    await Connection.update({Connection.expires_on: today - timedelta(days=10)}).where(
        Connection.id == old.id
    )
    active = await actions.share(
        lena, tara.email, [diploma.id, first_aid.id], today + timedelta(days=60), today
    )
    await actions.accept_as_third_party(tara, active, today)
    # Lena and Theo: a cancelled connection, then Lena's offer waiting for Theo.
    cancelled = await actions.add_connection(theo, lena.email, "For your job application.", today)
    await actions.accept_as_learner(lena, cancelled, [first_aid.id], today + timedelta(days=20), today)
    await actions.cancel(theo, cancelled)
    await actions.share(lena, theo.email, [first_aid.id], today + timedelta(days=30), today)
    # Liam and Tara: a declined request, then an active connection ending in 5 days with more time asked.
    declined = await actions.add_connection(tara, liam.email, "", today)
    await actions.decline(liam, declined)
    ending = await actions.share(liam, tara.email, [plumbing.id], today + timedelta(days=5), today)
    await actions.accept_as_third_party(tara, ending, today)
    await actions.request_extension(
        tara, ending, today + timedelta(days=35), "Our audit runs to next month.", today
    )
    # Theo asks Liam: waiting for Liam.
    await actions.add_connection(theo, liam.email, "We would like to see your plumbing certificate.", today)
