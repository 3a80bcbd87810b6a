"""Every email template, rendered as the mail worker renders it (src.mail.render_email), from an
outbox row in memory: three parts each, no gaps, every link absolute. No database: run once."""

from __future__ import annotations

from typing import Any

import pytest
from selectolax.lexbor import LexborHTMLParser as HTMLParser

from src.app import create_app
from src.mail import render_email
from src.tables.outbox import OutboxEmail
from src.templating import TEMPLATES
from tests.support.client import make_settings
from tests.support.environment import BASE_URL, free_port

pytestmark = pytest.mark.engine_free  # no database: run once, on SQLite, and not emptied before


@pytest.fixture(scope="module")
def email_parts() -> tuple[Any, Any]:
    """One app's template engine and settings for the module, as the mail worker gets them (no
    worker of the app's own running): rendering reads them, never changes them."""
    settings = make_settings(free_port(), run_mail_worker="false")
    return create_app(settings).template_engine, settings


REALISTIC = {
    "first_name": "Tess",
    "username": "tess.tester",
    "new_email": "tess.new@example.com",
    "token": "eyJhIjoxfQ.abc.def",
    "invited": "newcomer@example.com",
    "hours": 48,
    "minutes": 60,
    "days": 14,
    "connection_id": 42,
    "other_name": "Lena Okafor",
    "learner_name": "Lena Okafor",
    "third_party_name": "Tara Patel",
    "company": "Northwind Training",
    "expires_on": "31 March 2027",
    "wanted_until": "30 June 2027",
    "current": "31 March 2027",
    "documents": 2,
    "message": "We need a little longer to finish our checks.",
    # documents and reports
    "title": "Level 3 Diploma in Health and Social Care",
    "titles": ["Level 3 Diploma in Health and Social Care", "First Aid at Work"],
    "new_title": "Level 3 Diploma in Health and Social Care (corrected)",
    "reason": "Issued in error",
    "document_title": "First Aid at Work",
    "reporter": "Tara Patel",
    "category": "Wrong name",
    "answer": "Thank you: we have corrected the name and issued a new document.",
    # a document's validity, and the weekly count of views
    "document_id": 17,
    "valid_until": "30 November 2027",
    "days_left": 30,
    "views": 3,
    "first": "30 November 2026",
    "last": "6 December 2026",
    # two-step sign-in, passkeys, a second email address, a download of one's data
    "name": "Work laptop",
    "left": 2,
    "few": True,
    "second_email": "tess.home@example.com",
    "when": "14:05 UTC on 7 December 2026",
    # print orders
    "order_id": 7,
    "certificate_number": "QA-2026-000123",
    "delivery_lines": ["Lena Okafor", "12 Mill Lane", "Leeds", "LS1 4AB"],
}
EMAILS = sorted(
    path.name.removesuffix(".subject.txt") for path in (TEMPLATES / "emails").glob("*.subject.txt")
)


def test_every_email_template_has_three_parts():
    names = {path.name for path in (TEMPLATES / "emails").iterdir() if not path.name.startswith("_")}
    stems = {name.split(".")[0] for name in names}
    assert len(EMAILS) >= 8
    for stem in stems:
        assert {f"{stem}.subject.txt", f"{stem}.txt", f"{stem}.html"} <= names, stem


@pytest.mark.parametrize("template", EMAILS)
def test_every_email_renders_without_gaps(email_parts, template):
    engine, settings = email_parts
    row = OutboxEmail(recipient="tess@example.com", template=template, context=REALISTIC, idempotency_key="k")

    rendered = render_email(engine, row, settings)

    assert rendered.subject and "\n" not in rendered.subject
    for part in (rendered.subject, rendered.text, rendered.html):
        assert "None" not in part
        assert "{{" not in part and "{%" not in part
    links = [a.attributes.get("href") or "" for a in HTMLParser(rendered.html).css("a")]
    assert all(link for link in links)
    for link in links:
        if not link.startswith("mailto:"):
            assert link.startswith(BASE_URL + "/") and link != BASE_URL + "/", link
            assert link in rendered.text, f"text part lacks {link}"


def test_an_email_queued_with_its_link_as_a_path_still_sends_that_link(email_parts):
    """Rows queued before emails built links by route name carry the path, not the token."""
    engine, settings = email_parts
    old = {"first_name": "Tess", "path": "/reset-password/eyJhIjoxfQ.abc.def", "minutes": 60}
    row = OutboxEmail(
        recipient="tess@example.com", template="reset_password", context=old, idempotency_key="k"
    )

    rendered = render_email(engine, row, settings)

    link = BASE_URL + "/reset-password/eyJhIjoxfQ.abc.def"
    assert [a.attributes["href"] for a in HTMLParser(rendered.html).css("a[href^=http]")] == [link]
    assert link in rendered.text
