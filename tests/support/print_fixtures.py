"""Shared set-up for the print order tests: a learner with a valid document and addresses (one for
delivery, one for billing), another learner with an address of her own, a third party and staff."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from src import printing
from src.documents import issue
from src.tables.accounts import Account, Address
from src.tables.documents import Document
from src.tables.outbox import OutboxEmail
from src.tables.printing import PrintOrder
from tests.support.client import run
from tests.support.clocks import today
from tests.support.factories import People, prepare_people
from tests.support.pages import csrf_token


@dataclass
class PrintWorld:
    people: People
    document: Document
    home: Address  # lena's delivery address
    office: Address  # lena's billing address
    foreign: Address  # olga's address (delivery and billing)


async def _address(account: Account, line1: str, *, delivery: bool, billing: bool) -> Address:
    address = Address(
        account=account.id,
        line1=line1,
        town="Leeds",
        postcode="LS1 1AA",
        is_delivery=delivery,
        is_billing=billing,
    )
    await address.save()
    return address


async def build_print_world() -> PrintWorld:
    people = await prepare_people()
    document = await issue(
        people.learner, "Level 3 Diploma in Data", "P-100", date(2026, 3, 14), name_as_printed="Łucja Nguyễn"
    )
    return PrintWorld(
        people=people,
        document=document,
        home=await _address(people.learner, "1 Home Street", delivery=True, billing=False),
        office=await _address(people.learner, "2 Office Road", delivery=False, billing=True),
        foreign=await _address(people.other_learner, "9 Elsewhere Lane", delivery=True, billing=True),
    )


async def place(world: PrintWorld) -> PrintOrder:
    return await printing.place_order(
        world.people.learner, world.document.id, world.home.id, world.office.id, today()
    )


async def reload(order_id: int) -> PrintOrder:
    order = await PrintOrder.objects().where(PrintOrder.id == order_id).first()
    assert order is not None
    return order


def emails_for(order_id: int) -> list[str]:
    rows = run(
        OutboxEmail.select(OutboxEmail.template).where(
            OutboxEmail.idempotency_key.like(f"print_order:{order_id}:%")
        )
    )
    return sorted(row["template"] for row in rows)


def post(client: Any, path: str, data: dict[str, str], token_from: str, htmx: bool = False) -> Any:
    body = {"_csrf_token": csrf_token(client, token_from), **data}
    headers = {"HX-Request": "true"} if htmx else {}
    return client.post(path, data=body, headers=headers, follow_redirects=False)
