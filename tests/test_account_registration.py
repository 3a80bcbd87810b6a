"""Registering a third party: the form (page and htmx fragment), every validation refusal, the
identical answer for a known address, the verification email and its link (expired, tampered,
reused, wrong purpose, unknown key, rotated key), and sending the link again."""

from __future__ import annotations

import re
from datetime import date
from types import SimpleNamespace

import itsdangerous.timed
import pytest
from litestar.testing import TestClient

from src.app import create_app
from src.tables.accounts import Account
from src.tables.outbox import OutboxEmail
from src.tokens import VERIFY_EMAIL_MAX_AGE, Tokens
from tests.support.client import log_in, make_settings, post_form, run
from tests.support.environment import BASE_URL
from tests.support.factories import STRONG_PASSWORD, make_account
from tests.support.pages import errors_on, field_value, heading, html, notices
from tests.support.smtp import link_in, text_of

NEW = {
    "first_name": "Nina",
    "middle_name": "",
    "last_name": "Newcomer",
    "username": "nina",
    "email": "nina@example.com",
    "dob-day": "27",
    "dob-month": "3",
    "dob-year": "1990",
    "phone": "01234 567890",
    "company_name": "Acme Hiring",
    "job_title": "Recruiter",
    "password": STRONG_PASSWORD,
}


def register(client, htmx: bool = False, **changes: str):
    return post_form(client, "/register", {**NEW, **changes}, htmx=htmx, token_from="/register")


def count_rows() -> tuple[int, int]:
    return run(Account.count().run()), run(OutboxEmail.count().run())


def account_row(username_key: str) -> dict | None:
    return run(Account.select().where(Account.username_key == username_key).first().run())


def summary_links(response) -> dict[str, str]:
    """The error summary's links: {href: message}."""
    return {node.attributes["href"]: node.text(strip=True) for node in html(response).css(".error-summary a")}


# --- the form -------------------------------------------------------------------------------------


def test_register_page_is_a_full_page_with_every_field(client):
    response = client.get("/register")
    assert response.status_code == 200
    assert "HX-Request" in response.headers["vary"].split(",")
    page = html(response)
    assert page.css_first("html") is not None and page.css_first("header.site-header") is not None
    form = page.css_first("main form#register-form")
    assert form.attributes["action"] == "/register" and form.attributes["method"] == "post"
    names = {node.attributes["name"] for node in form.css("input")}
    assert names >= {*NEW, "_csrf_token"}
    # Date of birth is three typed fields, each with its own label.
    for part in ("day", "month", "year"):
        assert form.css_first(f'label[for="dob-{part}"]') is not None


