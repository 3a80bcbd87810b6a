"""Self-service account deletion."""

from __future__ import annotations

import secrets

from src.accounts.claims import release
from src.accounts.notices import send_notice
from src.accounts.passkeys import remove_all_passkeys
from src.clock import utcnow
from src.db import write_transaction
from src.tables.accounts import Account, Address, Authenticator, ContactDetail, RecoveryCode


async def delete_account(account: Account) -> None:
    """Self-service deletion: personal details are erased at once; the row stays, emptied, so that
    records others rely on (documents issued, who viewed what) still make sense."""
    async with write_transaction():
        await ContactDetail.delete().where(ContactDetail.account == account.id)
        await Address.delete().where(Address.account == account.id)
        await remove_all_passkeys(account.id)  # none may sign in to it again
        await release(account.id)  # both addresses are free for anyone again
        await RecoveryCode.delete().where(RecoveryCode.account == account.id)
        await Authenticator.delete().where(Authenticator.account == account.id)
        placeholder = f"deleted-{account.id}-{secrets.token_hex(4)}"
        await Account.update(
            {
                Account.username: placeholder,
                Account.username_key: placeholder,
                Account.email: f"{placeholder}@deleted.invalid",
                Account.second_email: None,
                Account.pending_second_email: None,
                Account.pending_email: None,
                Account.password_hash: None,
                Account.first_name: "Deleted",
                Account.middle_name: "",
                Account.last_name: "account",
                Account.phone: "",
                Account.company_name: "",
                Account.job_title: "",
                Account.date_of_birth: None,
                Account.two_step_since: None,
                Account.session_epoch: account.session_epoch + 1,
                Account.deleted_at: utcnow(),
            }
        ).where(Account.id == account.id)
        await send_notice(
            account, "account_deleted", {"first_name": account.first_name}, f"account-deleted:{account.id}"
        )
