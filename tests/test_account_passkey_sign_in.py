"""Signing in with a passkey from /login, with no user name and no password: a software authenticator
(real P-256 keys and signatures, tests/support/authenticator.py) answers the options the portal
sends, so the server's checks are really made. Each refusal: another origin, another relying-party
id, a replayed answer (one after the other and in parallel, on the file store and on Redis), a
counter that goes back, no user verification, someone else's passkey, a removed one."""

from __future__ import annotations

import copy
import json
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import redis
from litestar.testing import TestClient

from src import accounts
from src.app import create_app
from src.tables.passkeys import Passkey
from tests.support.client import form_token, fresh_client, log_in, make_settings, post_form, run
from tests.support.environment import BASE_URL, REDIS_URL
from tests.support.factories import make_account, with_fast_password
from tests.support.pages import html, is_logged_in
from tests.support.passkeys import add_passkey, authenticator, post_sign_in, sign_in, sign_in_options


def passkey_error(response: Any) -> str:
    node = html(response).css_first("#passkey-error")
    assert node is not None, response.text
    return node.text(strip=True).removeprefix("Error:").strip()


@pytest.fixture
def lena_with_passkey(client: TestClient[Any], other_client: TestClient[Any]) -> Any:
    """Lena, a learner, who added a passkey on `client` and logged out; `other_client` is a fresh browser."""
    account = run(make_account("learner", "lena", password=None, first_name="Lena"))
    run(with_fast_password(account))
    device = authenticator()
    log_in(client, "lena")
    assert add_passkey(client, device, "Lena's phone").status_code == 303
    post_form(client, "/logout", {}, token_from="/dashboard")
    return account, device


def test_a_passkey_signs_in_without_a_user_name_or_password(lena_with_passkey, other_client):
    account, device = lena_with_passkey
    options = sign_in_options(other_client)
    assert options["rpId"] == "testserver.local"
    assert options["userVerification"] == "preferred"
    assert options.get("allowCredentials", []) == []  # discoverable: the browser offers its passkeys

    response = post_sign_in(other_client, device.get(options), next_path="/profile")
    assert response.status_code == 303 and response.headers["location"] == "/profile"
    assert is_logged_in(other_client)
    row = run(Passkey.objects().where(Passkey.account == account.id).first())
    assert row.sign_count == 1 and row.last_used_at is not None


def test_sign_in_rotates_the_session_id(lena_with_passkey, other_client):
    _, device = lena_with_passkey
    options = sign_in_options(other_client)
    before = other_client.cookies.get("portal_session")
    assert before
    assert post_sign_in(other_client, device.get(options)).status_code == 303
    assert other_client.cookies.get("portal_session") not in (None, before)


def test_an_answer_made_for_another_origin_is_refused(lena_with_passkey, other_client):
    _, device = lena_with_passkey
    response = sign_in(other_client, device, origin="https://testserver.local.evil.example")
    assert response.status_code == 422
    assert "could not check that passkey" in passkey_error(response)
    assert not is_logged_in(other_client)


def test_an_answer_for_another_relying_party_is_refused(lena_with_passkey, other_client):
    _, device = lena_with_passkey
    response = sign_in(other_client, device, rp_id="evil.example")
    assert response.status_code == 422
    assert "could not check that passkey" in passkey_error(response)
    assert not is_logged_in(other_client)


def test_a_replayed_answer_is_refused(lena_with_passkey, other_client):
    _, device = lena_with_passkey
    answer = device.get(sign_in_options(other_client))
    assert post_sign_in(other_client, answer).status_code == 303
    post_form(other_client, "/logout", {}, token_from="/dashboard")
    replay = post_sign_in(other_client, answer)
    assert replay.status_code == 422
    assert "expired or was already used" in passkey_error(replay)
    assert not is_logged_in(other_client)


def test_an_answer_to_a_challenge_from_another_session_is_refused(lena_with_passkey, client, other_client):
    _, device = lena_with_passkey
    answer = device.get(sign_in_options(client))  # asked for in one browser, posted from another
    sign_in_options(other_client)
    response = post_sign_in(other_client, answer)
    assert response.status_code == 422
    assert not is_logged_in(other_client)


def test_a_counter_that_goes_back_is_refused(lena_with_passkey, other_client):
    account, device = lena_with_passkey
    assert sign_in(other_client, device).status_code == 303  # the counter is at 1 now
    post_form(other_client, "/logout", {}, token_from="/dashboard")
    copied = sign_in(other_client, device, sign_count=1)  # a copy of the key, behind the original
    assert copied.status_code == 422
    assert "counter went backwards" in passkey_error(copied)
    assert not is_logged_in(other_client)
    assert (
        run(Passkey.select(Passkey.sign_count).where(Passkey.account == account.id).first())["sign_count"]
        == 1
    )