def test_register_htmx_get_is_the_form_fragment_only(client):
    response = client.get("/register", headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert "HX-Request" in response.headers["vary"].split(",")
    assert "<html" not in response.text.lower()
    page = html(response)
    assert page.css_first("header") is None and page.css_first("footer") is None
    assert page.css_first("form#register-form") is not None


# --- the happy path -------------------------------------------------------------------------------


def test_register_verify_by_email_then_log_in(client, mailbox):
    response = register(client)
    assert response.status_code == 303
    assert response.headers["location"] == "/register/check-email"
    check = client.get("/register/check-email")
    assert heading(check) == "Check your email"
    assert html(check).css_first("main strong").text() == "nina@example.com"

    row = account_row("nina")
    assert row["email_verified_at"] is None and row["role"] == "third_party"
    assert row["date_of_birth"] == date(1990, 3, 27)
    assert row["company_name"] == "Acme Hiring" and row["phone"] == "01234 567890"
    assert row["password_hash"].startswith("$argon2id$")

    message = mailbox.wait_for(to="nina@example.com", subject="Verify your email address")
    assert "24 hours" in text_of(message)
    # Not verified yet: log-in is refused.
    refused = post_form(client, "/login", {"login": "nina", "password": STRONG_PASSWORD})
    assert refused.status_code == 422

    verified = client.get(link_in(message, "/verify-email/"), follow_redirects=False)
    assert verified.status_code == 303 and verified.headers["location"] == "/login"
    login_page = client.get("/login")
    assert "Your email address is verified. You can now log in." in notices(login_page)
    assert account_row("nina")["email_verified_at"] is not None

    log_in(client, "nina")
    dashboard = client.get("/dashboard")
    assert dashboard.status_code == 200
    assert heading(dashboard) == "Hello, Nina"


def test_register_with_htmx_answers_with_hx_redirect(client, mailbox):
    response = register(client, htmx=True)
    assert response.status_code == 200
    assert response.headers["hx-redirect"] == "/register/check-email"
    assert account_row("nina") is not None
    mailbox.wait_for(to="nina@example.com", subject="Verify")


def test_month_may_be_typed_as_a_name_or_number(client):
    for number, month in enumerate(["March", "mar", "MAR.", "03"]):
        username = f"nina{number}"
        response = register(
            client, username=username, email=f"{username}@example.com", **{"dob-month": month}
        )
        assert response.status_code == 303, (month, errors_on(response))
        assert account_row(username)["date_of_birth"] == date(1990, 3, 27)


def test_date_of_birth_is_optional(client):
    response = register(client, **{"dob-day": "", "dob-month": "", "dob-year": ""})
    assert response.status_code == 303
    assert account_row("nina")["date_of_birth"] is None


# --- refusals: 422, summary linking to the field, message beside it, values kept, nothing saved --


def assert_refused(response, field: str, message: str, anchor: str | None = None) -> None:
    assert response.status_code == 422
    assert errors_on(response).get(field) == message, errors_on(response)
    assert summary_links(response).get(f"#{anchor or field}") == message
    page = html(response)
    described = page.css_first(f"#{anchor or field}")
    assert described is not None, f"the summary links to #{anchor or field}, which is not on the page"
    assert count_rows() == (0, 0)


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"first_name": ""}, "first_name", "Enter your first name"),
        ({"last_name": "   "}, "last_name", "Enter your last name"),
        ({"username": ""}, "username", "Enter a user name"),
        ({"email": ""}, "email", "Enter your email address"),
        (
            {"email": "nina@example"},
            "email",
            "Enter an email address in the correct format, like name@example.com",
        ),
        (
            {"email": "nina at example.com"},
            "email",
            "Enter an email address in the correct format, like name@example.com",
        ),
        (
            {"username": "ni"},
            "username",
            "User name must be 3 to 40 letters, numbers, dots, dashes or underscores",
        ),
        (
            {"username": "nina smith"},
            "username",
            "User name must be 3 to 40 letters, numbers, dots, dashes or underscores",
        ),
        ({"password": ""}, "password", "Enter a password of at least 15 characters"),
        ({"password": "short-password"}, "password", "Enter a password of at least 15 characters"),
        ({"password": "x" * 129}, "password", "Enter a password of at most 128 characters"),
        (
            {"password": "1qaz2wsx3edc4rfv"},
            "password",
            "This password is too common. Try a few unrelated words together",
        ),
        (
            {"password": "abababababababab"},
            "password",
            "This password is too common. Try a few unrelated words together",
        ),
        (
            {"username": "Lantern-Meadow-Piano", "password": "lantern-meadow-piano"},
            "password",
            "Your password must not be your user name or email address",
        ),
        (
            {"email": "lantern.meadow.piano@example.com", "password": "lantern.meadow.piano@example.com"},
            "password",
            "Your password must not be your user name or email address",
        ),
        ({"first_name": "N" * 101}, "first_name", "Enter no more than 100 characters"),
        ({"company_name": "C" * 201}, "company_name", "Enter no more than 200 characters"),
        ({"username": "n" * 41}, "username", "Enter no more than 40 characters"),
    ],
    ids=lambda value: value if isinstance(value, str) else None,
)
def test_invalid_field_is_refused_with_nothing_saved(client, changes, field, message):
    response = register(client, **changes)
    assert_refused(response, field, message)
    page = html(response)
    assert page.css_first("title").text().startswith("Error:")
    assert page.css_first(f"#{field}").attributes.get("aria-invalid") == "true"
    # What was typed is kept, except the password.
    for name, value in {**NEW, **changes}.items():
        if name != "password":
            assert field_value(page, name) == value.strip(), name
    assert field_value(page, "password") is None  # the password input carries no value attribute
    assert page.css_first('input[name="password"]').attributes.get("value") is None


