"""A learner orders a printed copy: chooses a delivery and a billing address (or adds one on the
spot), sees a summary, confirms; the order keeps copies of the addresses; the learner sees the
order's state, can cancel it while it is requested, and gets an email at each step. Bad input gets a
message beside its field; another person's addresses and orders do not exist."""

from __future__ import annotations

from typing import Any

import pytest

from src import printing
from src.tables.accounts import Address
from src.tables.printing import PrintOrder
from tests.support.client import log_in, run
from tests.support.pages import errors_on, html, notices
from tests.support.print_fixtures import PrintWorld, build_print_world, emails_for, place, post, reload
from tests.support.smtp import Mailbox, text_of


@pytest.fixture
def world(client: Any) -> PrintWorld:
    built = run(build_print_world())
    log_in(client, "lena")
    return built


def order_path(world: PrintWorld) -> str:
    return f"/documents/{world.document.id}/print"


def test_choose_addresses_see_the_summary_confirm_and_get_an_email(
    client: Any, world: PrintWorld, mailbox: Mailbox
) -> None:
    document_page = html(client.get(f"/documents/{world.document.id}"))
    assert document_page.css_first(f'a[href="{order_path(world)}"]') is not None
    form = html(client.get(order_path(world)))
    # Only delivery addresses offered for delivery, only billing ones for billing.
    assert {i.attributes["value"] for i in form.css('input[name="delivery"]')} == {str(world.home.id), "new"}
    assert {i.attributes["value"] for i in form.css('input[name="billing"]')} == {str(world.office.id), "new"}
    summary = post(
        client,
        order_path(world),
        {"delivery": str(world.home.id), "billing": str(world.office.id)},
        order_path(world),
    )
    assert summary.status_code == 200
    facts = [node.text() for node in html(summary).css("dl.summary dd")]
    assert "1 Home Street" in facts[1] and "2 Office Road" in facts[2]
    assert run(PrintOrder.count()) == 0  # nothing ordered before the confirmation
    placed = post(
        client,
        f"{order_path(world)}/confirm",
        {"delivery": str(world.home.id), "billing": str(world.office.id)},
        order_path(world),
    )
    assert placed.status_code == 303
    order = run(PrintOrder.objects().first())
    assert placed.headers["location"] == f"/prints/{order.id}"
    assert order.state == "requested" and order.open_for_document == world.document.id
    page = client.get(placed.headers["location"])
    assert "Requested" in html(page).css_first(".order-state").text()
    message = mailbox.wait_for(to="lena@example.com", subject="We have your order")
    assert "1 Home Street" in text_of(message)
    listed = html(client.get("/prints"))
    assert listed.css_first(f"#order-{order.id}") is not None


def test_a_new_address_added_on_the_spot_is_saved_and_used(client: Any, world: PrintWorld) -> None:
    data = {
        "delivery": "new",
        "billing": str(world.office.id),
        "new_line1": "3 Fresh Close",
        "new_town": "York",
        "new_postcode": "yo1 7hh",
        "new_country": "United Kingdom",
    }
    summary = post(client, order_path(world), data, order_path(world))
    assert summary.status_code == 200
    added = run(Address.objects().where(Address.line1 == "3 Fresh Close").first())
    assert added.account == world.people.learner.id and added.is_delivery and not added.is_billing
    assert added.postcode == "YO1 7HH"
    hidden = html(summary).css_first('input[name="delivery"]').attributes["value"]
    assert hidden == str(added.id)
    placed = post(
        client,
        f"{order_path(world)}/confirm",
        {"delivery": hidden, "billing": str(world.office.id)},
        order_path(world),
    )
    assert placed.status_code == 303


def test_the_order_keeps_the_addresses_as_they_were(client: Any, world: PrintWorld) -> None:
    order = run(place(world))
    edited = post(
        client,
        f"/profile/addresses/{world.home.id}",
        {
            "line1": "100 Moved Avenue",
            "town": "Hull",
            "postcode": "HU1 1AA",
            "country": "United Kingdom",
            "is_delivery": "yes",
        },
        "/profile",
    )
    assert edited.status_code == 303
    run(Address.delete().where(Address.id == world.office.id))
    page = html(client.get(f"/prints/{order.id}"))
    facts = [node.text() for node in page.css("dl.summary dd")]
    assert "1 Home Street" in facts[3] and "Moved" not in facts[3]
    assert "2 Office Road" in facts[4]
    stored = run(reload(order.id))
    assert printing.address_lines(stored.delivery_address)[0] == "1 Home Street"


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"delivery": "", "billing": ""}, "delivery"),
        ({"delivery": "99999999999999999999", "billing": "1"}, "delivery"),
        ({"delivery": "-1", "billing": "1"}, "delivery"),
        (
            {"delivery": "new", "billing": "new", "new_line1": "", "new_town": "York", "new_postcode": "YO1"},
            "new_line1",
        ),
        (
            {
                "delivery": "new",
                "billing": "new",
                "new_line1": "x" * 300,
                "new_town": "York",
                "new_postcode": "YO1",
            },
            "new_line1",
        ),
    ],
)
def test_bad_choices_get_a_message_beside_the_field(
    client: Any, world: PrintWorld, data: dict[str, str], field: str
) -> None:
    for htmx in (False, True):
        response = post(client, order_path(world), data, order_path(world), htmx=htmx)
        assert response.status_code == 422
        assert field in errors_on(response)
    assert run(Address.count().where(Address.account == world.people.learner.id)) == 2


