"""Two-step sign-in (issue 21): turning the authenticator on, signing in with its code or a recovery
code, each refusal (wrong, old, reused, lapsed), codes that work once under parallel requests, wrong
codes counted with the log-in lock-out, and a password reset that never bypasses the second step."""

from __future__ import annotations

from typing import Any

import pytest

import src.accounts.two_step
import src.routes.second_step
from src.db import statements_run
from src.tables.accounts import Account, Authenticator, RecoveryCode
from tests.support.client import fresh_client, log_in, post_form, run
from tests.support.factories import STRONG_PASSWORD, make_account, with_fast_password
from tests.support.pages import errors_on, heading, html, is_logged_in, notices
from tests.support.smtp import assert_no_more_mail, link_in, text_of
from tests.support.two_step import code_at, enrol, key_of, step_now
from tests.test_account_limits import fire_together

SECOND_STEP = "/login/second-step"


def password_step(client: Any, login: str = "tess") -> Any:
    response = post_form(client, "/login", {"login": login, "password": STRONG_PASSWORD})
    assert response.status_code == 303 and response.headers["location"] == SECOND_STEP
    return response


def send_code(client: Any, code: str, field: str = "code") -> Any:
    return post_form(client, SECOND_STEP, {field: code}, token_from=SECOND_STEP)


def stored(tess: Account) -> Account:
    account = run(Account.by_id(tess.id))
    assert account is not None
    return account


@pytest.fixture
def enrolled(tess: Account) -> list[str]:
    """Tess with her authenticator on; her ten recovery codes."""
    return run(enrol(tess))  # type: ignore[no-any-return]


# --- turning it on -------------------------------------------------------------------------------


def test_a_third_party_turns_the_authenticator_on_with_a_current_code(client, tess, mailbox):
    log_in(client, "tess")
    setup = client.get("/profile/two-step/setup")
    assert setup.status_code == 200 and heading(setup) == "Set up two-step sign-in"
    page = html(setup)
    shown = page.css_first(".secret-key code").text()
    groups = shown.split()
    assert all(len(g) == 4 for g in groups[:-1]) and len("".join(groups)) == 32
    key = "".join(groups)
    # The QR code holds the otpauth address with the issuer and the user name, and the same key.
    from tests.support.qr_reader import decode

    address = decode(page.css_first("svg.qr")).text
    assert address.startswith("otpauth://totp/") and f"secret={key}" in address and "tess" in address.lower()
    # The key is stored sealed, never in clear.
    row = run(Authenticator.objects().where(Authenticator.account == tess.id).first())
    assert key not in row.sealed_key and row.confirmed_at is None

    wrong = post_form(
        client, "/profile/two-step/setup", {"code": "000000"}, token_from="/profile/two-step/setup"
    )
    assert wrong.status_code == 422 and "code" in errors_on(wrong)
    assert stored(tess).two_step_since is None

    right = post_form(
        client,
        "/profile/two-step/setup",
        {"code": code_at(key, step_now())[:3] + " " + code_at(key, step_now())[3:]},
    )
    assert right.status_code == 200 and heading(right) == "Your recovery codes"
    codes = [node.text() for node in html(right).css(".recovery-codes code")]
    assert len(codes) == 10 and len(set(codes)) == 10
    assert stored(tess).two_step_since is not None
    notice = mailbox.wait_for(to="tess@example.com", subject="Two-step sign-in is on")
    assert "If this was not you" in text_of(notice)
    # The page does not show them again.
    again = client.get("/profile/two-step")
    assert "10 unused recovery codes" in html(again).css_first("main").text()
    assert all(code not in again.text for code in codes)


