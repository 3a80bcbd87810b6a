"""Two-step sign-in for the tests: an account's authenticator turned on through the real domain code
(src.accounts.enrolment and turn_on), its key remembered here, and the codes it makes, so that the
log-in helpers can pass the second step as a person with the app would.

The app under test signs with the development key kept under VAR_DIR: the same Tokens open what it
sealed. Codes follow the portal's clock (src.clock.utcnow), so a test that freezes it gets the
codes of its frozen time.
"""

from __future__ import annotations

import pyotp

from src import accounts, clock
from src.settings import load_settings
from src.tables.accounts import Account, Authenticator
from src.tables.outbox import OutboxEmail
from src.tokens import Tokens
from tests.support.environment import BASE_URL, DATABASE_URL, VAR_DIR

# The authenticator key of each enrolled account, by user name and email address (lower case).
KEYS: dict[str, str] = {}


def tokens() -> Tokens:
    env = {
        "PORTAL_MODE": "development",
        "VAR_DIR": str(VAR_DIR),
        "DATABASE_URL": DATABASE_URL,
        "BASE_URL": BASE_URL,
    }
    return Tokens(load_settings(env).secret_keys)


def step_now() -> int:
    return int(clock.utcnow().timestamp()) // 30


def code_at(key: str, step: int) -> str:
    return pyotp.TOTP(key).generate_otp(step)


def key_of(login: str) -> str | None:
    return KEYS.get(login.strip().lower())


async def enrol(account: Account, *, quiet: bool = True) -> list[str]:
    """Turn the account's two-step sign-in on with an authenticator, as if a while ago (the code that
    confirmed it is forgotten, so the tests' codes of this step are new); its ten recovery codes.
    `quiet` takes the "two-step sign-in is on" notice out of the outbox: no part of the test's story."""
    enrolment = await accounts.enrolment(tokens(), account, "Test")
    codes = await accounts.turn_on(tokens(), account, code_at(enrolment.key, step_now()))
    await Authenticator.update({Authenticator.last_step: None}).where(Authenticator.account == account.id)
    KEYS[account.username.lower()] = KEYS[account.email.lower()] = enrolment.key
    if quiet:
        await OutboxEmail.delete().where(
            (OutboxEmail.template == "two_step_on") & (OutboxEmail.recipient == account.email)
        )
    return codes


async def fresh_code(login: str) -> str | None:
    """A code the account has not used yet, now (None: it has no authenticator on). Two log-ins
    within one 30-second step would be a replay (refused, as it must be): the helper forgets the
    last step used, as 30 seconds would."""
    key = key_of(login)
    account = await Account.by_login(login)
    if key is None or account is None or account.two_step_since is None:
        return None
    await Authenticator.update({Authenticator.last_step: None}).where(Authenticator.account == account.id)
    return code_at(key, step_now())