def test_an_authenticator_without_a_counter_signs_in_every_time(client, other_client):
    account = run(make_account("learner", "lena", password=None))
    run(with_fast_password(account))
    device = authenticator(counts=False)
    log_in(client, "lena")
    assert add_passkey(client, device).status_code == 303
    for _ in range(2):
        assert sign_in(other_client, device).status_code == 303
        post_form(other_client, "/logout", {}, token_from="/dashboard")


def test_a_passkey_that_did_not_verify_the_person_cannot_sign_in_alone(lena_with_passkey, other_client):
    _, device = lena_with_passkey
    device.user_verifying = False
    response = sign_in(other_client, device)
    assert response.status_code == 422
    assert "Log in with your password" in passkey_error(response)
    assert not is_logged_in(other_client)


def test_a_removed_passkey_no_longer_signs_in(lena_with_passkey, client, other_client):
    account, device = lena_with_passkey
    log_in(client, "lena")
    passkey = run(Passkey.objects().where(Passkey.account == account.id).first())
    assert (
        post_form(
            client, f"/profile/passkeys/{passkey.id}/delete", {}, token_from="/profile/passkeys"
        ).status_code
        == 303
    )
    response = sign_in(other_client, device)
    assert response.status_code == 422
    assert "not registered" in passkey_error(response)


def test_a_deleted_account_cannot_sign_in_with_its_passkey(lena_with_passkey, client, other_client):
    account, device = lena_with_passkey
    log_in(client, "lena")
    run(accounts.delete_account(account))
    response = sign_in(other_client, device)
    assert response.status_code == 422
    assert not is_logged_in(other_client)


@pytest.mark.parametrize("credential", ["", "not json", "[]", "{}", '{"rawId": 5}', "[" * 5000, "x" * 40_000])
def test_strange_answers_are_refused_without_an_error(lena_with_passkey, other_client, credential):
    sign_in_options(other_client)
    response = post_sign_in(other_client, credential)
    assert response.status_code == 422
    assert passkey_error(response)


def test_a_forged_signature_is_refused(lena_with_passkey, other_client):
    _, device = lena_with_passkey
    answer = device.get(sign_in_options(other_client))
    forged = copy.deepcopy(answer)
    forged["response"]["signature"] = answer["response"]["signature"][:-4] + "AAAA"
    response = post_sign_in(other_client, forged)
    assert response.status_code == 422
    assert not is_logged_in(other_client)


# --- a replayed answer, sent in parallel: on the file store and on Redis ---------------------------------


def _redis_up() -> bool:
    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping())
    except redis.exceptions.ConnectionError:
        return False


@pytest.fixture(params=["file", "redis"])
def store_client(request, smtp_server, mailbox):
    if request.param == "redis":
        if not _redis_up() and not os.environ.get("CI"):
            pytest.skip(f"no Redis at {REDIS_URL}")
        redis.Redis.from_url(REDIS_URL).flushdb()
        settings = make_settings(smtp_server.port, redis_url=REDIS_URL)
    else:
        settings = make_settings(smtp_server.port)
    with TestClient(create_app(settings), base_url=BASE_URL) as test_client:
        yield test_client
    if request.param == "redis":
        redis.Redis.from_url(REDIS_URL).flushdb()


def fire_together(*requests: Any) -> list[Any]:
    barrier = threading.Barrier(len(requests))

    def send(request: Any) -> Any:
        barrier.wait(timeout=10)
        return request()

    with ThreadPoolExecutor(len(requests)) as pool:
        return list(pool.map(send, requests))


@pytest.mark.parametrize("counts", [True, False], ids=["counter", "no-counter"])
def test_one_answer_posted_many_times_at_once_signs_in_once(store_client, counts):
    account = run(make_account("learner", "lena", password=None))
    run(with_fast_password(account))
    device = authenticator(counts=counts)
    log_in(store_client, "lena")
    assert add_passkey(store_client, device).status_code == 303
    post_form(store_client, "/logout", {}, token_from="/dashboard")

    answer = json.dumps(device.get(sign_in_options(store_client)))
    # The same session cookie on every request: each of them finds the challenge in the session.
    data = {"_csrf_token": form_token(store_client), "credential": answer, "next": ""}
    cookies = dict(store_client.cookies)

    def replay() -> Any:
        same_browser = fresh_client(store_client.app, cookies=cookies)
        return same_browser.post("/login/passkey", data=data, follow_redirects=False)

    answers = fire_together(*[replay for _ in range(8)])
    assert sorted(a.status_code for a in answers) == [303] + [422] * 7