def test_recovery_codes_download_as_text(client, tess, enrolled):
    log_in(client, "tess")
    response = post_form(
        client,
        "/profile/two-step/recovery-codes.txt",
        {"codes": enrolled[0]},
        token_from="/profile/two-step",
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert "attachment" in response.headers["content-disposition"]
    assert enrolled[0] in response.text


# --- signing in ----------------------------------------------------------------------------------


def test_after_the_password_only_the_second_step_works_then_the_code_signs_in(client, tess, enrolled):
    password_step(client)
    assert not is_logged_in(client)
    assert client.get("/profile", follow_redirects=False).status_code == 303
    page = client.get(SECOND_STEP)
    field = html(page).css_first("input#code")
    assert field.attributes["autocomplete"] == "one-time-code" and field.attributes["inputmode"] == "numeric"
    assert html(page).css_first('label[for="code"]') is not None
    before = client.cookies.get("portal_session")

    done = send_code(client, code_at(key_of("tess"), step_now()))

    assert done.status_code == 303 and done.headers["location"] == "/dashboard"
    assert client.cookies.get("portal_session") != before  # a new session id
    assert is_logged_in(client)


def test_showing_the_second_step_runs_no_statement(client, tess, enrolled):
    """What the page offers was recorded with the right password: showing it reads no account
    (its answer does, below), so the page costs a session read and its template."""
    password_step(client)
    with statements_run() as seen:
        page = client.get(SECOND_STEP)
    assert page.status_code == 200 and html(page).css_first("input#code") is not None
    assert [sql for sql in seen if "outbox_email" not in sql] == []


def test_a_password_changed_after_the_password_step_sends_the_code_back_to_log_in(client, tess, enrolled):
    password_step(client)
    assert client.get(SECOND_STEP).status_code == 200
    run(Account.update({Account.session_epoch: Account.session_epoch + 1}).where(Account.id == tess.id))

    late = send_code(client, code_at(key_of("tess"), step_now()))

    assert late.status_code == 303 and late.headers["location"] == "/login"
    assert not is_logged_in(client)


def test_a_pasted_code_with_spaces_and_one_step_of_drift_either_way_are_accepted(client, tess, enrolled):
    key = key_of("tess")
    for step in (step_now() - 1, step_now() + 1):
        with_client = fresh_client(client.app)
        password_step(with_client)
        code = code_at(key, step)
        assert send_code(with_client, f" {code[:3]} {code[3:]} ").status_code == 303


def test_wrong_old_and_reused_codes_are_refused(client, other_client, tess, enrolled):
    key = key_of("tess")
    password_step(client)
    wrong = send_code(client, "123456" if code_at(key, step_now()) != "123456" else "654321")
    assert wrong.status_code == 422 and errors_on(wrong)["code"].startswith("That code is not right")
    old = send_code(client, code_at(key, step_now() - 3))
    assert old.status_code == 422 and errors_on(old)["code"].startswith("That code is not right")
    code = code_at(key, step_now())
    assert send_code(client, code).status_code == 303

    password_step(other_client)
    reused = send_code(other_client, code)
    assert reused.status_code == 422 and errors_on(reused)["code"].startswith("That code has been used")
    assert not is_logged_in(other_client)


def test_the_second_step_lapses_after_five_minutes(client, tess, enrolled, clock):
    password_step(client)
    token = html(client.get(SECOND_STEP)).css_first('input[name="_csrf_token"]').attributes["value"]
    clock.minutes = 6
    late = client.post(
        SECOND_STEP,
        data={"_csrf_token": token, "code": code_at(key_of("tess"), step_now())},
        follow_redirects=False,
    )
    assert late.status_code == 303 and late.headers["location"] == "/login"
    assert "It took more than 5 minutes, so you need to log in again." in notices(client.get("/login"))
    assert not is_logged_in(client)


def test_a_recovery_code_signs_in_once_and_the_email_says_how_many_are_left(
    client, other_client, tess, enrolled, mailbox
):
    password_step(client)
    page = client.get(SECOND_STEP + "?recovery=true")
    assert html(page).css_first("input#recovery_code") is not None
    done = send_code(client, enrolled[0].lower().replace("-", " "), field="recovery_code")
    assert done.status_code == 303
    assert any("9 recovery codes left" in n for n in notices(client.get("/dashboard")))
    notice = mailbox.wait_for(to="tess@example.com", subject="A recovery code was used")
    assert "You have 9 left" in text_of(notice) and "If this was not you" in text_of(notice)

    password_step(other_client)
    again = send_code(other_client, enrolled[0], field="recovery_code")
    assert again.status_code == 422 and "recovery_code" in errors_on(again)
    assert not is_logged_in(other_client)


def test_the_two_step_page_warns_when_two_or_fewer_recovery_codes_are_left(client, tess, enrolled):
    run(
        RecoveryCode.update({RecoveryCode.used_at: RecoveryCode.created_at}).where(
            (RecoveryCode.account == tess.id)
            & RecoveryCode.code_hash.is_in([src.accounts.recovery._hash(c) for c in enrolled[:8]])
        )
    )
    log_in(client, "tess")
    page = client.get("/profile/two-step")
    assert "You have 2 recovery codes left" in " ".join(notices(page))


def test_the_same_code_posted_in_parallel_is_accepted_once(app, tess, enrolled):
    browsers = [fresh_client(app) for _ in range(6)]
    for browser in browsers:
        password_step(browser)
    code = code_at(key_of("tess"), step_now())
    answers = fire_together(*[lambda b=b: send_code(b, code) for b in browsers])
    assert sorted(a.status_code for a in answers) == [303] + [422] * 5


def test_the_same_recovery_code_posted_in_parallel_is_accepted_once(app, tess, enrolled, mailbox):
    browsers = [fresh_client(app) for _ in range(6)]
    for browser in browsers:
        password_step(browser)
    answers = fire_together(*[lambda b=b: send_code(b, enrolled[3], "recovery_code") for b in browsers])
    assert sorted(a.status_code for a in answers) == [303] + [422] * 5
    assert run(src.accounts.recovery_codes_left(tess)) == 9
    mailbox.wait_for(to="tess@example.com", subject="A recovery code was used")
    assert_no_more_mail(mailbox, "tess@example.com")


def test_thirty_wrong_codes_in_parallel_reach_the_lock_out_and_no_further(
    client, tess, enrolled, monkeypatch
):
    checked: list[str] = []
    real = src.accounts.two_step.matching_step

    def counting(key: str, code: str) -> int | None:
        checked.append(code)
        return real(key, code)

    monkeypatch.setattr(src.accounts.two_step, "matching_step", counting)
    password_step(client)
    right = code_at(key_of("tess"), step_now())
    wrong = "000000" if right != "000000" else "111111"
    answers = fire_together(*[lambda: send_code(client, wrong) for _ in range(30)])

    assert all(a.status_code in (422, 429) for a in answers)
    assert len(checked) <= src.accounts.LOCK_AFTER  # the account's limit: no code beyond it was checked
    refused = send_code(client, right)  # even the right code waits now
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) > 0
    assert not is_logged_in(client)


