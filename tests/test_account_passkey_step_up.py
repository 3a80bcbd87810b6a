"""Passkeys and step-up: adding or removing a passkey needs a recent second step (asked for before the
browser makes a passkey, so a wrong code leaves nothing behind on the device), and a passkey of the
account answers any step-up prompt instead of a code or a password."""

from __future__ import annotations

import json
from typing import Any

import pytest

from src.tables.accounts import Account
from src.tables.passkeys import Passkey
from tests.support.authenticator import Authenticator
from tests.support.client import log_in, post_form, run
from tests.support.factories import STRONG_PASSWORD, make_account, with_fast_password
from tests.support.pages import errors_on, field_value, html
from tests.support.passkeys import PAGE, add_options, add_passkey, authenticator, post_new_passkey
from tests.support.two_step import code_at, key_of, step_now

STALE = 16  # minutes since the log-in: beyond the 15 a step counts for
STEP_UP_OPTIONS = f"{PAGE}/step-up/options"


def next_code(login: str) -> str:
    """The next step's code: this step's was spent on the log-in (only the session clock moves)."""
    return code_at(key_of(login), step_now() + 1)


def passkeys_of(account: Account) -> list[Passkey]:
    return run(Passkey.objects().where(Passkey.account == account.id).order_by(Passkey.id))


def person(client: Any, username: str, *, two_step: bool = True) -> Account:
    account = run(make_account("learner", username, password=None, two_step=two_step))
    run(with_fast_password(account))
    log_in(client, username)
    return account


@pytest.fixture
def tess(client: Any) -> Account:
    """Tess, with the authenticator app, logged in on `client`."""
    return person(client, "tess")


# --- adding and removing need a recent step --------------------------------------------------------


def test_adding_with_a_stale_session_asks_for_the_code_before_the_browser_is_asked(client, tess, clock):
    clock.minutes = STALE
    assert html(client.get(PAGE)).css_first("form#add-passkey input#step_up_code") is not None
    refused = add_options(client, "Phone")
    assert refused.status_code == 422  # no options: the browser makes no passkey
    # The script then posts the form as it stands: the prompt and its message, the name kept.
    page = post_new_passkey(client, "", name="Phone")
    assert page.status_code == 422
    assert errors_on(page) == {
        "step_up_code": "To do this, first confirm it is you: enter the code from your authenticator app"
    }
    assert field_value(html(page), "name") == "Phone"

    device = authenticator()
    options = post_form(
        client, f"{PAGE}/options", {"name": "Phone", "step_up_code": next_code("tess")}, token_from=PAGE
    )
    assert options.status_code == 200
    answer = device.create(options.json())
    assert (
        post_form(
            client, PAGE, {"name": "Phone", "step_up_code": "", "credential": json.dumps(answer)}
        ).status_code
        == 303
    )
    assert [p.name for p in passkeys_of(tess)] == ["Phone"]


def test_a_wrong_step_up_code_counts_once_and_adds_nothing(client, tess, clock):
    clock.minutes = STALE
    refused = post_form(
        client, f"{PAGE}/options", {"name": "Phone", "step_up_code": "000000"}, token_from=PAGE
    )
    assert refused.status_code == 422
    page = post_new_passkey(client, "", name="Phone")  # what the script posts next, without the code
    assert "not right" in errors_on(page)["step_up_code"]
    assert run(Account.by_id(tess.id)).failed_logins == 1  # checked when the options were asked, only
    assert passkeys_of(tess) == []


def test_without_two_step_the_password_is_the_step_for_a_new_passkey(client, clock):
    liam = person(client, "liam", two_step=False)
    clock.minutes = STALE
    assert html(client.get(PAGE)).css_first("form#add-passkey input[name=step_up_password]") is not None
    assert post_form(client, f"{PAGE}/options", {"name": "Phone"}, token_from=PAGE).status_code == 422
    options = post_form(
        client, f"{PAGE}/options", {"name": "Phone", "step_up_password": STRONG_PASSWORD}, token_from=PAGE
    )
    assert options.status_code == 200
    answer = authenticator().create(options.json())
    assert post_new_passkey(client, answer).status_code == 303
    assert len(passkeys_of(liam)) == 1


def test_removing_with_a_stale_session_asks_in_that_row_and_then_goes_through(client, tess, clock):
    add_passkey(client, authenticator(), "Phone")
    add_passkey(client, authenticator(), "Laptop")
    phone, laptop = passkeys_of(tess)
    clock.minutes = STALE
    refused = post_form(client, f"{PAGE}/{phone.id}/delete", {}, token_from=PAGE)
    assert refused.status_code == 422
    page = html(refused)
    rows = page.css("#passkey-list li")
    assert rows[0].css_first("fieldset#step-up-remove input#step_up_code-remove") is not None
    assert rows[1].css_first("fieldset") is None
    assert len(passkeys_of(tess)) == 2

    done = post_form(
        client, f"{PAGE}/{phone.id}/delete", {"step_up_code": next_code("tess")}, token_from=PAGE
    )
    assert done.status_code == 303
    assert [p.id for p in passkeys_of(tess)] == [laptop.id]


