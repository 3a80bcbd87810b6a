"""A learner adds a passkey from Profile and signs in with it, with no user name and no password, in
Chromium at 360 px with a virtual authenticator (CDP WebAuthn: CTAP2, built in, holding discoverable
credentials, verifying the user). Without JavaScript both pages say why there is no passkey button and
the password still works. Staff enrol a passkey instead of the app at their first log-in, and it is
their second step from then on. Every page checked by axe-core; with JavaScript, no console errors.

WebAuthn refuses an IP address as the relying-party id: the server is reached as `localhost`."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from litestar.stores.base import StorageObject
from litestar.stores.file import _safe_file_name
from playwright.sync_api import CDPSession, Page, expect

from tests.browser.conftest import Auditor, Console, SeedAccount, Server
from tests.browser.test_connections_journey import assert_mail_soon, log_in


def virtual_authenticator(page: Page) -> tuple[CDPSession, str]:
    """A phone's built-in passkey store, for this page: it verifies its user (as a fingerprint would)."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    added = cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )
    return cdp, added["authenticatorId"]


def age_the_last_step(server: Server, page: Page, minutes: int = 16) -> None:
    """Make the server's session of this browser look as if the last log-in or step-up was `minutes`
    ago (the server's clock cannot be moved: its stored session is edited, as time would)."""
    [session_id] = [c["value"] for c in page.context.cookies() if c["name"] == "portal_session"]
    path = Path(server.env["VAR_DIR"]) / "store" / "sessions" / _safe_file_name(session_id)
    stored = StorageObject.from_bytes(path.read_bytes())
    data = json.loads(stored.data)
    data["stepped_up_at"] -= minutes * 60
    stored.data = json.dumps(data).encode()
    path.write_bytes(stored.to_bytes())


def log_out(page: Page) -> None:
    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(re.compile(r"/login\?logged_out=true$"))


def test_learner_adds_a_passkey_and_signs_in_with_it_without_a_password(
    page: Page,
    create_accounts: Callable[..., None],
    audit: Auditor,
    console: Console,
    base_url: str,
    javascript_enabled: bool,
) -> None:
    assert base_url.startswith("http://localhost:")
    tag = uuid.uuid4().hex[:8]
    learner = SeedAccount(
        "learner", f"lena_{tag}", f"lena.{tag}@example.com", f"copper-willow-{tag}", "Lena", f"Lovelace {tag}"
    )
    create_accounts(learner)
    if javascript_enabled:
        cdp, authenticator_id = virtual_authenticator(page)

    log_in(page, audit, learner)
    page.get_by_role("navigation", name="Account").get_by_role("link", name="Profile").click()
    page.get_by_role("link", name="Passkeys", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Passkeys")
    expect(page.get_by_text("You have no passkeys yet.")).to_be_visible()
    audit.check(page)

    if not javascript_enabled:
        # No button that cannot work: the page says why, and the sign-in page does too.
        expect(page.get_by_role("button", name="Add a passkey")).to_be_hidden()
        expect(page.get_by_text("Adding a passkey needs JavaScript")).to_be_visible()
        log_out(page)
        expect(page.get_by_role("button", name="Sign in with a passkey")).to_be_hidden()
        expect(page.get_by_text("Signing in with a passkey needs JavaScript")).to_be_visible()
        audit.check(page)
        log_in(page, audit, learner)  # the password still works
        return

    expect(page.get_by_text("Adding a passkey needs JavaScript")).to_be_hidden()
    # No name yet: the server says so beside the field, before the browser is asked for anything.
    page.get_by_role("button", name="Add a passkey").click()
    expect(page.get_by_text("Enter a name for this passkey").first).to_be_visible()
    audit.check(page)
    page.get_by_label("Name for this passkey").fill("Lena's phone")
    page.get_by_role("button", name="Add a passkey").click()
    expect(page.get_by_role("status").filter(has_text="added")).to_have_text(
        "Passkey \u201cLena's phone\u201d added. You can now sign in with it."
    )
    expect(page.locator("#passkey-list li")).to_contain_text("Lena's phone")
    expect(page.locator("#passkey-list li")).to_contain_text("Not used yet.")
    audit.check(page)
    held = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator_id})["credentials"]
    assert len(held) == 1 and held[0]["isResidentCredential"]
    assert_mail_soon(base_url, learner.email, "A passkey was added to your account")

    log_out(page)
    expect(page.get_by_text("Signing in with a passkey needs JavaScript")).to_be_hidden()
    audit.check(page)
    page.get_by_role("button", name="Sign in with a passkey").click()
    expect(page).to_have_url(re.compile(r"/dashboard$"))
    audit.check(page)

    page.goto("/profile/passkeys")
    expect(page.locator("#passkey-list li")).to_contain_text("Last used")
    assert console.errors == []