@pytest.mark.parametrize(
    ("parts", "message"),
    [
        (("", "3", "1990"), "Your date of birth must include a day"),
        (("27", "", ""), "Your date of birth must include a month and a year"),
        (("31", "2", "2000"), "Your date of birth must be a real date, like 27 3 1990"),
        (("27", "Marchember", "1990"), "Your date of birth must be a real date, like 27 3 1990"),
        (("27", "13", "1990"), "Your date of birth must be a real date, like 27 3 1990"),
        (("27", "3", "90"), "Year must include 4 numbers"),
        (("27", "3", "199"), "Year must include 4 numbers"),
        (("27", "3", "2999"), "Date of birth must be in the past"),
        (("27", "²", "1990"), "Your date of birth must be a real date, like 27 3 1990"),
        (("99999999999999999999", "3", "1990"), "Your date of birth must be a real date, like 27 3 1990"),
        (("27", "99999999999999999999", "1990"), "Your date of birth must be a real date, like 27 3 1990"),
    ],
)
def test_bad_date_of_birth_is_refused(client, parts, message):
    day, month, year = parts
    response = register(client, **{"dob-day": day, "dob-month": month, "dob-year": year})
    assert_refused(response, "dob", message, anchor="dob-day")
    page = html(response)
    assert (
        field_value(page, "dob-day"),
        field_value(page, "dob-month"),
        field_value(page, "dob-year"),
    ) == parts


def test_every_missing_required_field_is_listed_in_page_order(client):
    response = register(client, first_name="", last_name="", username="", email="", password="")
    assert response.status_code == 422
    assert list(summary_links(response)) == ["#first_name", "#last_name", "#username", "#email", "#password"]
    assert set(errors_on(response)) == {"first_name", "last_name", "username", "email", "password"}
    assert count_rows() == (0, 0)


def test_htmx_refusal_is_the_form_fragment_with_422(client):
    response = register(client, htmx=True, email="not-an-email")
    assert response.status_code == 422
    assert "HX-Request" in response.headers["vary"].split(",")
    assert "<html" not in response.text.lower()
    page = html(response)
    assert page.css_first("header") is None
    assert page.css_first("form#register-form .error-summary") is not None
    assert "email" in errors_on(response)
    assert field_value(page, "first_name") == "Nina"
    assert count_rows() == (0, 0)


def test_body_over_64_kb_is_refused_with_413(client):
    response = register(client, job_title="x" * (70 * 1024))
    assert response.status_code == 413
    assert heading(response) == "Too much data"
    assert count_rows() == (0, 0)


def test_taken_user_name_answers_like_a_free_one_and_the_registrant_is_told_by_email(
    client, other_client, mailbox
):
    # Issue 9 item 8: the page must not tell a stranger that a user name exists.
    run(make_account(username="nina", email_address="first-nina@example.com"))
    taken = register(client, username="NINA", email="second-nina@example.com")
    free = post_form(
        other_client,
        "/register",
        {**NEW, "username": "free-name", "email": "x@example.com"},
        token_from="/register",
    )
    assert (taken.status_code, taken.headers["location"]) == (free.status_code, free.headers["location"])
    assert taken.headers["location"] == "/register/check-email"
    assert run(Account.count().where(Account.email == "second-nina@example.com").run()) == 0
    told = mailbox.wait_for(to="second-nina@example.com", subject="Choose another user name")
    assert "NINA" in text_of(told) and f"{BASE_URL}/register" in text_of(told)


