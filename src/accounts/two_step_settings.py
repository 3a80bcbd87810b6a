"""Two-step sign-in settings: a new authenticator for a new phone, a new set of recovery codes,
turning it off (not staff), staff resetting another person's, and the dashboard's one suggestion.
Each change is a compare-and-set, emails a notice (src/accounts/notices.py) and is audited."""

from __future__ import annotations

import pyotp

from src import clock
from src.accounts.login import count_attempt, forgive_attempts
from src.accounts.notices import send_notice
from src.accounts.passkeys import remove_all_passkeys
from src.accounts.recovery import new_recovery_codes
from src.accounts.two_step import (
    ENTER_CODE,
    LOCKED_CODE,
    SEAL_PURPOSE,
    SIX_DIGITS,
    USED_CODE,
    WRONG_CODE,
    Enrolment,
    clean_code,
    has_two_step,
    matching_step,
    new_address,
    unsealed,
)
from src.audit import AuditAction, record
from src.db import compare_and_set, write_transaction
from src.errors import Refused
from src.tables.accounts import Account, Authenticator, RecoveryCode, Role
from src.tokens import Tokens


async def replacement(tokens: Tokens, account: Account, issuer: str) -> Enrolment:
    """A new phone: the key waiting to replace the account's authenticator, made now if there is none.
    The old key keeps working until a code from the new one is typed (`replace_authenticator`)."""
    row = await Authenticator.objects().where(Authenticator.account == account.id).first()
    if not has_two_step(account) or row is None or row.confirmed_at is None:
        raise Refused("Turn two-step sign-in on first")
    key = None if row.pending_sealed_key is None else unsealed(tokens, row.pending_sealed_key)
    if key is None:
        key = pyotp.random_base32()
        await compare_and_set(
            Authenticator,
            row.id,
            {Authenticator.pending_sealed_key: row.pending_sealed_key},
            {Authenticator.pending_sealed_key: tokens.seal(SEAL_PURPOSE, key)},
        )
        fresh = await Authenticator.objects().where(Authenticator.id == row.id).first()
        # Two requests at once: the one stored wins, and both show it.
        stored = unsealed(tokens, fresh.pending_sealed_key) if fresh and fresh.pending_sealed_key else None
        key = stored or key
    return Enrolment(key, new_address(key, account, issuer))


async def replace_authenticator(tokens: Tokens, account: Account, code: str) -> None:
    """The new phone's first code: its key replaces the old one (which stops working at once), and
    a notice is emailed. Refused (field "code") for a wrong code or a locked account."""
    code = clean_code(code)
    if not SIX_DIGITS.fullmatch(code):
        raise Refused(ENTER_CODE, "code")
    row = await Authenticator.objects().where(Authenticator.account == account.id).first()
    if row is None or row.pending_sealed_key is None:
        raise Refused("Start again: open Two-step sign-in on your profile", "code")
    if not await count_attempt(account.id):
        raise Refused(LOCKED_CODE, "code")
    key = unsealed(tokens, row.pending_sealed_key)
    step = None if key is None else matching_step(key, code)
    if step is None:
        raise Refused(WRONG_CODE, "code")
    async with write_transaction():
        if not await compare_and_set(
            Authenticator,
            row.id,
            {Authenticator.pending_sealed_key: row.pending_sealed_key},
            {
                Authenticator.sealed_key: row.pending_sealed_key,
                Authenticator.pending_sealed_key: None,
                Authenticator.last_step: step,
            },
        ):
            raise Refused(USED_CODE, "code")
        await send_notice(
            account,
            "authenticator_replaced",
            {"first_name": account.first_name},
            f"authenticator-replaced:{row.id}:{step}",
        )
        await record(AuditAction.replaced_authenticator, account)
    await forgive_attempts(account.id)


async def regenerate_recovery_codes(account: Account) -> list[str]:
    """A new set of ten: every code of the old set stops working. Emails a notice."""
    if not has_two_step(account):
        raise Refused("Turn two-step sign-in on first")
    async with write_transaction():
        codes = await new_recovery_codes(account.id)
        await send_notice(
            account,
            "recovery_codes_regenerated",
            {"first_name": account.first_name},
            f"recovery-codes:{account.id}:{clock.utcnow().isoformat()}",
        )
        await record(AuditAction.regenerated_recovery_codes, account)
    return codes


async def _remove(account_id: int) -> None:
    await RecoveryCode.delete().where(RecoveryCode.account == account_id)
    await Authenticator.delete().where(Authenticator.account == account_id)


async def turn_off(account: Account) -> None:
    """The person turns two-step sign-in off (never staff, who must have it). Emails a notice."""
    if account.role == Role.staff.value:
        raise Refused("Staff accounts must keep two-step sign-in. You can set up a new authenticator instead")
    async with write_transaction():
        if not await compare_and_set(
            Account,
            account.id,
            {Account.two_step_since: account.two_step_since},
            {Account.two_step_since: None},
        ):
            raise Refused("Two-step sign-in is already off")
        await _remove(account.id)
        await send_notice(
            account,
            "two_step_off",
            {"first_name": account.first_name},
            f"two-step-off:{account.id}:{clock.utcnow().isoformat()}",
        )
        await record(AuditAction.turned_off_two_step, account)
    account.two_step_since = None


async def reset_by_staff(staff: Account, person: Account, reason: str) -> None:
    """Staff reset another person's two-step sign-in (a lost phone, say): the authenticator and
    recovery codes are removed, every session of the person ends, they are emailed, and the
    reason is in the audit log. Never one's own: a stolen staff session must not free itself."""
    if person.id == staff.id:
        raise Refused("You cannot reset your own two-step sign-in. Ask another member of staff", "login")
    if not has_two_step(person) and person.passkey_count == 0:
        raise Refused(f"{person.username} does not have two-step sign-in on", "login")
    async with write_transaction():
        if not await compare_and_set(
            Account,
            person.id,
            {Account.two_step_since: person.two_step_since, Account.session_epoch: person.session_epoch},
            {Account.two_step_since: None, Account.session_epoch: person.session_epoch + 1},
        ):
            raise Refused(f"{person.username} changed their sign-in just now. Look again", "login")
        await _remove(person.id)
        await remove_all_passkeys(person.id)  # a lost phone takes its passkeys with it
        await send_notice(
            person,
            "two_step_reset",
            {"first_name": person.first_name, "staff_role": person.role == Role.staff.value},
            f"two-step-reset:{person.id}:{person.session_epoch + 1}",
        )
        # Control characters (NUL included) never reach the database: PostgreSQL refuses them.
        said = "".join(c if c.isprintable() else " " for c in reason)
        await record(AuditAction.reset_two_step, staff, detail=f"{person.username} (#{person.id}): {said}")


def suggest_two_step(account: Account) -> bool:
    """Whether the dashboard suggests turning two-step sign-in on (once, until dismissed or done)."""
    return (
        account.role != Role.staff.value and not has_two_step(account) and not account.two_step_hint_dismissed
    )


async def dismiss_two_step_hint(account: Account) -> None:
    await Account.update({Account.two_step_hint_dismissed: True}).where(Account.id == account.id)
    account.two_step_hint_dismissed = True
