"""Demo reports: one waiting in the staff inbox (from a third party) and one already answered (from
the learner), made through the same rules the pages use (their emails are in the mailbox too)."""

from __future__ import annotations

from src import reports
from src.tables.accounts import Account
from src.tables.connections import Connection, SharedDocument
from src.tables.documents import Document


async def load_demo_reports(people: dict[str, Account]) -> None:
    lena, tara, staff = people["lena"], people["tara"], people["staff"]
    diploma = await Document.objects().where(Document.certificate_number == "APC-300101").first()
    first_aid = await Document.objects().where(Document.certificate_number == "APC-300102").first()
    if diploma is None or first_aid is None:
        return
    # Tara's report goes through her newest connection with Lena that shares the diploma.
    shared = (
        await SharedDocument.select(SharedDocument.connection)
        .where(
            (SharedDocument.document == diploma.id)
            & (SharedDocument.connection.third_party == tara.id)
            & (SharedDocument.connection.state == "active")
        )
        .order_by(SharedDocument.connection, ascending=False)
        .first()
    )
    connection = shared["connection"] if shared else None
    if connection is not None and await Connection.exists().where(Connection.id == connection):
        await reports.submit(
            tara,
            diploma,
            connection,
            "wrong_details",
            "The unit Safeguarding shows Pass, but the learner's transcript says Merit.",
        )
    answered = await reports.submit(
        lena, first_aid, None, "wrong_name", "My name should include my middle name, Adaeze."
    )
    await reports.answer(
        staff,
        answered.id,
        "Thank you. We have checked your enrolment record and will issue a corrected certificate this week.",
    )
