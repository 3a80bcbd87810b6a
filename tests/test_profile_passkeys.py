"""Profile → Passkeys: adding one (the registration ceremony checked end to end with a software
authenticator), the list with names and when each was added and last used, removing one (someone
else's is a 404), the email that tells the person, and the page without JavaScript."""

from __future__ import annotations

import json
from typing import Any

import pytest

from src import accounts
from src.errors import Refused
from src.tables.passkeys import Passkey
from tests.support.authenticator import b64url
from tests.support.client import log_in, post_form, run
from tests.support.factories import make_account, with_fast_password
from tests.support.pages import errors_on, html, notices
from tests.support.passkeys import PAGE, add_options, add_passkey, authenticator, post_new_passkey, sign_in
from tests.support.smtp import assert_no_more_mail, text_of
from tests.test_page_budget import check_page

SCRIPT = "/static/js/passkeys.js"


def passkeys_of(account: Any) -> list[Passkey]:
    return run(Passkey.objects().where(Passkey.account == account.id).order_by(Passkey.id))


def listed(response: Any) -> list[str]:
    return [" ".join(node.text().split()) for node in html(response).css("#passkey-list li")]


def scripts(response: Any) -> list[str]:
    return [(node.attributes.get("src") or "").split("?")[0] for node in html(response).css("script")]


def test_adding_a_passkey_lists_it_and_emails_the_person(client, lena, mailbox):
    assert listed(client.get(PAGE)) == []
    device = authenticator()
    response = add_passkey(client, device, "Work laptop")
    assert response.status_code == 303 and response.headers["location"] == PAGE

    page = client.get(PAGE)
    assert notices(page) == ["Passkey \u201cWork laptop\u201d added. You can now sign in with it."]
    [row] = listed(page)
    assert row.startswith("Work laptop Added ") and "Not used yet." in row

    [stored] = passkeys_of(lena)
    assert stored.name == "Work laptop" and stored.sign_count == 0
    assert stored.credential_id == b64url(device.credentials[0].credential_id)
    message = mailbox.wait_for(to=lena.email, subject="A passkey was added to your account")
    assert 'A passkey named "Work laptop" was just added to your account' in text_of(message)
    assert "If this was not you" in text_of(message)
    assert_no_more_mail(mailbox, lena.email)


def test_the_list_says_when_a_passkey_was_last_used(client, other_client, lena):
    device = authenticator()
    add_passkey(client, device, "Phone")
    assert sign_in(other_client, device).status_code == 303
    [row] = listed(client.get(PAGE))
    assert "Last used " in row and "Not used yet" not in row


def test_the_options_name_this_site_and_the_person_and_exclude_their_passkeys(client, lena):
    add_passkey(client, authenticator(), "Phone")
    options = add_options(client, "Laptop").json()
    assert options["rp"] == {"name": "Achievement Portal", "id": "testserver.local"}
    assert options["user"]["name"] == "lena" and options["user"]["displayName"] == "Lena Lovelace"
    assert options["authenticatorSelection"]["residentKey"] == "required"
    assert options["authenticatorSelection"]["userVerification"] == "preferred"
    [stored] = passkeys_of(lena)
    assert [c["id"] for c in options["excludeCredentials"]] == [stored.credential_id]
    # Every passkey of the account carries the same user handle (never the account id).
    assert options["user"]["id"] == stored.user_handle


def test_a_passkey_made_for_another_origin_is_refused(client, lena, mailbox):
    device = authenticator()
    options = add_options(client).json()
    answer = device.create(options, origin="https://portal.example.org")
    response = post_new_passkey(client, answer)
    assert response.status_code == 422
    assert "could not check that passkey" in errors_on(response)["passkey"]
    assert html(response).css_first("input#name").attributes["value"] == "Phone"  # nothing typed is lost
    assert passkeys_of(lena) == []
    assert_no_more_mail(mailbox, lena.email)


def test_a_passkey_made_for_another_relying_party_is_refused(client, lena):
    options = add_options(client).json()
    response = post_new_passkey(client, authenticator().create(options, rp_id="example.org"))
    assert response.status_code == 422
    assert "could not check that passkey" in errors_on(response)["passkey"]
    assert passkeys_of(lena) == []


def test_a_registration_answer_posted_twice_adds_one_passkey(client, lena):
    answer = authenticator().create(add_options(client).json())
    assert post_new_passkey(client, answer).status_code == 303
    again = post_new_passkey(client, answer)
    assert again.status_code == 422
    assert "expired or was already used" in errors_on(again)["passkey"]
    assert len(passkeys_of(lena)) == 1


def test_an_answer_after_the_challenge_lapsed_is_refused(client, lena, clock):
    answer = authenticator().create(add_options(client).json())
    clock.minutes = 3  # past CHALLENGE_SECONDS
    response = post_new_passkey(client, answer)
    assert response.status_code == 422
    assert "expired" in errors_on(response)["passkey"]
    assert passkeys_of(lena) == []


def test_a_name_is_needed_before_the_browser_is_asked(client, lena):
    refused = add_options(client, name="")
    assert refused.status_code == 422
    # The script then posts the form as it stands: the page says what is wrong beside the field.
    response = post_new_passkey(client, "", name="")
    assert response.status_code == 422
    assert errors_on(response) == {"name": "Enter a name for this passkey, like \u201cWork laptop\u201d"}
    too_long = post_new_passkey(client, "", name="x" * 61)
    assert errors_on(too_long)["name"] == "Enter no more than 60 characters"