# --- a known address gets the same answer, and its owner an email instead -------------------------


def visible_text(response, email: str) -> str:
    main = html(response).css_first("main")
    return re.sub(r"\s+", " ", main.text()).replace(email, "<email>").strip()


def test_known_email_answers_exactly_as_a_new_one(client, other_client, mailbox):
    run(make_account(username="owner", email_address="owner@example.com"))

    fresh = register(client)
    known = post_form(
        other_client,
        "/register",
        {**NEW, "username": "someone-else", "email": "Owner@Example.com"},
        token_from="/register",
    )
    assert (known.status_code, known.headers["location"]) == (fresh.status_code, fresh.headers["location"])
    fresh_page = client.get(fresh.headers["location"])
    known_page = other_client.get(known.headers["location"])
    assert fresh_page.status_code == known_page.status_code == 200
    assert visible_text(known_page, "owner@example.com") == visible_text(fresh_page, "nina@example.com")

    notice = mailbox.wait_for(to="owner@example.com", subject="You already have an account")
    assert f"{BASE_URL}/forgot-password" in text_of(notice)
    mailbox.wait_for(to="nina@example.com", subject="Verify your email address")
    assert account_row("someone-else") is None
    owners = run(Account.select().where(Account.email == "owner@example.com").run())
    assert len(owners) == 1 and owners[0]["username"] == "owner"
    assert run(OutboxEmail.count().where(OutboxEmail.recipient == "owner@example.com").run()) == 1


# --- the verification link ------------------------------------------------------------------------


def unverified_nina(tokens: Tokens) -> tuple[dict, str]:
    account = run(make_account(username="nina", verified=False))
    token = tokens.sign("verify-email", {"a": account.id, "e": account.email})
    return account, token


def test_verification_link_works_once(client, app):
    _, token = unverified_nina(app.state.tokens)
    assert client.get(f"/verify-email/{token}", follow_redirects=False).status_code == 303
    again = client.get(f"/verify-email/{token}")
    assert again.status_code == 400
    assert heading(again) == "This link has already been used"
    assert html(again).css_first('main a[href="/login"]') is not None


def test_expired_verification_link_is_refused(client, app, monkeypatch):
    account = run(make_account(username="nina", verified=False))
    signed_at = itsdangerous.timed.time.time() - VERIFY_EMAIL_MAX_AGE - 60
    with monkeypatch.context() as patch:
        patch.setattr(itsdangerous.timed, "time", SimpleNamespace(time=lambda: signed_at))
        token = app.state.tokens.sign("verify-email", {"a": account.id, "e": account.email})
    response = client.get(f"/verify-email/{token}")
    assert response.status_code == 400
    assert heading(response) == "This link has expired"
    assert html(response).css_first('main a[href="/verify-email/resend"]') is not None
    assert account_row("nina")["email_verified_at"] is None


def test_verification_link_signed_just_inside_its_lifetime_works(client, app, monkeypatch):
    account = run(make_account(username="nina", verified=False))
    signed_at = itsdangerous.timed.time.time() - VERIFY_EMAIL_MAX_AGE + 60
    with monkeypatch.context() as patch:
        patch.setattr(itsdangerous.timed, "time", SimpleNamespace(time=lambda: signed_at))
        token = app.state.tokens.sign("verify-email", {"a": account.id, "e": account.email})
    assert client.get(f"/verify-email/{token}", follow_redirects=False).status_code == 303
    assert account_row("nina")["email_verified_at"] is not None


def tamper(token: str) -> str:
    payload, rest = token.split(".", 1)
    flipped = payload[:-1] + ("A" if payload[-1] != "A" else "B")
    return f"{flipped}.{rest}"


