"""Demo documents in the states the connections demo does not make: expired, superseded (with its
replacement) and revoked by staff, through the staff actions themselves, plus enrolment numbers."""

from __future__ import annotations

from datetime import date, timedelta

from src import documents
from src.tables.accounts import Account
from src.tokens import Tokens


async def load_demo_documents(tokens: Tokens, people: dict[str, Account], today: date) -> None:
    staff, lena, liam = people["staff"], people["lena"], people["liam"]
    await Account.update({Account.enrolment_number: "ENR-104233", Account.uln: "1234567899"}).where(
        Account.id == lena.id
    )
    await Account.update({Account.enrolment_number: "ENR-104871"}).where(Account.id == liam.id)
    await documents.issue(
        liam,
        "Asbestos Awareness",
        "APC-400202",
        today - timedelta(days=500),
        kind="accreditation",
        valid_until=today - timedelta(days=135),
        issued_by=staff,
    )
    wrong = await documents.issue(
        liam,
        "Level 1 Award in Construction",
        "APC-400203",
        today - timedelta(days=90),
        level="1",
        grade="Pass",
        issued_by=staff,
    )
    fields = {
        "certificate_number": "APC-400204",
        "learner_email": liam.email,
        "first_name": liam.first_name,
        "middle_name": "",
        "last_name": liam.last_name,
        "enrolment_number": "ENR-104871",
        "uln": "",
        "kind": "certificate",
        "qualification_code": "",
        "qualification_title": "Level 1 Award in Construction",
        "level": "1",
        "grade": "Merit",  # the correction: the grade was wrong
        "awarded_on": (today - timedelta(days=90)).isoformat(),
        "valid_until": "",
    }
    await documents.supersede(tokens, staff, wrong.id, wrong.version, fields, [], today=today)
    mistake = await documents.issue(
        liam, "Working at Height", "APC-400205", today - timedelta(days=30), issued_by=staff
    )
    await documents.revoke(
        staff,
        mistake.id,
        mistake.version,
        "wrong_learner",
        "This certificate was issued to the wrong learner.",
        "Swapped with another learner's record in the March upload.",
    )