def test_staff_enrol_a_passkey_at_their_first_log_in_and_it_is_their_second_step(
    page: Page,
    create_accounts: Callable[..., None],
    audit: Auditor,
    console: Console,
    javascript_enabled: bool,
) -> None:
    tag = uuid.uuid4().hex[:8]
    staff = SeedAccount(
        "staff", f"sam_{tag}", f"sam.{tag}@example.com", f"amber-quartz-{tag}", "Sam", "Staff"
    )
    create_accounts(staff)
    if javascript_enabled:
        virtual_authenticator(page)

    page.goto("/login")
    page.get_by_label("User name or email address").fill(staff.username)
    page.get_by_label("Password", exact=True).fill(staff.password)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Set up two-step sign-in")
    audit.check(page)
    if not javascript_enabled:
        expect(page.get_by_role("button", name="Add a passkey and continue")).to_be_hidden()
        expect(page.get_by_text("adding one needs JavaScript")).to_be_visible()
        return

    page.get_by_label("Name for this passkey").fill("Desk laptop")
    page.get_by_role("button", name="Add a passkey and continue").click()
    expect(page).to_have_url(re.compile(r"/dashboard$"))
    audit.check(page)
    page.get_by_role("navigation", name="Account").get_by_role("link", name="Learners").click()
    expect(page).to_have_url(re.compile(r"/staff/learners$"))

    # Next time: the password, then the passkey as the second step (no app, so no code field).
    log_out(page)
    page.get_by_label("User name or email address").fill(staff.username)
    page.get_by_label("Password", exact=True).fill(staff.password)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Two-step sign-in")
    expect(page.get_by_label("Code from your authenticator app")).to_have_count(0)
    audit.check(page)
    page.get_by_role("button", name="Use a passkey").click()
    expect(page).to_have_url(re.compile(r"/dashboard$"))
    assert console.errors == []


def test_a_passkey_answers_the_step_up_prompt_in_place(
    page: Page,
    server: Server,
    create_accounts: Callable[..., None],
    audit: Auditor,
    console: Console,
    javascript_enabled: bool,
) -> None:
    if not javascript_enabled:
        pytest.skip("without JavaScript no passkey is offered (the journeys above show what is said instead)")
    tag = uuid.uuid4().hex[:8]
    learner = SeedAccount(
        "learner", f"lucy_{tag}", f"lucy.{tag}@example.com", f"copper-willow-{tag}", "Lucy", f"Lu {tag}"
    )
    create_accounts(learner)
    virtual_authenticator(page)
    log_in(page, audit, learner)
    page.goto("/profile/passkeys")
    page.get_by_label("Name for this passkey").fill("Phone")
    page.get_by_role("button", name="Add a passkey").click()
    expect(page.locator("#passkey-list li")).to_contain_text("Phone")

    # Sixteen minutes later, removing it needs a second step: the prompt appears in its row (htmx),
    # and the passkey itself answers it; the removal then goes through as it was asked.
    age_the_last_step(server, page)
    page.get_by_role("button", name="Remove the passkey Phone").click()
    prompt = page.locator("#passkey-list fieldset")
    expect(prompt.get_by_label("Your password")).to_be_visible()
    audit.check(page)
    prompt.get_by_role("button", name="Use a passkey").click()
    expect(page.locator("#passkey-list [role=status]")).to_contain_text("Passkey \u201cPhone\u201d removed")
    expect(page.get_by_text("You have no passkeys yet.")).to_be_visible()
    audit.check(page)
    assert console.errors == []