def test_another_persons_address_is_refused_beside_the_field(client: Any, world: PrintWorld) -> None:
    foreign = str(world.foreign.id)
    checked = post(
        client, order_path(world), {"delivery": foreign, "billing": str(world.office.id)}, order_path(world)
    )
    assert checked.status_code == 422 and "delivery" in errors_on(checked)
    # A billing-only address is not a delivery address.
    wrong_role = post(
        client,
        order_path(world),
        {"delivery": str(world.office.id), "billing": str(world.office.id)},
        order_path(world),
    )
    assert "delivery" in errors_on(wrong_role)
    # The confirmation checks again (a hand-made post).
    confirmed = post(
        client,
        f"{order_path(world)}/confirm",
        {"delivery": str(world.home.id), "billing": foreign},
        order_path(world),
    )
    assert confirmed.status_code == 422 and "billing" in errors_on(confirmed)
    assert run(PrintOrder.count()) == 0


def test_nul_bytes_are_refused(client: Any, world: PrintWorld) -> None:
    response = post(
        client,
        order_path(world),
        {"delivery": "new", "billing": "new", "new_line1": "a\x00b"},
        order_path(world),
    )
    assert response.status_code == 400
    assert run(PrintOrder.count()) == 0


def test_one_open_order_per_document_then_another_after_cancelling(
    client: Any, world: PrintWorld, mailbox: Mailbox
) -> None:
    order = run(place(world))
    form_page = html(client.get(order_path(world)))
    assert form_page.css_first("form#print-order-form") is None
    assert "already have an order" in form_page.css_first("main .notice").text()
    again = post(
        client,
        f"{order_path(world)}/confirm",
        {"delivery": str(world.home.id), "billing": str(world.office.id)},
        f"/prints/{order.id}",
    )
    assert again.status_code == 422
    assert "already have an order" in html(again).css_first("main .notice").text()
    cancelled = post(client, f"/prints/{order.id}/cancel", {"version": "0"}, f"/prints/{order.id}")
    assert cancelled.status_code == 303
    page = client.get(f"/prints/{order.id}")
    assert "Cancelled" in html(page).css_first(".order-state").text()
    assert html(page).css_first(f'form[action="/prints/{order.id}/cancel"]') is None
    assert (
        "Your order for a printed copy is cancelled"
        in mailbox.wait_for(to="lena@example.com", subject="cancelled")["Subject"]
    )
    assert emails_for(order.id) == ["print_order_cancelled", "print_order_requested"]
    assert run(place(world)).state == "requested"


def test_a_cancel_after_staff_printed_it_says_so(client: Any, world: PrintWorld) -> None:
    order = run(place(world))
    token_page = f"/prints/{order.id}"
    run(printing.mark_printed(order.id, 0))
    late = post(client, f"/prints/{order.id}/cancel", {"version": "0"}, token_page)
    assert late.status_code == 303
    page = client.get(late.headers["location"])
    assert any("changed since you loaded the page" in text for text in notices(page))
    assert run(reload(order.id)).state == "printed"
    assert emails_for(order.id) == ["print_order_printed", "print_order_requested"]


def test_invalid_documents_cannot_be_ordered(client: Any, world: PrintWorld) -> None:
    from src.tables.documents import Document

    run(Document.update({Document.status: "revoked"}).where(Document.id == world.document.id))
    page = html(client.get(order_path(world)))
    assert page.css_first("form#print-order-form") is None
    assert page.css_first(f'a[href="{order_path(world)}"]') is None
    checked = post(
        client,
        order_path(world),
        {
            "delivery": "new",
            "billing": "new",
            "new_line1": "5 Late Road",
            "new_town": "York",
            "new_postcode": "YO1",
        },
        "/prints",
    )
    assert checked.status_code == 422
    assert run(Address.count().where(Address.line1 == "5 Late Road")) == 0
    refused = post(
        client,
        f"{order_path(world)}/confirm",
        {"delivery": str(world.home.id), "billing": str(world.office.id)},
        "/prints",
    )
    assert refused.status_code == 422
    assert "Only a valid document can be printed" in html(refused).css_first("main .notice").text()
    assert run(PrintOrder.count()) == 0
