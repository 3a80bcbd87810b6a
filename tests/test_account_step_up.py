"""Step-up (issue 21 item 7): actions that matter need a second step within the last 15 minutes
(the password alone for accounts without two-step sign-in). A stale session is refused with the
prompt in place and what was typed kept; the same form posted again with a code goes through."""

from __future__ import annotations

from src.tables.accounts import Account
from tests.support.client import log_in, post_form, run
from tests.support.document_staff_fixtures import issued, make_learner, reload, row, staff_client
from tests.support.factories import STRONG_PASSWORD
from tests.support.imports import confirm, csv_bytes, upload
from tests.support.pages import errors_on, field_value, heading, html
from tests.support.two_step import code_at, enrol, key_of, step_now

STALE = 16  # minutes since the log-in: beyond the 15 a step counts for


def next_code(login: str) -> str:
    """The next step's code: this step's was spent on the log-in (only the session clock moves)."""
    return code_at(key_of(login), step_now() + 1)


def test_revoking_with_a_stale_session_asks_for_a_code_in_place_and_keeps_the_form(client, clock):
    staff_client(client)
    learner = run(make_learner())
    document = run(issued(learner))
    clock.minutes = STALE
    path = f"/staff/documents/{document.id}/revoke"
    values = {
        "version": str(document.version),
        "category": "issued_in_error",
        "wording": "Issued in error.",
        "note": "Ticket 4411",
        "confirmed": "yes",
    }
    refused = post_form(client, path, values, token_from=path)

    assert refused.status_code == 422
    assert "step_up_code" in errors_on(refused)
    page = html(refused)
    assert page.css_first("input#step_up_code").attributes["autocomplete"] == "one-time-code"
    # What was typed rides along in the confirmation, ready to post again.
    assert field_value(page, "wording") == "Issued in error." and field_value(page, "note") == "Ticket 4411"
    assert run(reload(document.id)).status == "valid"

    done = post_form(client, path, {**values, "step_up_code": next_code("sam")})
    assert done.status_code == 303
    assert run(reload(document.id)).status == "revoked"


def test_a_wrong_step_up_code_is_refused_and_nothing_happens(client, clock):
    staff_client(client)
    document = run(issued(run(make_learner())))
    clock.minutes = STALE
    path = f"/staff/documents/{document.id}/revoke"
    values = {
        "version": str(document.version),
        "category": "issued_in_error",
        "wording": "Issued in error.",
        "confirmed": "yes",
        "step_up_code": "000000" if next_code("sam") != "000000" else "111111",
    }
    refused = post_form(client, path, values, token_from=path)
    assert refused.status_code == 422 and errors_on(refused)["step_up_code"].startswith(
        "That code is not right"
    )
    assert run(reload(document.id)).status == "valid"


def test_a_fresh_log_in_counts_as_the_step(client):
    staff_client(client)
    document = run(issued(run(make_learner())))
    path = f"/staff/documents/{document.id}/revoke"
    values = {
        "version": str(document.version),
        "category": "issued_in_error",
        "wording": "Issued in error.",
        "confirmed": "yes",
    }
    assert post_form(client, path, values, token_from=path).status_code == 303


def test_confirming_a_csv_import_with_a_stale_session_asks_for_a_code(client, clock):
    staff_client(client)
    run(make_learner())
    checked = upload(client, csv_bytes([row()]))
    assert checked.status_code == 200
    clock.minutes = STALE
    refused = confirm(client, checked)
    assert refused.status_code == 422 and "step_up_code" in errors_on(refused)
    form = html(refused).css_first('form[action$="/confirm"]')
    token = form.css_first('input[name="_csrf_token"]').attributes["value"]
    done = client.post(
        form.attributes["action"],
        data={"_csrf_token": token, "step_up_code": next_code("sam")},
        follow_redirects=False,
    )
    assert done.status_code == 303


def test_superseding_with_a_stale_session_keeps_what_was_typed(client, clock):
    staff_client(client)
    learner = run(make_learner())
    document = run(issued(learner))
    clock.minutes = STALE
    path = f"/staff/documents/{document.id}/supersede"
    page = html(client.get(path))
    assert page.css_first("input#step_up_code") is not None  # asked up front: the page knows
    values = {**row(certificate_number="C-777", grade="Distinction"), "version": str(document.version)}
    refused = post_form(client, path, values, token_from=path)
    assert refused.status_code == 422 and "step_up_code" in errors_on(refused)
    assert field_value(html(refused), "certificate_number") == "C-777"
    assert run(reload(document.id)).status == "valid"


def test_a_new_email_address_with_a_stale_session_needs_the_code(client, tess, clock):
    run(enrol(tess))
    log_in(client, "tess")
    clock.minutes = STALE
    details = {
        "first_name": "Tessa",
        "last_name": "Turner",
        "username": "Tess",
        "email": "tess@new.example.com",
        "current_password": STRONG_PASSWORD,
    }
    refused = post_form(client, "/profile/details", details, token_from="/profile")
    assert refused.status_code == 422 and "step_up_code" in errors_on(refused)
    assert field_value(html(refused), "first_name") == "Tessa"  # nothing typed lost
    assert run(Account.by_login("tess")).pending_email is None

    done = post_form(client, "/profile/details", {**details, "step_up_code": next_code("tess")})
    assert done.status_code == 303
    assert run(Account.by_login("tess")).pending_email == "tess@new.example.com"


def test_changing_the_password_with_two_step_on_and_a_stale_session_asks_for_a_code(client, tess, clock):
    run(enrol(tess))
    log_in(client, "tess")
    clock.minutes = STALE
    assert html(client.get("/profile/password")).css_first("input#step_up_code") is not None
    values = {"current_password": STRONG_PASSWORD, "password": "orchard-lantern-violet-copper"}
    refused = post_form(client, "/profile/password", values, token_from="/profile/password")
    assert refused.status_code == 422 and "step_up_code" in errors_on(refused)
    done = post_form(client, "/profile/password", {**values, "step_up_code": next_code("tess")})
    assert done.status_code == 303


def test_without_two_step_the_password_is_the_step(client, tess, clock):
    log_in(client, "tess")
    # Forms that ask for the password anyway ask for nothing more.
    clock.minutes = STALE
    assert html(client.get("/profile/password")).css_first("#step-up") is None
    # Turning two-step sign-in on asks for the password when the log-in is not recent.
    setup = client.get("/profile/two-step/setup")
    assert html(setup).css_first("input#step_up_password") is not None
    key = "".join(html(setup).css_first(".secret-key code").text().split())
    refused = post_form(
        client,
        "/profile/two-step/setup",
        {"code": code_at(key, step_now())},
        token_from="/profile/two-step/setup",
    )
    assert refused.status_code == 422 and "step_up_password" in errors_on(refused)
    done = post_form(
        client,
        "/profile/two-step/setup",
        {"code": code_at(key, step_now()), "step_up_password": STRONG_PASSWORD},
    )
    assert done.status_code == 200 and heading(done) == "Your recovery codes"


def test_deleting_the_account_with_a_stale_session_asks_for_a_code(client, tess, clock):
    run(enrol(tess))
    log_in(client, "tess")
    clock.minutes = STALE
    refused = post_form(
        client, "/profile/delete", {"password": STRONG_PASSWORD}, token_from="/profile/delete"
    )
    assert refused.status_code == 422 and "step_up_code" in errors_on(refused)
    assert run(Account.by_login("tess")) is not None
    done = post_form(
        client, "/profile/delete", {"password": STRONG_PASSWORD, "step_up_code": next_code("tess")}
    )
    assert done.status_code == 303
    assert run(Account.by_login("tess")) is None
