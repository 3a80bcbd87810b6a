"""Add Connection refuses the third party's own email address, beside the email field."""

from __future__ import annotations

from src.tables.connections import Connection
from src.tables.outbox import OutboxEmail
from tests.support.client import log_in, post_form, run
from tests.support.factories import make_account
from tests.support.pages import errors_on, html


def test_add_connection_refuses_your_own_email_address(client):
    run(make_account("third_party", "tess", email_address="Tess@Example.com"))
    log_in(client, "tess")
    for address in ("tess@example.com", " TESS@example.COM "):
        response = post_form(
            client, "/connections/new", {"email": address, "message": "Hi"}, token_from="/connections/new"
        )
        assert response.status_code == 422
        assert errors_on(response) == {"email": "Enter the learner's email address, not your own"}
        page = html(response)
        assert page.css_first("input#email").attributes.get("aria-invalid") == "true"
        assert page.css_first("textarea#message").text() == "Hi"
    assert run(Connection.count()) == 0
    assert run(OutboxEmail.count()) == 0