def test_bad_verification_links_are_refused(client, app):
    account, good = unverified_nina(app.state.tokens)
    payload = {"a": account.id, "e": account.email}
    bad = {
        "tampered": tamper(good),
        "reset token": app.state.tokens.sign("reset-password", payload),
        "activate token": app.state.tokens.sign("activate", payload),
        "unknown key": Tokens(("a-key-the-portal-never-had-" + "x" * 20,)).sign("verify-email", payload),
        "garbage": "not-a-token",
    }
    for how, token in bad.items():
        response = client.get(f"/verify-email/{token}")
        assert response.status_code == 400, how
        assert heading(response) == "This link is not valid", how
    assert account_row("nina")["email_verified_at"] is None
    # The control: the untouched link works.
    assert client.get(f"/verify-email/{good}", follow_redirects=False).status_code == 303


def test_verification_link_for_an_address_since_changed_is_refused(client, app):
    account, token = unverified_nina(app.state.tokens)
    run(Account.update({Account.email: "nina.new@example.com"}).where(Account.id == account.id).run())
    response = client.get(f"/verify-email/{token}")
    assert response.status_code == 400
    assert account_row("nina")["email_verified_at"] is None


def test_link_signed_with_the_previous_key_still_verifies_after_rotation(smtp_server, mailbox):
    old, new = "old-key-" + "o" * 40, "new-key-" + "n" * 40
    account = run(make_account(username="nina", verified=False))
    token = Tokens((old,)).sign("verify-email", {"a": account.id, "e": account.email})
    rotated = create_app(make_settings(smtp_server.port, secret_keys=f"{old},{new}"))
    with TestClient(rotated, base_url=BASE_URL) as client:
        response = client.get(f"/verify-email/{token}", follow_redirects=False)
        assert response.status_code == 303
        # New links are signed with the newest key only.
        fresh = rotated.state.tokens.sign("verify-email", {"a": 1})
        assert Tokens((new,)).load("verify-email", fresh, max_age=60) == {"a": 1}
    # Checked once the app (and its database pool, on the client's loop) has shut down.
    assert account_row("nina")["email_verified_at"] is not None


# --- sending the link again -----------------------------------------------------------------------


def test_resend_answers_the_same_for_every_address_and_mails_only_the_unverified(client, mailbox):
    run(make_account(username="waiting", verified=False))
    run(make_account(username="done", verified=True))
    pages = []
    for address in ("waiting@example.com", "done@example.com", "nobody@example.com"):
        response = post_form(
            client, "/verify-email/resend", {"email": address}, token_from="/verify-email/resend"
        )
        assert (response.status_code, response.headers["location"]) == (303, "/register/check-email")
        pages.append(visible_text(client.get("/register/check-email"), address))
    assert pages[0] == pages[1] == pages[2]

    message = mailbox.wait_for(to="waiting@example.com", subject="Verify your email address")
    client.get(link_in(message, "/verify-email/"))
    assert account_row("waiting")["email_verified_at"] is not None
    assert [row["recipient"] for row in run(OutboxEmail.select(OutboxEmail.recipient).run())] == [
        "waiting@example.com"
    ]


def test_resend_with_a_bad_address_is_refused_inline(client):
    response = post_form(client, "/verify-email/resend", {"email": "nope"}, token_from="/verify-email/resend")
    assert response.status_code == 422
    assert "email" in errors_on(response)
    assert field_value(html(response), "email") == "nope"


def test_a_registration_whose_name_is_not_a_name_is_refused_and_kept(client):
    before = count_rows()
    response = register(client, first_name="@Nina", last_name="Newcomer<script>")
    assert response.status_code == 422
    errors = errors_on(response)
    assert errors["first_name"] == "First name must start with a letter, not “@”"
    assert errors["last_name"].startswith("Last name may use only letters")
    assert field_value(html(response), "last_name") == "Newcomer<script>"
    assert count_rows() == before
