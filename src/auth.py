"""Who is logged in: the session holds an account id, an epoch and three timestamps (issued, seen,
and `stepped_up_at`, the last time the person proved who they are: a log-in or a step-up).

Between a right password and the second step, the session holds no account id at all, only
`second_step_for` (the account), its epoch and when the password was right: nothing that needs a
log-in works, and after SECOND_STEP_SECONDS the state lapses (`pending_second_step`).

The middleware loads the account for every request that carries a session and ends the session
when it is idle too long, too old, or its epoch no longer matches the account's (a password change
or reset bumps the epoch, which ends every other session of the account at once, in every process).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware

from src import clock
from src.db import Statement, fetch_one
from src.sessions import rotate_session
from src.tables.accounts import Account

if TYPE_CHECKING:
    from litestar import Request
    from litestar.types import ASGIApp, Receive, Scope, Send

    from src.settings import Settings

SEEN_REFRESH_SECONDS = 60
SECOND_STEP_SECONDS = 5 * 60  # from a right password to the second step
STEPPED_UP_AT = "stepped_up_at"  # session key: when the person last proved who they are
_SECOND_STEP_KEYS = (
    "second_step_for",
    "second_step_epoch",
    "second_step_since",
    "second_step_next",
    "second_step_offers",
)


# Every request with a session reads its account: one statement, written once (src/db/reads.py).
_NAMES = ", ".join(f'"{column._meta.db_column_name}"' for column in Account._meta.columns)
_ACCOUNT = Statement(f'SELECT {_NAMES} FROM "account" WHERE "id" = {{}} AND "deleted_at" IS NULL')  # noqa: S608 - names from the table


async def load_account(account_id: int) -> Account | None:
    row = await fetch_one(_ACCOUNT, account_id)
    return None if row is None else _account(row)


def _account(row: dict[str, Any]) -> Account:
    """What Account(**row, _exists_in_db=True) makes, without its per-column defaults and checks:
    the row has every column (the statement names them all). Fast path (Piccolo's Table internals,
    on every logged-in request): the server gate of `make bench`, pages >= 0.10 x /healthz."""
    account = Account.__new__(Account)
    account._exists_in_db = True
    account._was_created = None
    for name, value in row.items():
        setattr(account, name, value)
    return account


class AccountMiddleware(ASGIMiddleware):
    """Puts the logged-in Account (or None) on scope["user"]; runs inside the session middleware."""

    scopes = (ScopeType.HTTP,)
    # Static files need no account (should_bypass_for_scope: a path pattern on a route with a
    # path parameter is deprecated in Litestar 2.19+).
    should_bypass_for_scope = staticmethod(lambda scope: scope["path"].startswith("/static/"))
    # Public routes that read no session (the verify page, its API, /healthz) need no account either.
    exclude_opt_key = "skip_session"

    def __init__(self, settings: Settings) -> None:
        self.idle = settings.session_idle_minutes * 60
        self.absolute = settings.session_absolute_hours * 3600

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        scope["user"] = None
        session: dict[str, Any] | None = scope.get("session")  # type: ignore[assignment]
        if session and "account_id" in session:
            now = clock.seconds()
            account = None
            fresh = (
                now - session.get("seen", 0) <= self.idle and now - session.get("issued", 0) <= self.absolute
            )
            if fresh:
                account = await load_account(session["account_id"])
            if account is None or account.session_epoch != session.get("epoch"):
                for key in ("account_id", "epoch", "issued", "seen"):
                    session.pop(key, None)
                session["ended"] = True  # lets the log-in page say why
            else:
                scope["user"] = account
                if now - session.get("seen", 0) > SEEN_REFRESH_SECONDS:
                    session["seen"] = now
        await next_app(scope, receive, send)


def start_session(request: Request[Any, Any, Any], account: Account) -> None:
    """Log the account in: a fresh session id, and the epoch that a password change will bump. The
    log-in itself counts as a fresh step (`stepped_up_at`) for actions that ask for a recent one."""
    flashes = request.session.get("_messages", [])
    request.clear_session()
    now = clock.seconds()
    request.set_session(
        {
            "account_id": account.id,
            "epoch": account.session_epoch,
            "issued": now,
            "seen": now,
            STEPPED_UP_AT: now,
            "_messages": flashes,
        }
    )
    rotate_session(request)


def start_second_step(
    request: Request[Any, Any, Any], account: Account, next_path: str = "", offers: list[str] | None = None
) -> None:
    """The password was right and a second step is due (or, for staff without one, enrolment): the
    session names the account but logs nobody in; `next_path` is where the log-in was going, and
    `offers` what the second-step page shows ("code", "passkey"), so that showing it needs no
    account read (the answer to it reads the account and checks everything again)."""
    flashes = request.session.get("_messages", [])
    request.clear_session()
    request.set_session(
        {
            "second_step_for": account.id,
            "second_step_epoch": account.session_epoch,
            "second_step_since": clock.seconds(),
            "second_step_next": next_path,
            "second_step_offers": offers or [],
            "_messages": flashes,
        }
    )
    rotate_session(request)


def pending_second_step(request: Request[Any, Any, Any]) -> int | None:
    """The account whose second step is due in this session, while it has not lapsed (5 minutes)."""
    session = request.session
    account_id = session.get("second_step_for") if session else None
    if not isinstance(account_id, int):
        return None
    if clock.seconds() - session.get("second_step_since", 0) > SECOND_STEP_SECONDS:
        end_second_step(request)
        return None
    return account_id


def second_step_epoch(request: Request[Any, Any, Any]) -> int | None:
    """The session epoch the account had when its password was right (a change since ends the step)."""
    epoch = request.session.get("second_step_epoch") if request.session else None
    return epoch if isinstance(epoch, int) else None


def second_step_offers(request: Request[Any, Any, Any]) -> list[str]:
    """What the second-step page offers, as the password check left it ([] when not recorded)."""
    offers = request.session.get("second_step_offers") if request.session else None
    return [str(offer) for offer in offers] if isinstance(offers, list) else []


def second_step_next(request: Request[Any, Any, Any]) -> str:
    return str(request.session.get("second_step_next") or "") if request.session else ""


def end_second_step(request: Request[Any, Any, Any]) -> None:
    for key in _SECOND_STEP_KEYS:
        request.session.pop(key, None)


def end_session(request: Request[Any, Any, Any]) -> None:
    """Log out: the stored session is deleted and whatever follows (a flash) lives under a new id.

    An empty dict rather than clear_session()'s Empty, which flash() cannot write into."""
    request.clear_session()
    request.set_session({})
    rotate_session(request)
