"""A passkey as the second step of a log-in (after a right password), and where passkeys meet two-step
sign-in: only the pending account's passkeys will do; a passkey sign-in from /login asks for no
code afterwards; staff whose second step is a passkey reach the staff pages; a reset by staff
removes passkeys with the authenticator."""

from __future__ import annotations

import json
from typing import Any

import pytest

from src import accounts
from src.errors import Refused
from src.tables.accounts import Account
from src.tables.passkeys import Passkey
from tests.support.authenticator import Authenticator, b64url
from tests.support.client import log_in, post_form, run
from tests.support.environment import BASE_URL
from tests.support.factories import STRONG_PASSWORD, make_account, with_fast_password
from tests.support.pages import html, is_logged_in
from tests.support.passkeys import add_passkey, authenticator, sign_in
from tests.test_page_budget import check_page

SECOND_STEP = "/login/second-step"
RP = accounts.relying_party(BASE_URL, "Achievement Portal")


def passkey_error(response: Any) -> str:
    node = html(response).css_first("#passkey-error")
    assert node is not None, response.text
    return node.text(strip=True).removeprefix("Error:").strip()


def person(username: str, role: str = "learner", *, two_step: bool = True) -> Account:
    account = run(make_account(role, username, password=None, two_step=two_step))
    run(with_fast_password(account))
    return account


def give_passkey(account: Account, device: Authenticator, name: str = "Phone") -> None:
    """A passkey made through the real ceremony's checks, without a page (as for staff who cannot
    reach Profile before their second step)."""
    options = {
        "rp": {"id": RP.id},
        "user": {"id": b64url(b"handle-" + str(account.id).encode())},
        "challenge": b64url(f"challenge-{account.id}-{name}".encode()),
    }
    answer = device.create(options)
    ceremony = {"challenge": options["challenge"], "handle": options["user"]["id"]}
    run(accounts.add_passkey(RP, account, ceremony, json.dumps(answer), name))


def password_first(client: Any, login: str) -> Any:
    response = post_form(client, "/login", {"login": login, "password": STRONG_PASSWORD})
    assert response.status_code == 303 and response.headers["location"].startswith(SECOND_STEP)
    return client.get(SECOND_STEP)


def second_step_options(client: Any) -> Any:
    return post_form(client, "/login/passkey/second-step/options", {}, token_from=SECOND_STEP)


def post_second_step(client: Any, answer: Any) -> Any:
    credential = answer if isinstance(answer, str) else json.dumps(answer)
    return post_form(client, "/login/passkey/second-step", {"credential": credential}, token_from=SECOND_STEP)


@pytest.fixture
def lena_two_ways(client: Any) -> tuple[Account, Authenticator]:
    """Lena with the authenticator app and a passkey, logged out."""
    lena = person("lena")
    device = authenticator()
    log_in(client, "lena")
    assert add_passkey(client, device).status_code == 303
    post_form(client, "/logout", {}, token_from="/dashboard")
    return lena, device


def test_the_second_step_page_offers_the_code_and_a_passkey(lena_two_ways, other_client):
    page = html(password_first(other_client, "lena"))
    assert page.css_first("form#second-step-form input[name=code]") is not None
    passkey_form = page.css_first("form#passkey-second-step")
    assert passkey_form is not None and "hidden" in passkey_form.attributes  # shown by the script
    fallback = page.css_first("[data-passkey-fallback]").text()
    assert "needs JavaScript" in fallback and "code from your authenticator app" in fallback
    assert any("passkeys.js" in (s.attributes.get("src") or "") for s in page.css("script"))


def test_a_passkey_of_the_account_completes_the_second_step(lena_two_ways, other_client):
    lena, device = lena_two_ways
    password_first(other_client, "lena")
    options = second_step_options(other_client)
    assert options.status_code == 200
    [stored] = run(Passkey.objects().where(Passkey.account == lena.id))
    assert [c["id"] for c in options.json()["allowCredentials"]] == [stored.credential_id]
    before = other_client.cookies.get("portal_session")
    response = post_second_step(other_client, device.get(options.json()))
    assert response.status_code == 303 and response.headers["location"] == "/dashboard"
    assert other_client.cookies.get("portal_session") != before
    assert is_logged_in(other_client)