def test_a_password_reset_neither_signs_in_nor_turns_two_step_off(client, tess, enrolled, mailbox):
    post_form(client, "/forgot-password", {"login": "tess"}, token_from="/forgot-password")
    link = link_in(mailbox.wait_for(to="tess@example.com", subject="Reset your password"), "/reset-password/")
    client.get(link)
    new_password = "orchard-lantern-violet-copper"
    done = post_form(client, link, {"password": new_password}, token_from=link)
    assert done.status_code == 303 and done.headers["location"] == "/login"
    assert not is_logged_in(client)
    assert stored(tess).two_step_since is not None

    after = post_form(client, "/login", {"login": "tess", "password": new_password})
    assert after.status_code == 303 and after.headers["location"] == SECOND_STEP
    assert not is_logged_in(client)


def test_a_known_device_judges_wrong_codes_by_its_own_count(app, tess, enrolled):
    """Strangers' wrong passwords lock the account; the owner's browser, known from before, still
    gets through the second step (its codes are counted on the device, as its passwords are)."""
    owner = fresh_client(app)
    log_in(owner, "tess")
    post_form(owner, "/logout", {}, token_from="/dashboard")
    stranger = fresh_client(app)
    for _ in range(6):
        post_form(stranger, "/login", {"login": "tess", "password": "a-wrong-guess-of-a-password"})
    password_step(owner)
    # The next step's code (one step of drift): this step's was used by the first log-in.
    assert send_code(owner, code_at(key_of("tess"), step_now() + 1)).status_code == 303


