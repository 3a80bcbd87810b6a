"""Guards: small named checks on the logged-in account, applied per controller or handler.

Each is a coroutine function: Litestar runs a plain function guard in a worker thread, a round trip
that cost more than the check itself on every page."""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, NotFoundException
from litestar.handlers.base import BaseRouteHandler

from src.errors import TwoStepRequired
from src.tables.accounts import Role


def _logged_in(connection: ASGIConnection[Any, Any, Any, Any]) -> Any:
    if connection.user is None:
        raise NotAuthorizedException("Log in to continue.")
    return connection.user


async def requires_login(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    _logged_in(connection)


def _requires_role(role: Role) -> Any:
    async def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        if _logged_in(connection).role != role.value:
            # Pages of another role do not exist for this person.
            raise NotFoundException()

    guard.__name__ = f"requires_{role.value}"
    return guard


_requires_staff_role = _requires_role(Role.staff)


async def requires_staff(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
    """Staff pages, for staff with two-step sign-in only: a password alone never reaches them (a
    staff account without it is sent to set it up, src.errors.TwoStepRequired)."""
    await _requires_staff_role(connection, handler)
    if connection.user.two_step_since is None:
        raise TwoStepRequired("Set up two-step sign-in to continue.")


requires_learner = _requires_role(Role.learner)
requires_third_party = _requires_role(Role.third_party)


async def requires_learner_or_third_party(
    connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler
) -> None:
    """Connections are for learners and third parties; for staff they do not exist."""
    if _logged_in(connection).role not in (Role.learner.value, Role.third_party.value):
        raise NotFoundException()
