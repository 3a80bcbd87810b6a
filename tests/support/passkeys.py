"""Passkey ceremonies through the pages, as the browser's script runs them: options, the
authenticator's answer, the form posted with it."""

from __future__ import annotations

import json
from typing import Any

from tests.support.authenticator import Authenticator
from tests.support.client import post_form
from tests.support.environment import BASE_URL

PAGE = "/profile/passkeys"


def authenticator(**kwargs: Any) -> Authenticator:
    """A user-verifying platform authenticator in a browser on the site's own origin."""
    return Authenticator(origin=BASE_URL, **kwargs)


def add_options(client: Any, name: str = "Phone") -> Any:
    return post_form(client, f"{PAGE}/options", {"name": name}, token_from=PAGE)


def post_new_passkey(client: Any, answer: dict[str, Any] | str, name: str = "Phone") -> Any:
    credential = answer if isinstance(answer, str) else json.dumps(answer)
    return post_form(client, PAGE, {"name": name, "credential": credential}, token_from=PAGE)


def add_passkey(client: Any, device: Authenticator, name: str = "Phone") -> Any:
    """Add a passkey from Profile → Passkeys (the person is logged in on `client`)."""
    options = add_options(client, name)
    assert options.status_code == 200, options.text
    return post_new_passkey(client, device.create(options.json()), name)


def sign_in_options(client: Any) -> dict[str, Any]:
    options = post_form(client, "/login/passkey/options", {})
    assert options.status_code == 200, options.text
    assert options.headers["cache-control"] == "no-store"
    return options.json()  # type: ignore[no-any-return]


def post_sign_in(client: Any, answer: dict[str, Any] | str, next_path: str = "") -> Any:
    credential = answer if isinstance(answer, str) else json.dumps(answer)
    return post_form(client, "/login/passkey", {"credential": credential, "next": next_path})


def sign_in(client: Any, device: Authenticator, **bend: Any) -> Any:
    """ "Sign in with a passkey" on /login: no user name, no password."""
    return post_sign_in(client, device.get(sign_in_options(client), **bend))
