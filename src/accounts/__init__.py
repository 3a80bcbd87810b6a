"""Accounts: registration and activation, log-in and lock-out, credentials (set a password, reset
and activation links), profile (details, email change, contacts, addresses) and deletion.
Other code uses only the names below; the modules inside are private."""

from src.accounts.addresses import (
    MAX_ADDRESSES,
    MAX_CONTACTS,
    add_contact,
    address_of,
    address_values,
    addresses_of,
    contacts_of,
    remove_address,
    remove_contact,
    save_address,
)
from src.accounts.bulk import NewLearner, create_learners
from src.accounts.credentials import account_for_link, request_password_reset, set_password
from src.accounts.deletion import delete_account
from src.accounts.login import LOCK_AFTER, LoginResult, check_login, find_by_login
from src.accounts.profile import confirm_email_change, details_values, update_details
from src.accounts.registration import (
    NewAccount,
    account_with_email,
    activation_link,
    create_account,
    create_learner,
    email_taken,
    newest_learners,
    register,
    resend_verification,
    username_taken,
    verify_email,
)

__all__ = [
    "LOCK_AFTER",
    "MAX_ADDRESSES",
    "MAX_CONTACTS",
    "LoginResult",
    "NewAccount",
    "NewLearner",
    "account_for_link",
    "account_with_email",
    "activation_link",
    "add_contact",
    "address_of",
    "address_values",
    "addresses_of",
    "check_login",
    "confirm_email_change",
    "contacts_of",
    "create_account",
    "create_learner",
    "create_learners",
    "delete_account",
    "details_values",
    "email_taken",
    "find_by_login",
    "newest_learners",
    "register",
    "remove_address",
    "remove_contact",
    "request_password_reset",
    "resend_verification",
    "save_address",
    "set_password",
    "update_details",
    "username_taken",
    "verify_email",
]
