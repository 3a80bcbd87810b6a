"""Step-up: actions that matter (a new email address or password, two-step settings, deleting the
account, staff revoking, superseding or confirming a CSV import) need the person to have proved who
they are within the last STEP_UP_MINUTES: by a code when two-step sign-in is on, else by the password.
A log-in counts as such a step (src.auth.start_session records it).

One mechanism for every such form: the form includes `partials/account/_step_up.html` with
`step_up = step_up_needed(session, account)`; the handler calls `check_step_up(...)` before acting,
which raises `Refused(message, field)` while a step is due and not given with the form. The route
shows the same form again (422) with what was typed and the prompt in place, and the action goes
through when it is posted again with the code. A form that asks for the current password anyway
(change password, delete account) passes `asks_password=True`: for an account without two-step
sign-in that password is the step.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

from src import clock
from src.accounts.login import LOCKED, check_current_password
from src.accounts.two_step import LOCKED_CODE, check_code, has_two_step
from src.auth import STEPPED_UP_AT
from src.errors import Refused
from src.forms import Form
from src.tables.accounts import Account
from src.tokens import Tokens

STEP_UP_MINUTES = 15
CODE_FIELD = "step_up_code"
RECOVERY_FIELD = "step_up_recovery"
PASSWORD_FIELD = "step_up_password"  # noqa: S105 - a form field's name
STEP_UP_FIELDS = (CODE_FIELD, RECOVERY_FIELD, PASSWORD_FIELD)
ASK_CODE = "To do this, first confirm it is you: enter the code from your authenticator app"
ASK_PASSWORD = "To do this, first confirm it is you: enter your password"  # noqa: S105 - words for the person


def step_up_needed(
    session: MutableMapping[str, Any], account: Account, *, asks_password: bool = False
) -> str | None:
    """None while a step within the last STEP_UP_MINUTES covers an action; else what to ask for:
    "code" (two-step sign-in is on) or "password"."""
    stepped = session.get(STEPPED_UP_AT, 0) if session else 0
    if isinstance(stepped, int | float) and clock.seconds() - stepped <= STEP_UP_MINUTES * 60:
        return None
    if has_two_step(account):
        return "code"
    return None if asks_password else "password"


async def check_step_up(
    session: MutableMapping[str, Any],
    account: Account,
    form: Form,
    tokens: Tokens,
    *,
    asks_password: bool = False,
) -> None:
    """Pass when no step is due or the form carries a right one (then the session is stepped up);
    else raise Refused with the message for the step-up field. Wrong codes and passwords count with
    the log-in lock-out, as at log-in."""
    needed = step_up_needed(session, account, asks_password=asks_password)
    if needed is None:
        return
    if needed == "code":
        typed = form.get(RECOVERY_FIELD) or form.get(CODE_FIELD)
        field = RECOVERY_FIELD if form.get(RECOVERY_FIELD) else CODE_FIELD
        if not typed:
            raise Refused(ASK_CODE, CODE_FIELD)
        result = await check_code(tokens, account, typed)
        if not result.ok:
            raise Refused(result.message, field)
    else:
        if not form.get(PASSWORD_FIELD):
            raise Refused(ASK_PASSWORD, PASSWORD_FIELD)
        check = await check_current_password(account, form.get(PASSWORD_FIELD))
        if check.problem:
            raise Refused(LOCKED if check.locked else "Your password is not right", PASSWORD_FIELD)
    session[STEPPED_UP_AT] = clock.seconds()


def step_up_status(refusal: Refused) -> int:
    """The status a refused step-up answers with: 429 when the account is paused, else 422."""
    return 429 if refusal.message in (LOCKED, LOCKED_CODE) else 422
