"""A learner's print orders: order a printed copy of a valid document (choose or add addresses, see
a summary, confirm), see their orders and their states, cancel one while it is still requested."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.plugins.flash import flash
from litestar.response import Redirect, Template
from litestar_htmx import ClientRedirect

from src import accounts, printing
from src.documents import clean_text, owned_by, standing
from src.errors import Conflict, Refused
from src.forms import Form, read_form
from src.guards import requires_learner
from src.htmx import redirect, render
from src.mail import poke_worker
from src.routes.common import answer_refusal, today, url
from src.tables.accounts import Address
from src.tables.documents import Document

NEW = "new"
CHANGED_TEXT = "This order changed since you loaded the page (staff have printed it, or it was already cancelled). Here is how it stands now."


def _chosen_id(value: str) -> int | None:
    """An address id as sent by the form: whole numbers only, small enough for the database."""
    return int(value) if value.isascii() and value.isdigit() and len(value) <= 9 else None


def _new_address_form(form: Form, delivery: bool, billing: bool) -> Form:
    """The "new address" fields (new_line1 …) as the profile's address form reads them."""
    values = {name: clean_text(form.get(f"new_{name}")) for name in printing.ADDRESS_FIELDS}
    values.update({"is_delivery": "yes" if delivery else "", "is_billing": "yes" if billing else ""})
    return Form(values=values)


