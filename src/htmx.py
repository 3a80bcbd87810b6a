"""One source per fragment: a page includes the partial that an htmx request gets alone."""

from __future__ import annotations

from typing import Any

from litestar import MediaType, Request
from litestar.response import Redirect, Template
from litestar_htmx import ClientRedirect

VARY = {"Vary": "HX-Request"}


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


def redirect(request: Request[Any, Any, Any], path: str) -> Redirect | ClientRedirect:
    """After a POST: a 303 for a plain form, HX-Redirect for htmx so the browser loads the page."""
    if wants_fragment(request):
        response = ClientRedirect(redirect_to=path)
        response.status_code = 200  # not the POST handler's default 201: nothing was created here
        return response
    return Redirect(path=path, status_code=303)
