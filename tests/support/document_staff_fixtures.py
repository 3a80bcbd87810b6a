"""Shared helpers for the staff document tests: a staff member, a learner, a valid row."""

from __future__ import annotations

from datetime import date
from typing import Any

from litestar.testing import TestClient

from src import documents
from src.tables.documents import Document
from tests.support.client import log_in
from tests.support.factories import make_account

VALID_ULN = "1234567899"  # 1·10 + 2·9 + … + 9·2 = 210; 210 mod 11 = 1; 10 - 1 = 9


def row(**changes: str) -> dict[str, str]:
    """A document row as a CSV or the staff form would give it."""
    values = {
        "certificate_number": "C-1001",
        "learner_email": "lena@example.com",
        "first_name": "Lena",
        "middle_name": "",
        "last_name": "Okafor",
        "enrolment_number": "ENR-77",
        "uln": VALID_ULN,
        "kind": "certificate",
        "qualification_code": "603/1234/5",
        "qualification_title": "Level 3 Diploma in Plumbing",
        "level": "3",
        "grade": "Merit",
        "awarded_on": "14/03/2026",
        "valid_until": "",
    }
    values.update(changes)
    return values


async def make_staff(username: str = "sam") -> Any:
    return await make_account("staff", username)


async def make_learner(username: str = "lena", **extra: Any) -> Any:
    return await make_account("learner", username, **extra)


def staff_client(client: TestClient[Any], username: str = "sam") -> Any:
    from tests.support.client import run

    staff = run(make_staff(username))
    log_in(client, username)
    return staff


async def issued(owner: Any, number: str = "C-500", title: str = "Award in Safety", **extra: Any) -> Document:
    return await documents.issue(owner, title, number, date(2025, 6, 1), **extra)


async def reload(document_id: int) -> Document:
    found = await Document.objects().where(Document.id == document_id).first()
    assert found is not None
    return found
