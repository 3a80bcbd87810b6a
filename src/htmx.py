"""One source per fragment: a page includes the partial that an htmx request gets alone."""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from litestar import MediaType, Request
from litestar.response import Redirect, Response, Template
from litestar.response.base import ASGIResponse
from litestar.utils.scope.state import ScopeState
from litestar_htmx import ClientRedirect

VARY = {"Vary": "HX-Request"}
# Alike pages kept per app: one per template and set of values (a log-in page's `next` is the
# visitor's to choose, so the oldest goes when a new one comes).
ALIKE_PAGES = 256


def wants_fragment(request: Request[Any, Any, Any]) -> bool:
    """htmx asked for a piece of a page (boosted and history-restore requests want the whole page)."""
    htmx = getattr(request, "htmx", None)
    if not htmx:
        return False
    return not htmx.boosted and not htmx.history_restore_request


def render(
    request: Request[Any, Any, Any],
    page_template: str,
    fragment: str | None = None,
    /,
    status_code: int = 200,
    **context: Any,
) -> Template:
    """The full page, or for htmx the fragment that the page includes."""
    name = fragment if fragment and wants_fragment(request) else page_template
    return Template(
        template_name=name, context=context, status_code=status_code, headers=VARY, media_type=MediaType.HTML
    )


def render_alike(
    request: Request[Any, Any, Any], page_template: str, fragment: str | None = None, /, **context: Any
) -> Template:
    """`render` for a page that is the same for every visitor who is not logged in, but for the CSRF
    token: the log-in page and the second step's form. See `AlikePage`."""
    name = fragment if fragment and wants_fragment(request) else page_template
    return AlikePage(template_name=name, context=context, headers=VARY, media_type=MediaType.HTML)


class AlikePage(Template):
    """Rendered once per app and set of values, then served with the visitor's own CSRF token put in
    place of the one it was rendered with (fast path: `/login` and `/login/second-step` >= 0.30x
    /healthz; Jinja's render was a third of either page). The values are the context's (strings,
    numbers, booleans, empty dicts); the rest of what such a page shows is the same for the whole
    app (the settings, the links). Rendered as usual when the visitor is logged in or has a flash
    message waiting, when the templates may change on disk (development: Jinja's `auto_reload`), or
    when a value is of another kind. The token is 128 random hex characters: found nowhere else."""

    def to_asgi_response(self, app: Any, request: Request[Any, Any, Any], **kwargs: Any) -> ASGIResponse:
        key = _alike_key(self.template_name, self.context)
        environment = request.app.template_engine.engine  # type: ignore[union-attr]
        token = ScopeState.from_scope(request.scope).csrf_token
        if (
            key is None
            or environment.auto_reload
            or not isinstance(token, str)
            or not token
            or request.scope.get("user") is not None
            or _has_flashes(request)
        ):
            return super().to_asgi_response(app, request, **kwargs)
        pages: OrderedDict[tuple[Any, ...], tuple[bytes, bytes]] = environment.alike_pages
        kept = pages.get(key)
        if kept is None:
            response = super().to_asgi_response(app, request, **kwargs)
            pages[key] = (response.body, token.encode())
            if len(pages) > ALIKE_PAGES:
                pages.popitem(last=False)
            return response
        pages.move_to_end(key)
        body, rendered_with = kept
        self.content = body.replace(rendered_with, token.encode())
        return Response.to_asgi_response(self, app, request, **kwargs)


def _has_flashes(request: Request[Any, Any, Any]) -> bool:
    session = request.scope.get("session")
    return isinstance(session, dict) and bool(session.get("_messages"))


def _alike_key(template_name: str | None, context: dict[str, Any]) -> tuple[Any, ...] | None:
    """What an alike page depends on, or None if a value is not one it can be kept for."""
    values = []
    for name, value in sorted(context.items()):
        if value == {} and type(value) is dict:
            value = ()
        elif value is not None and type(value) not in (str, bool, int):
            return None
        values.append((name, value))
    return (template_name, *values)


def redirect(request: Request[Any, Any, Any], path: str) -> Redirect | ClientRedirect:
    """After a POST: a 303 for a plain form, HX-Redirect for htmx so the browser loads the page."""
    if wants_fragment(request):
        response = ClientRedirect(redirect_to=path)
        response.status_code = 200  # not the POST handler's default 201: nothing was created here
        return response
    return Redirect(path=path, status_code=303)
