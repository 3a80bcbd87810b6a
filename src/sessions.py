"""Server-side sessions whose id is replaced at log-in (Litestar's backend reuses the cookie's id).

`rotate_session(request)` marks the request; when the response is written the old entry is
deleted and the session data is stored under a fresh random id, which defeats session fixation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from litestar.middleware.session.server_side import ServerSideSessionBackend, ServerSideSessionConfig
from litestar.types import Empty

if TYPE_CHECKING:
    from litestar.connection import ASGIConnection
    from litestar.types import Message, ScopeSession

_ROTATE = "portal.rotate_session"
_NEW_ID = "portal.session_id"


def rotate_session(connection: ASGIConnection[Any, Any, Any, Any]) -> None:
    connection.scope[_ROTATE] = True  # type: ignore[literal-required]


class RotatingSessionBackend(ServerSideSessionBackend):
    def get_session_id(self, connection: ASGIConnection[Any, Any, Any, Any]) -> str:
        new_id = connection.scope.get(_NEW_ID)  # type: ignore[misc]
        return str(new_id) if new_id else super().get_session_id(connection)

    async def store_in_message(
        self, scope_session: ScopeSession, message: Message, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> None:
        scope = connection.scope
        if not scope_session or scope_session is Empty:
            # Anonymous visitors with nothing to keep get no cookie and no stored entry at all.
            if not connection.cookies.get(self.config.key):
                return
            scope_session = Empty
        if scope.get(_ROTATE) and _NEW_ID not in scope:  # type: ignore[misc]
            old_id = connection.cookies.get(self.config.key)
            if old_id and old_id != "null":
                await self.delete(old_id, store=self.config.get_store_from_app(scope["app"]))
            scope[_NEW_ID] = self.generate_session_id()  # type: ignore[literal-required]
        await super().store_in_message(scope_session, message, connection)


@dataclass
class RotatingSessionConfig(ServerSideSessionConfig):
    _backend_class = RotatingSessionBackend