def test_a_passkey_without_user_verification_is_enough_after_the_password(lena_two_ways, other_client):
    _, device = lena_two_ways
    device.user_verifying = False
    password_first(other_client, "lena")
    response = post_second_step(other_client, device.get(second_step_options(other_client).json()))
    assert response.status_code == 303
    assert is_logged_in(other_client)


def test_someone_elses_passkey_is_no_second_step(lena_two_ways, client, other_client):
    person("tess", "third_party")
    tess_device = authenticator()
    log_in(client, "tess")
    assert add_passkey(client, tess_device).status_code == 303

    password_first(other_client, "lena")
    options = second_step_options(other_client).json()
    # Tess's browser answers with her own passkey, though it was not offered.
    answer = tess_device.get({**options, "allowCredentials": []})
    response = post_second_step(other_client, answer)
    assert response.status_code == 422
    assert "not registered with your account" in passkey_error(response)
    assert not is_logged_in(other_client)


def test_a_replayed_second_step_is_refused(lena_two_ways, other_client):
    _, device = lena_two_ways
    password_first(other_client, "lena")
    answer = device.get(second_step_options(other_client).json())
    assert post_second_step(other_client, answer).status_code == 303
    post_form(other_client, "/logout", {}, token_from="/dashboard")
    password_first(other_client, "lena")
    replay = post_second_step(other_client, answer)
    assert replay.status_code == 422
    assert "expired or was already used" in passkey_error(replay)
    assert not is_logged_in(other_client)


def test_a_challenge_from_the_log_in_page_is_no_second_step(lena_two_ways, other_client):
    _, device = lena_two_ways
    sign_in_options = post_form(other_client, "/login/passkey/options", {}).json()
    password_first(other_client, "lena")  # a new session: the challenge stayed in the old one
    response = post_second_step(other_client, device.get(sign_in_options))
    assert response.status_code == 422
    assert not is_logged_in(other_client)


def test_without_a_right_password_there_is_no_second_step(lena_two_ways, other_client):
    assert second_step_options(other_client).status_code == 422
    response = post_second_step(other_client, "{}")
    assert response.status_code == 303 and response.headers["location"] == "/login"
    assert not is_logged_in(other_client)


def test_a_passkey_sign_in_asks_for_no_code_afterwards(lena_two_ways, other_client):
    _, device = lena_two_ways
    response = sign_in(other_client, device)
    assert response.status_code == 303 and response.headers["location"] == "/dashboard"
    assert is_logged_in(other_client)


def test_a_learner_with_a_passkey_but_no_authenticator_logs_in_with_the_password_alone(client, other_client):
    person("liam", two_step=False)
    log_in(client, "liam")
    assert add_passkey(client, authenticator()).status_code == 303
    response = post_form(other_client, "/login", {"login": "liam", "password": STRONG_PASSWORD})
    assert response.status_code == 303 and response.headers["location"] == "/dashboard"


# --- staff -----------------------------------------------------------------------------------------


def test_staff_whose_second_step_is_a_passkey_reach_the_staff_pages(client):
    sam = person("sam", "staff", two_step=False)
    device = authenticator()
    give_passkey(sam, device)
    page = html(password_first(client, "sam"))
    assert page.css_first("form#second-step-form") is None  # no app: the passkey is the way
    assert "needs JavaScript" in page.css_first("[data-passkey-fallback]").text()
    response = post_second_step(client, device.get(second_step_options(client).json()))
    assert response.status_code == 303
    assert client.get("/staff/learners", follow_redirects=False).status_code == 200


def test_staff_without_a_passkey_or_an_authenticator_must_enrol(client):
    person("sam", "staff", two_step=False)
    page = html(password_first(client, "sam"))
    assert page.css_first("h1").text(strip=True) == "Set up two-step sign-in"
    assert page.css_first("form#enrol-form") is not None
    assert page.css_first("form#passkey-second-step") is None


