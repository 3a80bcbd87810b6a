"""The staff print queue (oldest first, by state): print the duplicate from an order, mark it
printed, then dispatched, each with an email to the learner. Only staff see the queue; a learner sees
only their own orders. A cancel and a "printed" racing give one winner and one email, and parallel
orders of one document leave one requested order, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import asyncio
import io
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from pypdf import PdfReader

from src import printing
from src.audit import AuditAction
from src.errors import Conflict, Refused
from src.tables.connections import AccessEvent
from src.tables.printing import PrintOrder
from tests.support.client import log_in, run
from tests.support.clocks import today
from tests.support.environment import BASE_URL
from tests.support.pages import csrf_token, html, notices
from tests.support.print_fixtures import PrintWorld, build_print_world, emails_for, place, post, reload
from tests.support.smtp import Mailbox


@pytest.fixture
def world(client: Any) -> PrintWorld:
    return run(build_print_world())  # type: ignore[no-any-return]


def queue_ids(client: Any, state: str = "") -> list[int]:
    page = html(client.get("/staff/prints" + (f"?state={state}" if state else "")))
    return [int(li.attributes["id"].removeprefix("order-")) for li in page.css("#print-queue > ol > li")]


def test_staff_print_mark_printed_and_dispatched_and_the_learner_is_told(
    client: Any, other_client: Any, world: PrintWorld, mailbox: Mailbox
) -> None:
    order = run(place(world))
    log_in(client, "sam")
    assert queue_ids(client) == [order.id]
    pdf = client.get(f"/staff/prints/{order.id}/duplicate")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert "Łucja Nguyễn" in PdfReader(io.BytesIO(pdf.content)).pages[0].extract_text()
    logged = run(
        AccessEvent.select(AccessEvent.detail).where(AccessEvent.action == AuditAction.printed_duplicate)
    )
    assert logged == [{"detail": f"print order {order.id}"}]
    printed = post(client, f"/staff/prints/{order.id}/printed", {"version": "0"}, "/staff/prints")
    assert printed.status_code == 303
    assert mailbox.wait_for(to="lena@example.com", subject="has been printed")
    assert queue_ids(client) == []  # the default view: orders waiting to be printed
    assert queue_ids(client, "printed") == [order.id]
    dispatched = post(
        client, f"/staff/prints/{order.id}/dispatched", {"version": "1"}, "/staff/prints?state=printed"
    )
    assert dispatched.status_code == 303
    assert mailbox.wait_for(to="lena@example.com", subject="on its way")
    assert queue_ids(client, "dispatched") == [order.id]
    log_in(other_client, "lena")
    state = html(other_client.get("/prints")).css_first(f"#order-{order.id} .order-state").text()
    assert state.startswith("Dispatched on")
    assert emails_for(order.id) == ["print_order_dispatched", "print_order_printed", "print_order_requested"]


def test_the_queue_is_oldest_first_and_filters_by_state(client: Any, world: PrintWorld) -> None:
    from src.documents import issue

    second = run(issue(world.people.learner, "Second", "P-101", today() - timedelta(days=9)))
    first_order = run(place(world))
    second_order = run(
        printing.place_order(world.people.learner, second.id, world.home.id, world.office.id, today())
    )
    log_in(client, "sam")
    assert queue_ids(client) == [first_order.id, second_order.id]
    run(printing.cancel_order(world.people.learner, first_order.id, 0))
    assert queue_ids(client, "requested") == [second_order.id]
    assert queue_ids(client, "cancelled") == [first_order.id]
    assert queue_ids(client, "all") == [first_order.id, second_order.id]
    assert queue_ids(client, "no-such-state%FF") == [first_order.id, second_order.id]
    fragment = client.get("/staff/prints?state=cancelled", headers={"HX-Request": "true"})
    assert fragment.text.lstrip().startswith('<div id="print-queue">')


def test_a_stale_mark_says_the_order_changed(client: Any, world: PrintWorld) -> None:
    order = run(place(world))
    run(printing.cancel_order(world.people.learner, order.id, 0))
    log_in(client, "sam")
    late = post(client, f"/staff/prints/{order.id}/printed", {"version": "0"}, "/staff/prints")
    assert late.status_code == 303
    assert any(
        "changed since you loaded the page" in text for text in notices(client.get(late.headers["location"]))
    )
    assert run(reload(order.id)).state == "cancelled"
    assert emails_for(order.id) == ["print_order_cancelled", "print_order_requested"]


def test_an_order_of_a_revoked_document_cannot_be_printed(client: Any, world: PrintWorld) -> None:
    from src.tables.documents import Document

    order = run(place(world))
    run(Document.update({Document.status: "revoked"}).where(Document.id == world.document.id))
    log_in(client, "sam")
    assert client.get(f"/staff/prints/{order.id}/duplicate").status_code == 409
    refused = post(client, f"/staff/prints/{order.id}/printed", {"version": "0"}, "/staff/prints")
    assert any("revoked or replaced" in text for text in notices(client.get(refused.headers["location"])))
    assert run(reload(order.id)).state == "requested"


# --- who sees what ------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["olga", "tara", "sam"])
def test_a_learners_orders_do_not_exist_for_anyone_else(client: Any, world: PrintWorld, who: str) -> None:
    order = run(place(world))
    log_in(client, who)
    token = csrf_token(client, "/profile")
    assert client.get(f"/prints/{order.id}").status_code == 404
    assert client.get(f"/documents/{world.document.id}/print").status_code == 404
    for path, data in (
        (f"/prints/{order.id}/cancel", {"version": "0"}),
        (
            f"/documents/{world.document.id}/print",
            {"delivery": str(world.home.id), "billing": str(world.office.id)},
        ),
        (
            f"/documents/{world.document.id}/print/confirm",
            {"delivery": str(world.home.id), "billing": str(world.office.id)},
        ),
    ):
        answer = client.post(path, data={"_csrf_token": token, **data}, follow_redirects=False)
        assert answer.status_code == 404, path
    listed = client.get("/prints")
    if who == "olga":
        assert listed.status_code == 200 and html(listed).css_first(f"#order-{order.id}") is None
    else:
        assert listed.status_code == 404
    assert run(reload(order.id)).state == "requested"
    assert run(PrintOrder.count()) == 1


@pytest.mark.parametrize("who", ["lena", "tara"])
def test_the_queue_is_for_staff_only(client: Any, world: PrintWorld, who: str) -> None:
    order = run(place(world))
    log_in(client, who)
    token = csrf_token(client, "/profile")
    assert client.get("/staff/prints").status_code == 404
    assert client.get(f"/staff/prints/{order.id}/duplicate").status_code == 404
    for action in ("printed", "dispatched"):
        answer = client.post(
            f"/staff/prints/{order.id}/{action}", data={"_csrf_token": token, "version": "0"}
        )
        assert answer.status_code == 404
    assert run(reload(order.id)).state == "requested"
    assert run(AccessEvent.count().where(AccessEvent.action == AuditAction.printed_duplicate)) == 0


@pytest.mark.parametrize("order_id", ["999999", "99999999999999999999"])
def test_unknown_and_huge_order_ids_are_404(client: Any, world: PrintWorld, order_id: str) -> None:
    log_in(client, "sam")
    token = csrf_token(client, "/staff/prints")
    assert client.get(f"/staff/prints/{order_id}/duplicate").status_code == 404
    assert (
        client.post(
            f"/staff/prints/{order_id}/printed", data={"_csrf_token": token, "version": "0"}
        ).status_code
        == 404
    )
    log_in(client, "lena")
    assert client.get(f"/prints/{order_id}").status_code == 404


def test_a_bad_version_is_404(client: Any, world: PrintWorld) -> None:
    order = run(place(world))
    log_in(client, "sam")
    token = csrf_token(client, "/staff/prints")
    for version in ("", "x", "9" * 20, "-1"):
        answer = client.post(
            f"/staff/prints/{order.id}/printed", data={"_csrf_token": token, "version": version}
        )
        assert answer.status_code == 404
    assert run(reload(order.id)).state == "requested"


def test_reloading_a_post_only_address_goes_to_its_page(client: Any, world: PrintWorld) -> None:
    order = run(place(world))
    log_in(client, "lena")
    assert (
        client.get(f"/prints/{order.id}/cancel", follow_redirects=False).headers["location"]
        == f"/prints/{order.id}"
    )
    confirm = client.get(f"/documents/{world.document.id}/print/confirm", follow_redirects=False)
    assert (
        confirm.status_code == 303 and confirm.headers["location"] == f"/documents/{world.document.id}/print"
    )
    log_in(client, "sam")
    assert (
        client.get(f"/staff/prints/{order.id}/printed", follow_redirects=False).headers["location"]
        == "/staff/prints"
    )


# --- races ----------------------------------------------------------------------------------------


async def _cancel_and_print(world: PrintWorld, order_id: int) -> list[Any]:
    return await asyncio.gather(
        printing.cancel_order(world.people.learner, order_id, 0),
        printing.mark_printed(order_id, 0),
        return_exceptions=True,
    )


def test_cancel_and_mark_printed_together_one_winner_one_email(
    client: Any, world: PrintWorld, mailbox: Mailbox
) -> None:
    for _ in range(5):
        order = run(place(world))
        results = run(_cancel_and_print(world, order.id))
        winners = [r for r in results if r is None]
        assert len(winners) == 1, results
        assert sum(isinstance(r, Conflict) for r in results) == 1, results
        state = run(reload(order.id)).state
        assert state in ("cancelled", "printed")
        assert emails_for(order.id) == sorted(["print_order_requested", f"print_order_{state}"])
        if state == "printed":
            run(printing.mark_dispatched(order.id, 1))


def test_cancel_and_mark_printed_over_http_one_winner_one_email(
    client: Any, app: Litestar, world: PrintWorld, mailbox: Mailbox
) -> None:
    order = run(place(world))
    browsers = []
    for login, page in (("lena", f"/prints/{order.id}"), ("sam", "/staff/prints")):
        browser = TestClient(app, base_url=BASE_URL)
        log_in(browser, login)
        browsers.append((browser, csrf_token(browser, page)))
    paths = [f"/prints/{order.id}/cancel", f"/staff/prints/{order.id}/printed"]
    barrier = threading.Barrier(2)

    def send(n: int) -> int:
        browser, token = browsers[n]
        barrier.wait(timeout=10)
        answer = browser.post(paths[n], data={"_csrf_token": token, "version": "0"}, follow_redirects=False)
        return answer.status_code  # type: ignore[no-any-return]

    with ThreadPoolExecutor(2) as pool:
        assert sorted(pool.map(send, range(2))) == [303, 303]
    state = run(reload(order.id)).state
    assert state in ("cancelled", "printed")
    assert emails_for(order.id) == sorted(["print_order_requested", f"print_order_{state}"])
    subject = "cancelled" if state == "cancelled" else "has been printed"
    mailbox.wait_for(to="lena@example.com", subject="We have your order")
    mailbox.wait_for(to="lena@example.com", subject=subject)
    other = "has been printed" if state == "cancelled" else "cancelled"
    with pytest.raises(AssertionError):
        mailbox.wait_for(to="lena@example.com", subject=other, timeout=0.5)


async def _place_many(world: PrintWorld, n: int) -> list[Any]:
    return await asyncio.gather(*[place(world) for _ in range(n)], return_exceptions=True)


def test_parallel_orders_of_one_document_leave_one_requested(client: Any, world: PrintWorld) -> None:
    results = run(_place_many(world, 6))
    assert sum(isinstance(r, PrintOrder) for r in results) == 1, results
    assert sum(isinstance(r, Refused) for r in results) == 5, results
    assert run(PrintOrder.count()) == 1


def test_parallel_confirmations_over_http_place_one_order(
    client: Any, app: Litestar, world: PrintWorld
) -> None:
    browsers = []
    path = f"/documents/{world.document.id}/print"
    for _ in range(4):
        browser = TestClient(app, base_url=BASE_URL)
        log_in(browser, "lena")
        browsers.append((browser, csrf_token(browser, path)))
    barrier = threading.Barrier(len(browsers))
    data = {"delivery": str(world.home.id), "billing": str(world.office.id)}

    def send(pair: tuple[Any, str]) -> int:
        barrier.wait(timeout=10)
        answer = pair[0].post(
            f"{path}/confirm", data={"_csrf_token": pair[1], **data}, follow_redirects=False
        )
        return answer.status_code  # type: ignore[no-any-return]

    with ThreadPoolExecutor(len(browsers)) as pool:
        assert sorted(pool.map(send, browsers)) == [303, 422, 422, 422]
    assert run(PrintOrder.count()) == 1
    order = run(PrintOrder.objects().first())
    assert emails_for(order.id) == ["print_order_requested"]


def test_the_demo_has_print_orders_in_every_state(client: Any, settings: Any, capsys: Any) -> None:
    from src.demo import load_demo

    run(load_demo(settings))
    states = {row["state"] for row in run(PrintOrder.select(PrintOrder.state))}
    assert states == set(printing.STATES)
    requested = run(PrintOrder.objects().where(PrintOrder.state == "requested").first())
    assert run(PrintOrder.count().where(PrintOrder.open_for_document == requested.document)) == 1
