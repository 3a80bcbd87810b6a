"""Issuing documents: the one way a document comes to exist (staff pages, demo data and tests call it)."""

from __future__ import annotations

from datetime import date
from typing import Any

from src.documents.verify_codes import new_verify_code
from src.tables.accounts import Account
from src.tables.documents import Document


async def issue(
    owner: Account, title: str, certificate_number: str, awarded_on: date, **extra: Any
) -> Document:
    """Issue one document to a learner, with a fresh verify code (inside the caller's transaction, if any)."""
    document = Document(
        owner=owner.id,
        title=title,
        certificate_number=certificate_number,
        verify_code=new_verify_code(),
        awarded_on=awarded_on,
        **extra,
    )
    await document.save()
    return document