def test_a_form_posted_without_the_script_says_a_passkey_needs_javascript(client, lena):
    response = post_new_passkey(client, "", name="Phone")
    assert response.status_code == 422
    assert "needs JavaScript" in errors_on(response)["passkey"]


def test_there_is_a_limit_to_passkeys(client, lena, monkeypatch):
    monkeypatch.setattr("src.accounts.passkey_registration.MAX_PASSKEYS", 2)
    device = authenticator()
    add_passkey(client, device, "One")
    add_passkey(client, device, "Two")
    refused = add_options(client, "Three")
    assert refused.status_code == 422 and "up to 2 passkeys" in refused.json()["message"]
    response = post_new_passkey(client, "", name="Three")
    assert response.status_code == 422
    assert len(passkeys_of(lena)) == 2


def test_the_same_credential_cannot_be_registered_twice(client, lena):
    device = authenticator()
    options = add_options(client).json()
    answer = json.dumps(device.create(options))
    ceremony = {"challenge": options["challenge"], "handle": options["user"]["id"]}
    rp = accounts.relying_party("http://testserver.local", "Achievement Portal")
    run(accounts.add_passkey(rp, lena, ceremony, answer, "Phone"))
    with pytest.raises(Refused, match="already registered"):
        run(accounts.add_passkey(rp, lena, ceremony, answer, "Phone again"))
    assert len(passkeys_of(lena)) == 1


# --- removing ---------------------------------------------------------------------------------------


def test_removing_a_passkey(client, lena):
    add_passkey(client, authenticator(), "Phone")
    add_passkey(client, authenticator(), "Laptop")
    phone, laptop = passkeys_of(lena)
    response = post_form(client, f"{PAGE}/{phone.id}/delete", {}, token_from=PAGE)
    assert response.status_code == 303
    page = client.get(PAGE)
    assert "Passkey \u201cPhone\u201d removed. It can no longer sign in to your account." in notices(page)
    assert [p.id for p in passkeys_of(lena)] == [laptop.id]


def test_removing_a_passkey_with_htmx_answers_the_list_alone(client, lena):
    add_passkey(client, authenticator(), "Phone")
    [phone] = passkeys_of(lena)
    response = post_form(client, f"{PAGE}/{phone.id}/delete", {}, htmx=True, token_from=PAGE)
    assert response.status_code == 200
    fragment = html(response)
    assert fragment.css_first("h1") is None and fragment.css_first("section#passkey-list") is not None
    assert "removed" in fragment.css_first("[role=status]").text()
    assert "autofocus" in fragment.css_first("[role=status]").attributes
    assert passkeys_of(lena) == []


def test_someone_elses_passkey_cannot_be_removed(client, other_client, lena):
    add_passkey(client, authenticator(), "Lena's phone")
    [lenas] = passkeys_of(lena)
    tess = run(make_account("third_party", "tess", password=None))
    run(with_fast_password(tess))
    log_in(other_client, "tess")
    response = post_form(other_client, f"{PAGE}/{lenas.id}/delete", {}, token_from=PAGE)
    assert response.status_code == 404
    assert post_form(other_client, f"{PAGE}/999999/delete", {}, token_from=PAGE).status_code == 404
    assert len(passkeys_of(lena)) == 1


def test_deleting_the_account_removes_its_passkeys(client, lena):
    add_passkey(client, authenticator(), "Phone")
    run(accounts.delete_account(lena))
    assert passkeys_of(lena) == []


def test_passkeys_need_a_log_in(client):
    response = client.get(PAGE, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/login?next=")


# --- the pages: without JavaScript, the script only where needed, the budget ------------------------


def test_without_javascript_the_pages_say_why_there_is_no_passkey_button(client, lena):
    page = html(client.get(PAGE))
    assert "hidden" in page.css_first("form#add-passkey").attributes
    assert "needs JavaScript" in page.css_first("[data-passkey-fallback]").text()
    post_form(client, "/logout", {}, token_from="/dashboard")
    login = html(client.get("/login"))
    assert "hidden" in login.css_first("form#passkey-sign-in").attributes
    fallback = login.css_first("[data-passkey-fallback]").text()
    assert "needs JavaScript" in fallback and "password" in fallback


def test_the_script_is_loaded_only_where_a_passkey_is_used(client, lena):
    assert SCRIPT in scripts(client.get(PAGE))
    for path in ("/profile", "/dashboard", "/profile/password"):
        assert SCRIPT not in scripts(client.get(path)), path
    post_form(client, "/logout", {}, token_from="/dashboard")
    assert SCRIPT in scripts(client.get("/login"))
    for path in ("/", "/register", "/forgot-password"):
        assert SCRIPT not in scripts(client.get(path)), path
    script = client.get(SCRIPT)
    assert script.status_code == 200 and "navigator.credentials" in script.text


def test_the_passkey_pages_fit_the_page_budget(client, lena):
    for name in ("Phone", "Work laptop", "Tablet"):
        add_passkey(client, authenticator(), name)
    check_page(client, PAGE)
    post_form(client, "/logout", {}, token_from="/dashboard")
    check_page(client, "/login")