def test_removing_with_htmx_and_a_stale_session_answers_the_list_with_the_prompt(client, tess, clock):
    add_passkey(client, authenticator(), "Phone")
    [phone] = passkeys_of(tess)
    clock.minutes = STALE
    refused = post_form(client, f"{PAGE}/{phone.id}/delete", {}, htmx=True, token_from=PAGE)
    assert refused.status_code == 422
    fragment = html(refused)
    assert fragment.css_first("h1") is None
    assert fragment.css_first("section#passkey-list fieldset#step-up-remove") is not None
    assert len(passkeys_of(tess)) == 1


# --- a passkey answers a step-up prompt ------------------------------------------------------------


@pytest.fixture
def tess_with_passkey(client: Any, tess: Account) -> Authenticator:
    device = authenticator()
    add_passkey(client, device, "Phone")
    return device


def test_the_prompt_offers_a_passkey_only_to_accounts_with_one(client, tess, clock):
    clock.minutes = STALE
    assert html(client.get("/profile/password")).css_first("[data-passkey-step-up]") is None
    add_passkey_fresh = post_form(
        client, f"{PAGE}/options", {"name": "Phone", "step_up_code": next_code("tess")}, token_from=PAGE
    )
    answer = authenticator().create(add_passkey_fresh.json())
    post_new_passkey(client, answer)
    clock.minutes = 2 * STALE
    prompt = html(client.get("/profile/password")).css_first("fieldset#step-up [data-passkey-step-up]")
    assert prompt is not None and "hidden" in prompt.attributes  # shown by the script
    assert "Use a passkey" in prompt.text()


def test_a_passkey_answers_the_step_up_of_any_form(client, tess, tess_with_passkey, clock):
    clock.minutes = STALE
    assert html(client.get("/profile/password")).css_first("fieldset#step-up") is not None
    options = post_form(client, STEP_UP_OPTIONS, {}, token_from="/profile/password")
    assert options.status_code == 200
    [stored] = passkeys_of(tess)
    assert [c["id"] for c in options.json()["allowCredentials"]] == [stored.credential_id]
    answer = tess_with_passkey.get(options.json())
    confirmed = post_form(client, f"{PAGE}/step-up", {"credential": json.dumps(answer)})
    assert confirmed.status_code == 200 and confirmed.json() == {"ok": True}
    # The step is recent now: the form that asked goes through without a code.
    assert html(client.get("/profile/password")).css_first("fieldset#step-up") is None
    values = {"current_password": STRONG_PASSWORD, "password": "orchard-lantern-violet-copper"}
    assert post_form(client, "/profile/password", values).status_code == 303


def test_a_step_up_answer_works_once(client, tess, tess_with_passkey, clock):
    clock.minutes = STALE
    answer = tess_with_passkey.get(
        post_form(client, STEP_UP_OPTIONS, {}, token_from="/profile/password").json()
    )
    assert post_form(client, f"{PAGE}/step-up", {"credential": json.dumps(answer)}).status_code == 200
    clock.minutes = 2 * STALE
    replay = post_form(client, f"{PAGE}/step-up", {"credential": json.dumps(answer)})
    assert replay.status_code == 422 and "already used" in replay.json()["message"]
    assert html(client.get("/profile/password")).css_first("fieldset#step-up") is not None


def test_someone_elses_passkey_answers_no_step_up(client, other_client, tess, tess_with_passkey, clock):
    person(other_client, "uma", two_step=False)
    uma_device = authenticator()
    add_passkey(other_client, uma_device, "Uma's phone")
    clock.minutes = STALE
    options = post_form(client, STEP_UP_OPTIONS, {}, token_from="/profile/password").json()
    answer = uma_device.get({**options, "allowCredentials": []})
    refused = post_form(client, f"{PAGE}/step-up", {"credential": json.dumps(answer)})
    assert refused.status_code == 422 and "not registered with your account" in refused.json()["message"]
    assert html(client.get("/profile/password")).css_first("fieldset#step-up") is not None


def test_an_account_without_passkeys_gets_no_step_up_options(client, tess):
    refused = post_form(client, STEP_UP_OPTIONS, {}, token_from="/profile/password")
    assert refused.status_code == 422
