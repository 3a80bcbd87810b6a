"""Manage: delete account: self-service, confirmed with the password; personal details erased,
logged out everywhere, and the email address free to register again."""

from __future__ import annotations

from datetime import date

from src.tables.accounts import Account, Address, ContactDetail
from tests.support.client import log_in, post_form, run
from tests.support.factories import STRONG_PASSWORD, make_account
from tests.support.pages import html
from tests.support.smtp import link_in

NEW_PASSWORD = "amber-quiet-willow-drum"


def account_by_id(account_id: int) -> dict:
    return run(Account.select().where(Account.id == account_id).first().run())


def set_up_account(client):
    account = run(
        make_account(
            username="tess",
            phone="07700 900789",
            company_name="Acme",
            job_title="Buyer",
            middle_name="Ann",
            date_of_birth=date(1990, 3, 27),
        )
    )
    run(ContactDetail.insert(ContactDetail(account=account.id, kind="phone", value="0113 496 0003")).run())
    run(
        Address.insert(Address(account=account.id, line1="1 High St", town="Leeds", postcode="LS1 1AA")).run()
    )
    log_in(client, "tess")
    return account


def delete(client, password: str | None, htmx: bool = False):
    data = {} if password is None else {"password": password}
    return post_form(client, "/profile/delete", data, htmx=htmx, token_from="/profile/delete")


def test_delete_page_says_what_is_removed_and_what_is_kept(client):
    set_up_account(client)
    response = client.get("/profile/delete")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    page = html(response)
    assert page.css_first("main h1").text(strip=True) == "Delete your account"
    headings = [node.text(strip=True) for node in page.css("main h2")]
    assert "What is removed at once" in headings
    assert "What is kept, and why" in headings
    form = page.css_first("form#delete-form")
    assert form.attributes["action"] == "/profile/delete"
    assert form.css_first('input[name="password"][type="password"]') is not None


def test_delete_page_needs_a_login(client):
    response = client.get("/profile/delete", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/profile/delete"


def test_missing_or_wrong_password_deletes_nothing(client):
    account = set_up_account(client)
    response = delete(client, None)
    assert response.status_code == 422
    assert "Enter your password" in html(response).css_first("#password-error").text()
    response = delete(client, "not-my-password-at-all")
    assert response.status_code == 422
    page = html(response)
    assert page.css_first(".error-summary a").attributes["href"] == "#password"
    assert "not right" in page.css_first("#password-error").text()
    # The password is never echoed back.
    assert page.css_first('input[name="password"]').attributes.get("value") is None
    response = delete(client, "still-not-my-password", htmx=True)
    assert response.status_code == 422
    assert html(response).css_first("main") is None
    assert html(response).css_first("form#delete-form #password-error") is not None

    row = account_by_id(account.id)
    assert row["deleted_at"] is None
    assert row["email"] == "tess@example.com"
    assert run(ContactDetail.count().run()) == 1
    assert run(Address.count().run()) == 1
    assert client.get("/profile", follow_redirects=False).status_code == 200


def test_right_password_anonymises_the_account_and_logs_out_everywhere(client, other_client, mailbox):
    account = set_up_account(client)
    log_in(other_client, "tess")  # the same person on another device
    assert other_client.get("/profile", follow_redirects=False).status_code == 200

    response = delete(client, STRONG_PASSWORD)
    assert response.status_code == 303
    assert response.headers["location"] == "/"

    row = account_by_id(account.id)
    assert row["deleted_at"] is not None
    assert row["password_hash"] is None
    assert "tess" not in row["username"].lower()
    assert "tess" not in row["email"].lower()
    for name in ("middle_name", "phone", "company_name", "job_title"):
        assert row[name] == "", name
    assert row["first_name"] != "Tess"
    assert row["date_of_birth"] is None
    assert run(ContactDetail.count().where(ContactDetail.account == account.id).run()) == 0
    assert run(Address.count().where(Address.account == account.id).run()) == 0

    # This browser is logged out, and says so.
    page = html(client.get("/"))
    assert page.css_first(".notice-success").text(strip=True) == "Your account has been deleted."
    assert client.get("/profile", follow_redirects=False).headers["location"] == "/login?next=/profile"
    # The other device's session has ended too.
    assert other_client.get("/profile", follow_redirects=False).status_code == 303

    # A notice goes to the old address.
    message = mailbox.wait_for(to="tess@example.com", subject="Your account has been deleted")
    assert "deleted" in message.get_body(preferencelist=("plain",)).get_content()

    # Neither the user name nor the email logs in any more.
    for login in ("tess", "tess@example.com"):
        response = post_form(client, "/login", {"login": login, "password": STRONG_PASSWORD})
        assert response.status_code == 422
        assert "not right" in html(response).css_first("#login-error").text()


def test_with_htmx_the_browser_is_sent_to_the_start_page(client):
    account = set_up_account(client)
    response = delete(client, STRONG_PASSWORD, htmx=True)
    assert response.status_code == 200
    assert response.headers["hx-redirect"] == "/"
    assert account_by_id(account.id)["deleted_at"] is not None


def test_the_email_address_and_user_name_can_register_again(client, mailbox):
    account = set_up_account(client)
    delete(client, STRONG_PASSWORD)
    mailbox.wait_for(to="tess@example.com", subject="deleted")
    response = post_form(
        client,
        "/register",
        {
            "first_name": "Tess",
            "last_name": "Again",
            "username": "tess",
            "email": "tess@example.com",
            "password": NEW_PASSWORD,
        },
        token_from="/register",
    )
    assert response.status_code == 303
    message = mailbox.wait_for(to="tess@example.com", subject="Verify your email address")
    assert client.get(link_in(message, "/verify-email/")).status_code == 200
    log_in(client, "tess", NEW_PASSWORD)
    page = html(client.get("/profile"))
    assert page.css_first('input[name="last_name"]').attributes["value"] == "Again"
    fresh = run(Account.select(Account.id).where(Account.email == "tess@example.com").first().run())
    assert fresh["id"] != account.id