def test_turning_two_step_off_needs_a_recent_step_and_emails_a_notice(client, tess, enrolled, mailbox, clock):
    log_in(client, "tess")
    clock.minutes = 16  # the log-in is no longer recent
    page = client.get("/profile/two-step")
    assert html(page).css_first("input#step_up_code-off") is not None
    refused = post_form(client, "/profile/two-step/off", {}, token_from="/profile/two-step")
    assert refused.status_code == 422
    # The error summary links to the prompt of the form that was posted, beside its field.
    link = html(refused).css_first(".error-summary a").attributes["href"]
    assert link == "#step_up_code-off" and html(refused).css_first(link) is not None
    assert html(refused).css_first("#step_up_code-off-error") is not None
    assert stored(tess).two_step_since is not None

    # The next step's code: this step's was used to log in (the session clock moved, not the phone's).
    done = post_form(
        client, "/profile/two-step/off", {"step_up_code": code_at(key_of("tess"), step_now() + 1)}
    )
    assert done.status_code == 303
    assert stored(tess).two_step_since is None
    assert run(Authenticator.count().where(Authenticator.account == tess.id)) == 0
    mailbox.wait_for(to="tess@example.com", subject="Two-step sign-in is off")
    # Password alone signs in again.
    other = fresh_client(client.app)
    assert (
        post_form(other, "/login", {"login": "tess", "password": STRONG_PASSWORD}).headers["location"]
        == "/dashboard"
    )


def test_new_recovery_codes_replace_the_old_set(client, tess, enrolled, mailbox):
    log_in(client, "tess")
    response = post_form(client, "/profile/two-step/recovery-codes", {}, token_from="/profile/two-step")
    assert response.status_code == 200 and heading(response) == "Your recovery codes"
    new = [node.text() for node in html(response).css(".recovery-codes code")]
    assert len(new) == 10 and not set(new) & set(enrolled)
    mailbox.wait_for(to="tess@example.com", subject="You have new recovery codes")
    other = fresh_client(client.app)
    password_step(other)
    assert send_code(other, enrolled[1], "recovery_code").status_code == 422
    assert send_code(other, new[1], "recovery_code").status_code == 303


def test_the_dashboard_suggests_two_step_once_until_dismissed(client, tess):
    log_in(client, "tess")
    suggestion = html(client.get("/dashboard")).css_first("#two-step-suggestion")
    assert suggestion is not None and suggestion.css_first('a[href="/profile/two-step/setup"]') is not None
    dismissed = post_form(client, "/profile/two-step/dismiss-suggestion", {}, token_from="/dashboard")
    assert dismissed.status_code == 303
    assert html(client.get("/dashboard")).css_first("#two-step-suggestion") is None


def test_secret_keys_rotate_under_enrolled_authenticators(client, tess, enrolled, monkeypatch):
    """An authenticator sealed under the old key still works after a new key is appended, and is
    sealed again under the new one when used, so the old key can later be dropped."""
    from src.tokens import Tokens

    tokens = client.app.state.tokens
    rotated = Tokens((*tokens.secret_keys, "a-brand-new-secret-key-of-enough-length-123"))
    monkeypatch.setattr(client.app.state, "tokens", rotated)
    password_step(client)
    assert send_code(client, code_at(key_of("tess"), step_now())).status_code == 303
    row = run(Authenticator.objects().where(Authenticator.account == tess.id).first())
    assert Tokens(("a-brand-new-secret-key-of-enough-length-123",)).unseal(
        "authenticator-key", row.sealed_key
    ) == key_of("tess")


def test_a_deleted_account_keeps_no_authenticator(client, tess, enrolled):
    run(with_fast_password(tess))
    run(make_account("learner", "lara"))
    run(src.accounts.delete_account(tess))
    assert run(Authenticator.count().where(Authenticator.account == tess.id)) == 0
    assert run(RecoveryCode.count().where(RecoveryCode.account == tess.id)) == 0


def test_htmx_gets_the_form_alone_and_a_client_redirect_when_right(client, tess, enrolled):
    password_step(client)
    wrong = post_form(client, SECOND_STEP, {"code": "12345"}, htmx=True, token_from=SECOND_STEP)
    assert wrong.status_code == 422 and "<html" not in wrong.text
    assert html(wrong).css_first("form#second-step-form") is not None and "code" in errors_on(wrong)
    right = post_form(client, SECOND_STEP, {"code": code_at(key_of("tess"), step_now())}, htmx=True)
    assert right.status_code == 200 and right.headers["hx-redirect"] == "/dashboard"
    assert is_logged_in(client)


