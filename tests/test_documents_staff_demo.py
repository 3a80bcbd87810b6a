"""The demo data (`make run`) has documents in every standing, made through the staff actions."""

from __future__ import annotations

from typing import Any

from src.clock import today_in
from src.demo import load_demo
from src.documents import standing
from src.tables.accounts import Account
from src.tables.documents import Document
from tests.support.client import run


def test_demo_documents_cover_every_standing(settings: Any, client: Any) -> None:
    run(load_demo(settings))
    today = today_in(settings.tz)
    codes = {standing(d, today).code for d in run(Document.objects())}
    assert codes == {"valid", "valid_until", "expired", "revoked", "superseded"}
    superseded = run(Document.objects().where(Document.status == "superseded").first())
    assert superseded.superseded_by is not None
    revoked_by_staff = run(Document.objects().where(Document.revoked_note != "").first())
    assert revoked_by_staff.revoked_reason
    lena = run(Account.objects().where(Account.username == "lena").first())
    assert lena.enrolment_number and lena.uln
