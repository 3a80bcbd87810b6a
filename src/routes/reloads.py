"""GET on the addresses that only take a form's POST.

Without JavaScript, a form with an error is shown again as the answer to its POST, so the address
bar shows the POST's address; reloading it (or opening it from the history) would answer "Not
allowed · 405". A GET there goes to the page that holds the form instead. Nothing is read or changed
here: the page it leads to applies its own checks (another person's connection is still a 404).
"""

from __future__ import annotations

from typing import Any

from litestar import Request, get
from litestar.handlers import HTTPRouteHandler
from litestar.response import Redirect

from src.guards import requires_login

# POST-only address -> (the page that holds its form, the path parameters that page takes)
RELOADS: dict[str, tuple[str, tuple[str, ...]]] = {
    "/connections/{connection_id:int}/accept": ("connection", ("connection_id",)),
    "/connections/{connection_id:int}/decline": ("connection", ("connection_id",)),
    "/connections/{connection_id:int}/documents": ("connection", ("connection_id",)),
    "/connections/{connection_id:int}/extend": ("connection", ("connection_id",)),
    "/connections/{connection_id:int}/extension/approve": ("connection", ("connection_id",)),
    "/connections/{connection_id:int}/extension/decline": ("connection", ("connection_id",)),
    "/documents/{document_id:int}/verify-page": ("document", ("document_id",)),
    "/documents/{document_id:int}/print/confirm": ("new_print_order", ("document_id",)),
    "/prints/{order_id:int}/cancel": ("print_order", ("order_id",)),
    "/profile/details": ("profile", ()),
    "/profile/contacts": ("profile", ()),
    "/profile/contacts/{contact_id:int}/delete": ("profile", ()),
    "/profile/addresses": ("new_address", ()),
    "/profile/addresses/{address_id:int}": ("edit_address", ("address_id",)),
    "/profile/addresses/{address_id:int}/delete": ("profile", ()),
    "/staff/imports/{batch_id:int}/confirm": ("staff_import", ("batch_id",)),
    "/staff/reports/{report_id:int}/answer": ("staff_report", ("report_id",)),
    "/staff/reports/{report_id:int}/close": ("staff_report", ("report_id",)),
    "/staff/prints/{order_id:int}/printed": ("staff_prints", ()),
    "/staff/prints/{order_id:int}/dispatched": ("staff_prints", ()),
    "/logout": ("dashboard", ()),
}


def _reload(path: str, target: str, params: tuple[str, ...]) -> HTTPRouteHandler:
    def go_to_the_form(request: Request[Any, Any, Any]) -> Redirect:
        """Page: the page that holds this address's form (303)."""
        values = {name: request.path_params[name] for name in params}
        return Redirect(path=request.app.route_reverse(target, **values), status_code=303)

    name = "reload_" + path.strip("/").replace("/", "_").replace("{", "").replace("}", "").replace(":int", "")
    return get(path, name=name, guards=[requires_login], include_in_schema=False, sync_to_thread=False)(
        go_to_the_form
    )


def reload_handlers() -> list[HTTPRouteHandler]:
    return [_reload(path, target, params) for path, (target, params) in RELOADS.items()]
