"""Demo print orders, one in each state (requested, printed, dispatched, cancelled), placed and moved
on through the same rules the pages use (their emails are in the mailbox too)."""

from __future__ import annotations

from datetime import date

from src import printing
from src.documents import standing
from src.tables.accounts import Account, Address
from src.tables.documents import Document, DocumentStatus


async def load_demo_prints(people: dict[str, Account], today: date) -> None:
    lena = people["lena"]
    address = await Address.objects().where(Address.account == lena.id).first()
    documents = await (
        Document.objects()
        .where((Document.owner == lena.id) & (Document.status == DocumentStatus.valid.value))
        .order_by(Document.id)
    )
    current = [document for document in documents if standing(document, today).is_current]
    if address is None or len(current) < 2:
        return
    first, second = current[0].id, current[1].id
    dispatched = await printing.place_order(lena, first, address.id, address.id, today)
    await printing.mark_printed(dispatched.id, 0)
    await printing.mark_dispatched(dispatched.id, 1)
    cancelled = await printing.place_order(lena, second, address.id, address.id, today)
    await printing.cancel_order(lena, cancelled.id, 0)
    printed = await printing.place_order(lena, second, address.id, address.id, today)
    await printing.mark_printed(printed.id, 0)
    await printing.place_order(lena, first, address.id, address.id, today)  # waiting in the queue
