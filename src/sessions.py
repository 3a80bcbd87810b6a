"""Server-side sessions whose id is replaced at log-in (Litestar's backend reuses the cookie's id),
written only when they change, and ended for good.

`rotate_session(request)` marks the request; when the response is written the old entry is
deleted and the session data is stored under a fresh random id, which defeats session fixation.

A request that did not change its session never writes it back (no store write on most page
loads). Ending a session (log-out, and every rotation) also writes an "ended" marker under the old
id that nothing else ever overwrites, and a session whose marker exists loads as empty: so a
request that was in flight during the log-out and writes the old session back (it changed its
"seen" time, say) cannot bring the log-in back, on the file store or on Redis, in any process.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from litestar.middleware.session.server_side import ServerSideSessionBackend, ServerSideSessionConfig
from litestar.stores.base import StorageObject
from litestar.stores.file import FileStore, _safe_file_name
from litestar.stores.redis import RedisStore
from litestar.types import Empty

if TYPE_CHECKING:
    from litestar.connection import ASGIConnection
    from litestar.stores.base import Store
    from litestar.types import Message, ScopeSession

_ROTATE = "portal.rotate_session"
_NEW_ID = "portal.session_id"
_LOADED = "portal.session_loaded"


def _read_file(path: Any) -> bytes | None:
    try:
        with open(str(path), "rb") as file:
            return file.read()
    except FileNotFoundError:
        return None


def _file_exists(path: Any) -> bool:
    return os.path.exists(str(path))  # the store's paths are anyio's, whose checks hop to a thread


class SessionFileStore(FileStore):
    """Litestar's file store (sessions shared by every process on one machine, without Redis), reading
    inline: a session file is a few hundred bytes in the page cache, read in microseconds, where
    each read's round trip to a worker thread cost more than the rest of the session middleware
    (a page load asks twice: for the session and for its "ended" marker). Writes, rarer, keep the
    store's worker thread and its atomic rename."""

    @staticmethod
    async def _load_from_path(path: Any) -> StorageObject | None:
        data = _read_file(path)
        return None if data is None else StorageObject.from_bytes(data)

    async def exists(self, key: str) -> bool:
        return _file_exists(self._path_from_key(key))

    def _plain_path(self, key: str) -> str:
        # A plain string: the store's own paths are anyio's, whose every join costs a wrapper.
        return os.path.join(str(self.path), _safe_file_name(key))

    async def get_session(self, key: str) -> tuple[bytes | None, bool]:
        """The session's data and whether its "ended" marker exists, as one page load needs them."""
        data = _read_file(self._plain_path(key))
        if data is None:
            return None, False
        stored = StorageObject.from_bytes(data)
        if stored.expired:
            await self.delete(key)
            return None, False
        return stored.data, _file_exists(self._plain_path(_ended_key(key)))


class SessionRedisStore(RedisStore):
    """Litestar's Redis store, reading a session and its "ended" marker in one round trip (MGET)."""

    async def get_session(self, key: str) -> tuple[bytes | None, bool]:
        data, ended = await self._redis.mget(self._make_key(key), self._make_key(_ended_key(key)))
        return (data.encode() if isinstance(data, str) else data), ended is not None


async def _get_session(store: Store, key: str) -> tuple[bytes | None, bool]:
    """(data, ended) in one read where the store can (the two above), else in two."""
    read_both = getattr(store, "get_session", None)
    if read_both is not None:
        return await read_both(key)  # type: ignore[no-any-return]
    data = await store.get(key)
    return data, data is not None and await store.exists(_ended_key(key))


def rotate_session(connection: ASGIConnection[Any, Any, Any, Any]) -> None:
    connection.scope[_ROTATE] = True  # type: ignore[literal-required]


def _ended_key(session_id: str) -> str:
    return f"ended-{session_id}"


class RotatingSessionBackend(ServerSideSessionBackend):
    def get_session_id(self, connection: ASGIConnection[Any, Any, Any, Any]) -> str:
        new_id = connection.scope.get(_NEW_ID)  # type: ignore[misc]
        return str(new_id) if new_id else super().get_session_id(connection)

    async def load_from_connection(self, connection: ASGIConnection[Any, Any, Any, Any]) -> dict[str, Any]:
        session_id = connection.cookies.get(self.config.key)
        if not session_id or session_id == "null":
            return {}
        store = self.config.get_store_from_app(connection.scope["app"])
        data, ended = await _get_session(store, session_id)
        if data is None:
            return {}
        if ended:
            # Whatever this request keeps (a flash) goes under a new id, never under the ended one.
            connection.scope[_NEW_ID] = self.generate_session_id()  # type: ignore[literal-required]
            return {}
        connection.scope[_LOADED] = data  # type: ignore[literal-required]
        return self.deserialize_data(data)

    async def end(self, session_id: str, store: Store) -> None:
        """Delete a session for good: the marker first, so no moment exists where it could return."""
        expires_in = int(self.config.max_age) if self.config.max_age is not None else None
        await store.set(_ended_key(session_id), b"1", expires_in=expires_in)
        await self.delete(session_id, store=store)

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
                await self.end(old_id, store=self.config.get_store_from_app(scope["app"]))
            scope[_NEW_ID] = self.generate_session_id()  # type: ignore[literal-required]
        elif scope_session is not Empty and self.serialize_data(scope_session, scope) == scope.get(_LOADED):  # type: ignore[misc]
            return  # unchanged: the stored copy and the browser's cookie are already right
        await super().store_in_message(scope_session, message, connection)


@dataclass
class RotatingSessionConfig(ServerSideSessionConfig):
    _backend_class = RotatingSessionBackend
