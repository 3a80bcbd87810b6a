"""GET on the addresses that only take a form's POST.

Without JavaScript, a form with an error is shown again as the answer to its POST, so the address
bar shows the POST's address; reloading it (or opening it from the history) would answer "Not
allowed · 405". So a POST-only handler says on its own route where a reload goes, by the route name
of the page that holds its form: `@post("/{connection_id:int}/accept", opt={"reload": "connection"})`.
That page's path parameters are taken by name from the POST's address. The GET handlers are made here
from the routes that say so; nothing else lists them.

Nothing is read or changed by a reload: the page it leads to applies its own checks (another
person's connection is still a 404).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from litestar import Request, get
from litestar.handlers import HTTPRouteHandler
from litestar.response import Redirect
from litestar.routes import BaseRoute, HTTPRoute

from src.guards import requires_login

RELOAD = "reload"  # the key in a POST handler's `opt`: the route name of the page a reload goes to


def _reload(path: str, target: str) -> HTTPRouteHandler:
    def go_to_the_form(request: Request[Any, Any, Any]) -> Redirect:
        """Page: the page that holds this address's form (303)."""
        return Redirect(path=request.app.route_reverse(target, **request.path_params), status_code=303)

    name = "reload_" + path.strip("/").replace("/", "_").replace("{", "").replace("}", "").replace(":int", "")
    return get(path, name=name, guards=[requires_login], include_in_schema=False, sync_to_thread=False)(
        go_to_the_form
    )


def reload_handlers(routes: Iterable[BaseRoute]) -> list[HTTPRouteHandler]:
    """A GET for every address whose POST handler names a reload target in its `opt`."""
    found = []
    for route in routes:
        if not isinstance(route, HTTPRoute):
            continue
        targets = {handler.opt[RELOAD] for handler in route.route_handlers if RELOAD in handler.opt}
        if not targets:
            continue
        if "GET" in route.methods or len(targets) > 1:
            raise ValueError(f"{route.path}: a reload is for a POST-only address, to one page")
        found.append(_reload(route.path, targets.pop()))
    return found
