"""Two-step sign-in with an authenticator app (TOTP, RFC 6238: 30-second steps, 6 digits, pyotp).

The key is made here, sealed at rest with a key derived from SECRET_KEYS (`Tokens.seal`), shown
once as a QR code and as text, and in use only after the person types a code it makes. A code works
once: the time step of the last accepted code is stored and moved forward by one compare-and-set,
so the same code posted twice at once is accepted exactly once; one step of clock drift either way
is accepted, never more. Every attempt at a code is counted first, with the log-in lock-out
(src/accounts/login.py), and a right code forgives the count it was judged by.
"""

from __future__ import annotations

import hmac
import re
from dataclasses import dataclass

import pyotp

from src import clock
from src.accounts.devices import Device
from src.accounts.login import count_attempt, forgive_attempts, retry_after
from src.accounts.notices import send_notice
from src.accounts.recovery import new_recovery_codes, normalise_recovery_code, redeem_recovery_code
from src.audit import AuditAction, record
from src.db import compare_and_set, unique_violation, write_transaction
from src.errors import Refused
from src.tables.accounts import Account, Authenticator, Role
from src.tokens import TokenError, Tokens

SEAL_PURPOSE = "authenticator-key"
STEP_SECONDS = 30
DIGITS = 6
DRIFT_STEPS = 1  # codes of the step before and after are accepted, never a wider window
SIX_DIGITS = re.compile(r"[0-9]{6}")  # ASCII digits only (\d takes any script's digits)
_SEPARATORS = re.compile(r"[\s\-]+")

WRONG_CODE = "That code is not right. Check the time on your phone and enter the newest code"
USED_CODE = "That code has been used already. Wait for your app to show the next one"
LOCKED_CODE = "Too many wrong codes: your account is paused for a while. Try again later"
ENTER_CODE = "Enter the 6-digit code from your authenticator app"


def has_two_step(account: Account) -> bool:
    return account.two_step_since is not None


def must_enrol(account: Account) -> bool:
    """Staff cannot work without two-step sign-in: they enrol before any staff page (a passkey
    counts: it can be their second step)."""
    return account.role == Role.staff.value and not has_two_step(account) and account.passkey_count == 0


def second_step_due(account: Account) -> bool:
    """After a right password: a second step (or, for staff without one, enrolment) comes first.
    A passkey is a second step for staff always, and for others once two-step sign-in is on."""
    staff_with_passkey = account.role == Role.staff.value and account.passkey_count > 0
    return has_two_step(account) or must_enrol(account) or staff_with_passkey


def second_step_offers(account: Account) -> list[str]:
    """What the second-step page offers this account: "code" (the authenticator, and its recovery
    codes) and "passkey"; none when the account must enrol first (its page needs the account)."""
    if must_enrol(account):
        return []
    return [
        name for name, on in (("code", has_two_step(account)), ("passkey", account.passkey_count > 0)) if on
    ]


def _step_now() -> int:
    return int(clock.utcnow().timestamp()) // STEP_SECONDS


def _totp(key: str) -> pyotp.TOTP:
    return pyotp.TOTP(key, digits=DIGITS, interval=STEP_SECONDS)