def test_staff_cannot_remove_the_passkey_that_is_their_second_step(client):
    sam = person("sam", "staff", two_step=False)
    device = authenticator()
    give_passkey(sam, device)
    password_first(client, "sam")
    assert post_second_step(client, device.get(second_step_options(client).json())).status_code == 303
    [only] = run(Passkey.objects().where(Passkey.account == sam.id))
    fresh = run(Account.by_id(sam.id))
    with pytest.raises(Refused, match="must keep two-step sign-in"):
        run(accounts.remove_passkey(fresh, only.id))
    assert run(Passkey.count().where(Passkey.account == sam.id)) == 1


def test_a_reset_by_staff_removes_the_persons_passkeys(lena_two_ways, other_client):
    lena, device = lena_two_ways
    sam = person("sam", "staff")
    run(accounts.reset_by_staff(sam, run(Account.by_id(lena.id)), "Lost her phone"))
    assert run(Passkey.count().where(Passkey.account == lena.id)) == 0
    assert run(Account.by_id(lena.id)).passkey_count == 0
    response = sign_in(other_client, device)
    assert response.status_code == 422
    assert not is_logged_in(other_client)


def test_staff_may_enrol_a_passkey_instead_of_the_app_at_their_first_log_in(client, mailbox):
    sam = person("sam", "staff", two_step=False)
    page = html(password_first(client, "sam"))
    form = page.css_first("form#passkey-enrol")
    assert form is not None and "hidden" in form.attributes
    assert "needs JavaScript" in page.css_first("[data-passkey-fallback]").text()

    assert (
        post_form(client, "/login/passkey/enrol/options", {"name": ""}, token_from=SECOND_STEP).status_code
        == 422
    )
    unnamed = post_form(
        client, "/login/passkey/enrol", {"name": "", "credential": ""}, token_from=SECOND_STEP
    )
    assert unnamed.status_code == 422
    assert html(unnamed).css_first("#name-error") is not None
    assert not is_logged_in(client)

    device = authenticator()
    options = post_form(client, "/login/passkey/enrol/options", {"name": "Desk key"}, token_from=SECOND_STEP)
    assert options.status_code == 200
    answer = json.dumps(device.create(options.json()))
    done = post_form(client, "/login/passkey/enrol", {"name": "Desk key", "credential": answer})
    assert done.status_code == 303 and done.headers["location"] == "/dashboard"
    assert client.get("/staff/learners", follow_redirects=False).status_code == 200
    assert run(Account.by_id(sam.id)).passkey_count == 1
    mailbox.wait_for(to=sam.email, subject="A passkey was added to your account")

    # From now on the passkey is the second step.
    post_form(client, "/logout", {}, token_from="/dashboard")
    password_first(client, "sam")
    assert post_second_step(client, device.get(second_step_options(client).json())).status_code == 303


def test_only_staff_without_a_second_step_enrol_a_passkey_at_log_in(lena_two_ways, other_client):
    password_first(other_client, "lena")
    assert (
        post_form(
            other_client, "/login/passkey/enrol/options", {"name": "Phone"}, token_from=SECOND_STEP
        ).status_code
        == 422
    )
    response = post_form(
        other_client, "/login/passkey/enrol", {"name": "Phone", "credential": "{}"}, token_from=SECOND_STEP
    )
    assert response.status_code == 303 and response.headers["location"] == SECOND_STEP
    assert not is_logged_in(other_client)


def test_the_second_step_and_enrolment_pages_with_passkeys_fit_the_page_budget(
    lena_two_ways, client, other_client
):
    password_first(other_client, "lena")
    check_page(other_client, SECOND_STEP)  # the code form and the passkey section
    person("sam", "staff", two_step=False)
    post_form(client, "/logout", {}, token_from="/dashboard")
    password_first(client, "sam")
    check_page(client, SECOND_STEP)  # enrolment: the app's QR code and the passkey form
