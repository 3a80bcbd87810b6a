"""Compression for GET pages only (BREACH).

The CSRF token is constant per cookie. A response that reflects what the request sent (a form
posted back with errors, a search box echoing ?q=) next to that token must not be compressed, or an
attacker who can choose the input could read the token from the compressed size.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from litestar.middleware.compression import CompressionMiddleware

if TYPE_CHECKING:
    from litestar.types import Receive, Scope, Send


class PostSafeCompressionMiddleware(CompressionMiddleware):
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        static = scope.get("path", "").startswith("/static/")  # files never echo the request
        if not static and (scope.get("method") not in {"GET", "HEAD"} or scope.get("query_string")):
            await self.app(scope, receive, send)
            return
        await super().__call__(scope, receive, send)