def matching_step(key: str, code: str) -> int | None:
    """The time step (now, or one either side) whose code `code` is, compared in constant time."""
    totp, now = _totp(key), _step_now()
    found = None
    for step in range(now - DRIFT_STEPS, now + DRIFT_STEPS + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            found = step
    return found


def code_now(key: str) -> str:
    """The code an authenticator app with this key shows now (for the demo's staff account, set up
    as a person with the app would)."""
    return _totp(key).generate_otp(_step_now())


def grouped(key: str) -> str:
    """The key in groups of four, for typing by hand."""
    return " ".join(key[i : i + 4] for i in range(0, len(key), 4))


@dataclass(frozen=True)
class Enrolment:
    key: str  # base32, shown once for typing by hand (grouped) and inside the QR code's address
    address: str  # otpauth://totp/...: what the QR code holds

    @property
    def grouped_key(self) -> str:
        return grouped(self.key)


async def enrolment(tokens: Tokens, account: Account, issuer: str) -> Enrolment:
    """The key waiting to be confirmed for this account, made now if there is none."""
    if has_two_step(account):
        raise Refused("Two-step sign-in is already on")
    row = await Authenticator.objects().where(Authenticator.account == account.id).first()
    if row is None:
        try:
            await Authenticator.insert(
                Authenticator(account=account.id, sealed_key=tokens.seal(SEAL_PURPOSE, pyotp.random_base32()))
            )
        except Exception as exc:
            if unique_violation(exc) is None:
                raise  # another request made it first: read theirs below
        row = await Authenticator.objects().where(Authenticator.account == account.id).first()
    assert row is not None
    try:
        key = tokens.unseal(SEAL_PURPOSE, row.sealed_key)
    except TokenError:
        # Sealed under a SECRET_KEY since dropped: nobody can read it, so a new one replaces it.
        key = pyotp.random_base32()
        await Authenticator.update({Authenticator.sealed_key: tokens.seal(SEAL_PURPOSE, key)}).where(
            (Authenticator.id == row.id) & Authenticator.confirmed_at.is_null()
        )
    return Enrolment(key, new_address(key, account, issuer))


def _key_of(tokens: Tokens, row: Authenticator) -> str | None:
    """The row's key, or None when no current SECRET_KEY opens it (one dropped too early)."""
    return unsealed(tokens, row.sealed_key)


def unsealed(tokens: Tokens, sealed: str) -> str | None:
    try:
        return tokens.unseal(SEAL_PURPOSE, sealed)
    except TokenError:
        return None


def new_address(key: str, account: Account, issuer: str) -> str:
    """The otpauth:// address an app reads from the QR code: the key, the issuer and the user name."""
    return _totp(key).provisioning_uri(name=account.username, issuer_name=issuer)


def clean_code(code: str) -> str:
    return _SEPARATORS.sub("", code)


async def turn_on(tokens: Tokens, account: Account, code: str) -> list[str]:
    """Confirm the waiting key with a current code: two-step sign-in is on. Returns the ten recovery
    codes, to be shown once. Refused (field "code") for a wrong code or a locked account."""
    code = clean_code(code)
    if not SIX_DIGITS.fullmatch(code):
        raise Refused(ENTER_CODE, "code")
    row = await Authenticator.objects().where(Authenticator.account == account.id).first()
    if row is None or row.confirmed_at is not None:
        raise Refused("Start again: open Two-step sign-in on your profile", "code")
    if not await count_attempt(account.id):
        raise Refused(LOCKED_CODE, "code")
    key = _key_of(tokens, row)
    step = None if key is None else matching_step(key, code)
    if step is None:
        raise Refused(WRONG_CODE, "code")
    now = clock.utcnow()
    async with write_transaction():
        confirmed = await compare_and_set(
            Authenticator,
            row.id,
            {Authenticator.confirmed_at: None},
            {Authenticator.confirmed_at: now, Authenticator.last_step: step},
        )
        if not confirmed:
            raise Refused(USED_CODE, "code")
        await Account.update({Account.two_step_since: now}).where(Account.id == account.id)
        codes = await new_recovery_codes(account.id)
        await send_notice(account, "two_step_on", {"first_name": account.first_name}, f"two-step-on:{row.id}")
        await record(AuditAction.turned_on_two_step, account)
    await forgive_attempts(account.id)
    account.two_step_since = now
    return codes


@dataclass(frozen=True)
class CodeCheck:
    """What became of a code: accepted, or refused with a message (and, locked, when to retry)."""

    ok: bool
    message: str = ""
    retry_after: int = 0  # seconds, when the account (or device) is paused: answer 429
    recovery_left: int | None = None  # a recovery code was used: how many remain


async def check_code(tokens: Tokens, account: Account, code: str, device: Device | None = None) -> CodeCheck:
    """An authenticator code (6 digits) or a recovery code, as the second step or a step-up.

    Counted first like a log-in (on the known device's count, else the account's), then checked;
    each code is accepted once, by compare-and-set."""
    code = clean_code(code)
    if not code:
        return CodeCheck(False, ENTER_CODE)
    if not await count_attempt(account.id, device):
        return CodeCheck(False, LOCKED_CODE, retry_after=await retry_after(account.id, device))
    if SIX_DIGITS.fullmatch(code):
        result = await _check_authenticator(tokens, account, code)
    else:
        recovery = normalise_recovery_code(code)
        left = None if recovery is None else await redeem_recovery_code(account, recovery)
        result = CodeCheck(False, WRONG_CODE) if left is None else CodeCheck(True, recovery_left=left)
    if result.ok:
        await forgive_attempts(account.id, device)
    return result


async def _check_authenticator(tokens: Tokens, account: Account, code: str) -> CodeCheck:
    row = await Authenticator.objects().where(Authenticator.account == account.id).first()
    if row is None or row.confirmed_at is None:
        return CodeCheck(False, WRONG_CODE)
    key = _key_of(tokens, row)
    step = None if key is None else matching_step(key, code)
    if step is None:
        return CodeCheck(False, WRONG_CODE)
    changes: dict[object, object] = {Authenticator.last_step: step}
    resealed = tokens.reseal(SEAL_PURPOSE, row.sealed_key)
    if resealed is not None:  # sealed under a key that is being rotated out: move it to the newest
        changes[Authenticator.sealed_key] = resealed
    moved = await compare_and_set(
        Authenticator,
        row.id,
        {},
        changes,
        also=Authenticator.last_step.is_null() | (Authenticator.last_step < step),
    )
    return CodeCheck(True) if moved else CodeCheck(False, USED_CODE)
