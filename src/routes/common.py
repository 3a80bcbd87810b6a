"""Small helpers the route modules share."""

from __future__ import annotations

from typing import Any

from litestar import Request

from src.settings import Settings
from src.tokens import Tokens


def settings_of(request: Request[Any, Any, Any]) -> Settings:
    return request.app.state.settings  # type: ignore[no-any-return]


def tokens_of(request: Request[Any, Any, Any]) -> Tokens:
    return request.app.state.tokens  # type: ignore[no-any-return]


def url(request: Request[Any, Any, Any], name: str, **path_parameters: Any) -> str:
    """The path of a named route (the same names templates give `url_for`)."""
    return request.app.route_reverse(name, **path_parameters)


def client_ip(request: Request[Any, Any, Any]) -> str:
    return request.client.host if request.client else "unknown"


def safe_next(value: str | None, default: str = "/dashboard") -> str:
    """Only local paths: '/x' yes; '//evil', '/\\evil', 'https://evil' no."""
    if not value or not value.startswith("/") or value.startswith(("//", "/\\")) or "\\" in value:
        return default
    if any(ord(c) < 32 for c in value):
        return default
    return value
