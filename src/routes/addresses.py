"""Manage: postal addresses (billing and/or delivery for printed copies)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.plugins.flash import flash
from litestar.response import Redirect, Template
from litestar_htmx import ClientRedirect

from src import accounts
from src.forms import Form, read_form
from src.guards import requires_login
from src.htmx import redirect, render, wants_fragment
from src.routes.common import url
from src.tables.accounts import Address


def _address_page(
    request: Request[Any, Any, Any], address: Address | None = None, form: Form | None = None
) -> Template:
    """The address form: new (`address` None) or filled in from `address`; with `form`, again after
    it was refused (422, what was typed kept)."""
    if form is not None:
        values = form.kept()
    elif address is not None:
        values = accounts.address_values(address)
    else:
        values = {"country": "United Kingdom"}
    action = url(request, "update_address", address_id=address.id) if address else url(request, "add_address")
    return render(
        request,
        "profile/address.html",
        "partials/profile/_address_form.html",
        status_code=422 if form else 200,
        values=values,
        errors=form.errors if form else {},
        action=action,
        address=address,
    )


def _back_to_addresses(request: Request[Any, Any, Any]) -> str:
    return url(request, "profile") + "#addresses"


class AddressController(Controller):
    path = "/profile/addresses"
    guards = [requires_login]

    @get("/new", name="new_address")
    async def show_new_address(self, request: Request[Any, Any, Any]) -> Template:
        """Page: the address form. htmx: the form alone."""
        return _address_page(request)

    @post("/", name="add_address", opt={"reload": "new_address"})
    async def add_address(self, request: Request[Any, Any, Any]) -> Template | Redirect | ClientRedirect:
        """Add an address, then the profile page. Errors: 422, values kept."""
        form = await read_form(request)
        await accounts.save_address(request.user, form)
        if not form.ok:
            return _address_page(request, None, form)
        flash(request, "Address added.", category="success")
        return redirect(request, _back_to_addresses(request))

    @get("/{address_id:int}/edit", name="edit_address")
    async def show_edit_address(self, request: Request[Any, Any, Any], address_id: FromPath[int]) -> Template:
        """Page: the address form filled in (someone else's address answers 404)."""
        address = await accounts.address_of(request.user, address_id)
        if address is None:
            raise NotFoundException()
        return _address_page(request, address)

    @post("/{address_id:int}", name="update_address", opt={"reload": "edit_address"})
    async def update_address(
        self, request: Request[Any, Any, Any], address_id: FromPath[int]
    ) -> Template | Redirect | ClientRedirect:
        """Save the address, then the profile page. Errors: 422, values kept."""
        address = await accounts.address_of(request.user, address_id)
        if address is None:
            raise NotFoundException()
        form = await read_form(request)
        await accounts.save_address(request.user, form, address)
        if not form.ok:
            return _address_page(request, address, form)
        flash(request, "Address saved.", category="success")
        return redirect(request, _back_to_addresses(request))

    @post("/{address_id:int}/delete", name="remove_address", opt={"reload": "profile"})
    async def remove_address(
        self, request: Request[Any, Any, Any], address_id: FromPath[int]
    ) -> Template | Redirect:
        """Remove an address. htmx: the addresses section; otherwise back to the profile page."""
        if not await accounts.remove_address(request.user, address_id):
            raise NotFoundException()
        if wants_fragment(request):
            return render(
                request,
                "profile/index.html",
                "partials/profile/_addresses.html",
                addresses=await accounts.addresses_of(request.user),
            )
        flash(request, "Address removed.", category="success")
        return Redirect(path=_back_to_addresses(request), status_code=303)