def test_the_second_step_page_without_a_password_first_goes_to_log_in(client, tess, enrolled):
    response = client.get(SECOND_STEP, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/login"
    assert not any("5 minutes" in n for n in notices(client.get("/login")))
    log_in(client, "tess")
    assert client.get(SECOND_STEP, follow_redirects=False).headers["location"] == "/dashboard"


def test_cancel_and_log_out_from_the_second_step(client, tess, enrolled):
    password_step(client)
    token = html(client.get(SECOND_STEP)).css_first('form[action="/logout"] input[name="_csrf_token"]')
    out = client.post("/logout", data={"_csrf_token": token.attributes["value"]}, follow_redirects=False)
    assert out.status_code == 303
    late = send_code(client, code_at(key_of("tess"), step_now()))
    assert late.status_code == 303 and late.headers["location"] == "/login"
    assert not is_logged_in(client)


def test_the_log_in_goes_on_to_next_after_the_second_step(client, tess, enrolled):
    response = post_form(client, "/login", {"login": "tess", "password": STRONG_PASSWORD, "next": "/profile"})
    assert response.headers["location"] == SECOND_STEP
    done = send_code(client, code_at(key_of("tess"), step_now()))
    assert done.headers["location"] == "/profile"


def test_strange_codes_are_refused_not_a_500(client, tess, enrolled):
    password_step(client)
    for strange in (
        "١٢٣٤٥٦",
        "12345\x006",
        "9" * 5000,
        "ABCD-EFGH-JKMN-PQRS-TVWX",
        "'; DROP TABLE account; --",
    ):
        # Refused as a wrong code (422, or 429 once the account pauses), or a NUL byte as bad input (400).
        for field in ("code", "recovery_code"):
            assert send_code(client, strange, field=field).status_code in (400, 422, 429), strange
    assert not is_logged_in(client)


def test_a_key_sealed_under_a_dropped_secret_key_refuses_codes_and_can_be_set_up_again(
    client, tess, enrolled, monkeypatch
):
    """Dropping a SECRET_KEY before every authenticator was sealed again loses those authenticators
    (README): their codes are refused, never a 500; a recovery code still signs in."""
    from src.tokens import Tokens

    monkeypatch.setattr(client.app.state, "tokens", Tokens(("only-a-brand-new-secret-key-of-enough-length",)))
    password_step(client)
    assert send_code(client, code_at(key_of("tess"), step_now())).status_code == 422
    assert send_code(client, enrolled[0], field="recovery_code").status_code == 303


def test_wrong_codes_count_against_the_address_too(client, tess, enrolled, monkeypatch):
    """The per-address count of failed log-ins (twenty in 15 minutes) takes wrong codes as well;
    made small here so that the account's own limit (five) is not reached first."""
    monkeypatch.setattr(src.routes.second_step, "IP_FAILURES_LIMIT", 2)
    password_step(client)
    wrong = "000000" if code_at(key_of("tess"), step_now()) != "000000" else "111111"
    assert [send_code(client, wrong).status_code for _ in range(2)] == [422, 422]
    paused = send_code(client, code_at(key_of("tess"), step_now()))
    assert paused.status_code == 429 and int(paused.headers["retry-after"]) > 0
    assert not is_logged_in(client)


def test_a_new_phone_replaces_the_authenticator_after_its_first_code(client, tess, enrolled, mailbox):
    """Lost phone: sign in with a recovery code, set up the new phone; the old key stops working."""
    old_key = key_of("tess")
    password_step(client)
    assert send_code(client, enrolled[0], field="recovery_code").status_code == 303
    page = client.get("/profile/two-step/new-authenticator")
    assert page.status_code == 200 and heading(page) == "Set up a new authenticator"
    new_key = "".join(html(page).css_first(".secret-key code").text().split())
    assert new_key != old_key
    assert (
        "".join(
            html(client.get("/profile/two-step/new-authenticator"))
            .css_first(".secret-key code")
            .text()
            .split()
        )
        == new_key
    )

    path = "/profile/two-step/new-authenticator"
    wrong = post_form(client, path, {"code": code_at(old_key, step_now())}, token_from=path)
    assert wrong.status_code == 422 and "code" in errors_on(wrong)
    done = post_form(client, path, {"code": code_at(new_key, step_now())})
    assert done.status_code == 303
    mailbox.wait_for(to="tess@example.com", subject="You have a new authenticator")

    other = fresh_client(client.app)
    password_step(other)
    assert send_code(other, code_at(old_key, step_now() + 1)).status_code == 422
    assert send_code(other, code_at(new_key, step_now() + 1)).status_code == 303