class PrintOrderController(Controller):
    guards = [requires_learner]

    async def _own(self, request: Request[Any, Any, Any], document_id: int) -> Document:
        found = await owned_by(request.user, [document_id])
        if not found:
            raise NotFoundException()
        return found[0]

    async def _form_page(
        self,
        request: Request[Any, Any, Any],
        document: Document,
        values: dict[str, str] | None = None,
        errors: dict[str, str] | None = None,
    ) -> Template:
        addresses = await accounts.addresses_of(request.user)
        deliveries = [a for a in addresses if a.is_delivery]
        billings = [a for a in addresses if a.is_billing]
        values = values or {
            "delivery": str(deliveries[0].id) if deliveries else NEW,
            "billing": str(billings[0].id) if billings else NEW,
            "new_country": "United Kingdom",
        }
        return render(
            request,
            "prints/new.html",
            "partials/prints/_order_form.html",
            status_code=422 if errors else 200,
            document=document,
            current=standing(document, today(request)).is_current,
            open_order=bool(await printing.open_orders_for(request.user, [document.id])),
            deliveries=deliveries,
            billings=billings,
            values=values,
            errors=errors or {},
        )

    @get("/documents/{document_id:int}/print", name="new_print_order")
    async def new_order(self, request: Request[Any, Any, Any], document_id: FromPath[int]) -> Template:
        """Page: choose the delivery and billing addresses (or add one). htmx: the form alone."""
        return await self._form_page(request, await self._own(request, document_id))

    @post("/documents/{document_id:int}/print", name="check_print_order")
    async def check_order(self, request: Request[Any, Any, Any], document_id: FromPath[int]) -> Template:
        """Check the choices (a new address is saved to the profile) and show the summary to confirm.
        Errors: the form again (422) with each message beside its field."""
        document = await self._own(request, document_id)
        form = await read_form(request)
        kept = {k: clean_text(v) for k, v in form.kept().items()}
        if not standing(document, today(request)).is_current:
            # The page says why in words; nothing (not even a new address) is saved.
            return await self._form_page(
                request, document, kept, {"document": "Only a valid document can be printed"}
            )
        errors: dict[str, str] = {}
        mine = {a.id: a for a in await accounts.addresses_of(request.user)}
        chosen: dict[str, Address | None] = {}
        for role, flag, message in (
            ("delivery", "is_delivery", "Choose a delivery address, or add a new one"),
            ("billing", "is_billing", "Choose a billing address, or add a new one"),
        ):
            value = form.get(role)
            if value == NEW:
                chosen[role] = None
                continue
            address = mine.get(_chosen_id(value) or 0)
            if address is None or not getattr(address, flag):
                errors[role] = message
            chosen[role] = address
        wants_new = [role for role in ("delivery", "billing") if form.get(role) == NEW]
        if wants_new:
            new = _new_address_form(form, "delivery" in wants_new, "billing" in wants_new)
            accounts.check_address(new)
            errors.update({f"new_{name}": message for name, message in new.errors.items()})
            if not errors:
                await accounts.save_address(request.user, new)
                errors.update({f"new_{name}": message for name, message in new.errors.items()})
            if not errors:
                newest = (await accounts.addresses_of(request.user))[-1]
                for role in wants_new:
                    chosen[role] = newest
        if errors:
            return await self._form_page(request, document, kept, errors)
        return render(
            request,
            "prints/confirm.html",
            "partials/prints/_order_summary.html",
            document=document,
            delivery=chosen["delivery"],
            billing=chosen["billing"],
            added=bool(wants_new),
        )

    @post(
        "/documents/{document_id:int}/print/confirm",
        name="place_print_order",
        opt={"reload": "new_print_order"},
    )
    async def place_order(
        self, request: Request[Any, Any, Any], document_id: FromPath[int]
    ) -> Template | Redirect | ClientRedirect:
        """Place the order, then its page. Refused: the form again (422) with the reason beside its field."""
        document = await self._own(request, document_id)
        form = await read_form(request)
        delivery, billing = _chosen_id(form.get("delivery")), _chosen_id(form.get("billing"))
        try:
            order = await printing.place_order(
                request.user, document.id, delivery or 0, billing or 0, today(request)
            )
        except LookupError:
            raise NotFoundException() from None
        except Refused as refused:
            values = {"delivery": form.get("delivery")[:10], "billing": form.get("billing")[:10]}
            return await self._form_page(
                request, document, values, {refused.field or "document": str(refused)}
            )
        poke_worker(request.app)
        flash(
            request,
            f"Your order {order.id} has been placed. We have emailed you a confirmation.",
            category="success",
        )
        return redirect(request, url(request, "print_order", order_id=order.id))

    @get("/prints", name="print_orders")
    async def list_orders(self, request: Request[Any, Any, Any]) -> Template:
        """Page: the learner's print orders, newest first, each with its state in words."""
        return render(request, "prints/list.html", orders=await printing.orders_of(request.user))

    async def _order(self, request: Request[Any, Any, Any], order_id: int) -> dict[str, Any]:
        order = await printing.order_of(request.user, order_id)
        if order is None:
            raise NotFoundException()
        return order

    @get("/prints/{order_id:int}", name="print_order")
    async def show_order(self, request: Request[Any, Any, Any], order_id: FromPath[int]) -> Template:
        """Page: one order: its state, the addresses as ordered, and a cancel button while requested."""
        return render(request, "prints/order.html", order=await self._order(request, order_id))

    @post("/prints/{order_id:int}/cancel", name="cancel_print_order", opt={"reload": "print_order"})
    async def cancel_order(self, request: Request[Any, Any, Any], order_id: FromPath[int]) -> Response[Any]:
        """Cancel an order still requested, then its page (a race lost to staff: the page with a notice)."""
        await self._order(request, order_id)
        form = await read_form(request)
        version = _chosen_id(form.get("version"))
        if version is None:
            raise NotFoundException()
        try:
            await printing.cancel_order(request.user, order_id, version)
        except LookupError:
            raise NotFoundException() from None
        except Conflict as lost:
            back = url(request, "print_order", order_id=order_id)
            return await answer_refusal(request, lost, changed=CHANGED_TEXT, back=back)
        poke_worker(request.app)
        flash(request, "Your order has been cancelled.", category="success")
        return redirect(request, url(request, "print_order", order_id=order_id))  # type: ignore[return-value]
