"""Download my data (issue 22 item 2): one ZIP, made while it is sent, with a README and every part of
the person's data as JSON and CSV; behind the password, at most 3 in 24 hours (also when requests
race, on both engines), each download told to every address of the account. Two people with data
of every kind are exported: each export holds every row of theirs and nothing of the other's."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import zipfile
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest

from src import accounts, connections, exports, printing, reports
from src.audit import AuditAction
from src.clock import utcnow
from src.documents import issue, printed, record_checks
from src.errors import Refused
from src.exports import archive
from src.tables.accounts import Account, Address, ContactDetail, EmailAddress
from src.tables.connections import AccessEvent, Connection
from src.tables.documents import Document
from src.tables.outbox import OutboxEmail
from src.tables.printing import PrintOrder
from src.tables.reports import Report
from tests.support.client import fresh_client, log_in, post_form, run
from tests.support.clocks import today
from tests.support.factories import (
    OTHER_PASSWORD,
    STRONG_PASSWORD,
    build_connection,
    make_account,
    with_fast_password,
)
from tests.support.pages import errors_on, html
from tests.support.smtp import text_of
from tests.support.two_step import code_at, enrol, key_of, step_now
from tests.test_connections_concurrency import fire_together

PAGE = "/profile/data"


@dataclass
class World:
    """A learner and a third party with data of every kind, every value carrying the world's tag."""

    tag: str
    learner: Account
    third_party: Account
    documents: list[Document]


async def _allow(_: str) -> bool:
    return True


async def build_world(tokens: Any, tz: Any, tag: str, staff: Account) -> World:
    lower = tag.lower()
    learner = await make_account(
        "learner",
        f"lea{lower}",
        f"lea.{lower}@example.com",
        password=None,
        first_name=f"Lea{tag}",
        last_name=tag,
    )
    third_party = await make_account(
        "third_party",
        f"tp{lower}",
        f"tp.{lower}@example.com",
        password=None,
        first_name=f"Tim{tag}",
        last_name=tag,
        company_name=f"{tag} Hiring Ltd",
    )
    await with_fast_password(learner, third_party)
    for person in (learner, third_party):
        await Address(
            account=person.id,
            line1=f"1 {tag} Street",
            town=f"{tag}ton",
            postcode="LS1 1AA",
            is_delivery=True,
            is_billing=True,
        ).save()
        await ContactDetail(
            account=person.id, kind="phone", value="0700 900 000", label=f"{tag} mobile"
        ).save()
        await accounts.add_second_email(tokens, person, f"{person.username}.home@example.com", _allow)
        link = tokens.sign("second-email", {"a": person.id, "e": f"{person.username}.home@example.com"})
        await accounts.confirm_second_email(tokens, link)
    day = today()
    documents = [
        await issue(learner, f"Diploma in {tag}", f"{tag}-1", day - timedelta(days=40)),
        await issue(
            learner,
            f"Award in {tag}",
            f"{tag}-2",
            day - timedelta(days=20),
            valid_until=day + timedelta(days=50),
        ),
    ]
    connection = await build_connection("active", learner, third_party, documents[:1])
    await connections.record_documents_listed(third_party, connection.id, 1)
    await connections.record_document_viewed(third_party, connection.id, documents[0].id)
    await connections.request_extension(
        third_party, connection, day + timedelta(days=90), f"{tag} needs time", day
    )
    await record_checks([documents[0].id, documents[0].id, documents[1].id], utcnow(), tz)
    mine = await reports.submit(learner, documents[0], None, "wrong_name", f"My {tag} name is wrong")
    await reports.answer(staff, mine.id, f"Fixed your {tag} name")
    await reports.submit(third_party, documents[0], connection.id, "other", f"{tag} looks odd")
    home = await Address.objects().where(Address.account == learner.id).first()
    await printing.place_order(learner, documents[0].id, home.id, home.id, day)
    return World(tag, learner, third_party, documents)


@pytest.fixture
def worlds(app: Any, client: Any) -> tuple[World, World]:
    staff = run(make_account("staff", "sam", password=None))
    tokens, tz = app.state.tokens, app.state.settings.tz
    return run(build_world(tokens, tz, "Quokka", staff)), run(build_world(tokens, tz, "Wombat", staff))


STALE = 16  # minutes since the log-in: beyond the 15 a step-up counts for


def download(client: Any, password: str | None = None, code: str | None = None) -> Any:
    """Press the button (with the step-up prompt's password or code, when given)."""
    data = {"step_up_password": password} if password is not None else {}
    if code is not None:
        data["step_up_code"] = code
    return post_form(client, PAGE, data, token_from=PAGE)


def unzip(response: Any) -> dict[str, str]:
    assert response.status_code == 200, response.text[:500]
    assert response.headers["content-type"] == "application/zip"
    assert response.headers["content-disposition"].startswith('attachment; filename="')
    assert response.headers["cache-control"] == "no-store"
    assert "content-length" not in response.headers  # streamed as it is made, its size unknown before
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        assert archive.testzip() is None
        return {name: archive.read(name).decode("utf-8-sig") for name in archive.namelist()}


def table(files: dict[str, str], name: str) -> tuple[list[dict[str, Any]], list[dict[str, str]]]:
    rows = json.loads(files[f"{name}.json"])
    cells = list(csv.DictReader(io.StringIO(files[f"{name}.csv"])))
    assert len(rows) == len(cells), name
    return rows, cells


def ids(rows: list[dict[str, Any]], key: str = "id") -> set[int]:
    return {int(row[key]) for row in rows}


def column(rows: list[dict[str, Any]], key: str = "id") -> set[int]:
    return {int(row[key]) for row in run(rows)}


@pytest.mark.parametrize("page_size", [500, 2], ids=["one-page", "pages-of-two"])
def test_each_export_holds_every_row_of_its_person_and_nothing_of_the_other(
    client, worlds, monkeypatch, page_size
):
    monkeypatch.setattr(archive, "PAGE_SIZE", page_size)  # read a page at a time, however small
    mine, theirs = worlds
    for person in (mine.learner, mine.third_party):
        log_in(client, person.username)
        files = unzip(download(client))
        post_form(client, "/logout", {}, token_from="/dashboard")
        expected_files = {"README.txt"} | {
            f"{s.name}.{kind}" for s in exports.SECTIONS for kind in ("json", "csv")
        }
        assert set(files) == expected_files

        everything = "\n".join(files.values())
        other_values = [theirs.tag, theirs.learner.email, theirs.third_party.email]
        other_values += [printed(d.verify_code) for d in theirs.documents] + [
            d.verify_code for d in theirs.documents
        ]
        for value in other_values:
            assert value.lower() not in everything.lower(), (person.username, value)

        [profile], _ = table(files, "profile")
        assert (profile["id"], profile["email"], profile["second_email"]) == (
            person.id,
            person.email,
            f"{person.username}.home@example.com",
        )
        assert "password_hash" not in profile
        rows, _ = table(files, "addresses")
        assert ids(rows) == column(Address.select(Address.id).where(Address.account == person.id))
        rows, _ = table(files, "contacts")
        assert ids(rows) == column(
            ContactDetail.select(ContactDetail.id).where(ContactDetail.account == person.id)
        )
        rows, _ = table(files, "documents")
        assert ids(rows) == column(Document.select(Document.id).where(Document.owner == person.id))
        their_connections = Connection.select(Connection.id).where(
            (Connection.learner == person.id) | (Connection.third_party == person.id)
        )
        connection_ids = column(their_connections)
        rows, _ = table(files, "connections")
        assert ids(rows) == connection_ids and connection_ids
        rows, _ = table(files, "events")
        events = AccessEvent.select(AccessEvent.id).where(
            (AccessEvent.account == person.id)
            | AccessEvent.connection.is_in(list(connection_ids))
            | (AccessEvent.document.owner == person.id)
        )
        assert ids(rows) == column(events)
        rows, _ = table(files, "reports")
        assert ids(rows) == column(Report.select(Report.id).where(Report.reporter == person.id)) and rows
        rows, _ = table(files, "print_orders")
        assert ids(rows) == column(PrintOrder.select(PrintOrder.id).where(PrintOrder.learner == person.id))
        rows, _ = table(files, "views")
        assert len(rows) == 1 and rows[0]["document"] == mine.documents[0].id
        rows, _ = table(files, "emails")
        held = run(EmailAddress.select().where(EmailAddress.account == person.id).run())
        assert {h["email"] for h in held} == {person.email, f"{person.username}.home@example.com"}
        sent: set[int] = set()
        for address in held:  # since the account has held each address
            sent |= column(
                OutboxEmail.select(OutboxEmail.id).where(
                    (OutboxEmail.recipient == address["email"])
                    & (OutboxEmail.created_at >= address["claimed_at"])
                )
            )
        assert ids(rows) == sent and len(sent) > 5
        assert all(row["subject"] for row in rows)


def test_a_learners_documents_views_and_checks_read_as_issued(client, worlds):
    mine, _ = worlds
    log_in(client, mine.learner.username)
    files = unzip(download(client))
    readme = files["README.txt"]
    assert "NOT an official document" in readme
    assert "verify address" in readme
    rows, cells = table(files, "documents")
    first = next(row for row in rows if row["id"] == mine.documents[0].id)
    assert first["verify_code"] == printed(mine.documents[0].verify_code)
    assert first["verify_address"].endswith(f"/v/{mine.documents[0].verify_code}")
    assert first["status"] == "Valid"
    assert first["content"]["title"] == "Diploma in Quokka"  # the frozen content, in the JSON only
    assert "content" not in cells[0]
    second = next(row for row in rows if row["id"] == mine.documents[1].id)
    assert second["status"].startswith("Document valid until")
    [view], _ = table(files, "views")
    assert view["seen_by"] == "TimQuokka Quokka (Quokka Hiring Ltd)"
    checks, _ = table(files, "verify_checks")
    assert sorted((row["document"], row["checks"]) for row in checks) == [
        (mine.documents[0].id, 2),
        (mine.documents[1].id, 1),
    ]
    [report], _ = table(files, "reports")
    assert (report["message"], report["answer"]) == ("My Quokka name is wrong", "Fixed your Quokka name")
    [order], order_cells = table(files, "print_orders")
    assert order["delivery_address"]["line1"] == "1 Quokka Street"
    assert json.loads(order_cells[0]["delivery_address"])["line1"] == "1 Quokka Street"


def test_a_formula_typed_by_someone_else_reaches_the_csv_as_text(client, worlds):
    mine, _ = worlds
    run(
        Connection.update({Connection.message: '=HYPERLINK("http://evil")'}).where(
            Connection.learner == mine.learner.id
        )
    )
    log_in(client, mine.learner.username)
    files = unzip(download(client))
    rows, cells = table(files, "connections")
    assert rows[0]["message"] == '=HYPERLINK("http://evil")'
    assert cells[0]["message"] == '\'=HYPERLINK("http://evil")'


def test_the_page_says_what_the_copy_is_and_asks_for_nothing_just_after_log_in(client):
    run(make_account("learner", "lena"))
    log_in(client, "lena")
    page = html(client.get(PAGE))
    assert page.css_first("main h1").text() == "Download your data"
    form = page.css_first("form#data-form")
    assert form.attributes["action"] == PAGE and "hx-post" not in form.attributes
    assert form.css_first("#step-up") is None  # the log-in is the recent step
    assert "not an official document" in page.css_first("main").text()
    profile = html(client.get("/profile"))
    assert profile.css_first(f'a[href="{PAGE}"]') is not None


def test_a_stale_session_must_give_the_password_again(client, clock, mailbox):
    lena = run(make_account("learner", "lena"))
    log_in(client, "lena")
    clock.minutes = STALE
    prompt = html(client.get(PAGE)).css_first("form#data-form input#step_up_password")
    assert prompt is not None and prompt.attributes["autocomplete"] == "current-password"
    missing = download(client)
    assert missing.status_code == 422
    assert errors_on(missing) == {
        "step_up_password": "To do this, first confirm it is you: enter your password"
    }
    wrong = download(client, OTHER_PASSWORD)
    assert wrong.status_code == 422
    assert errors_on(wrong) == {"step_up_password": "Your password is not right"}
    assert (
        run(Account.select(Account.failed_logins).where(Account.id == lena.id).first().run())["failed_logins"]
        == 1
    )
    assert run(AccessEvent.count().where(AccessEvent.action == AuditAction.downloaded_data.value).run()) == 0
    assert run(OutboxEmail.count().run()) == 0
    unzip(download(client, STRONG_PASSWORD))
    unzip(download(client))  # the step just given covers the next 15 minutes


def test_with_two_step_on_a_stale_session_needs_a_code(client, clock):
    lena = run(make_account("learner", "lena"))
    run(enrol(lena))
    log_in(client, "lena")
    clock.minutes = STALE
    refused = download(client, STRONG_PASSWORD)
    assert refused.status_code == 422 and "step_up_code" in errors_on(refused)
    unzip(download(client, code=code_at(key_of("lena"), step_now() + 1)))


def test_staff_have_no_download(client):
    run(make_account("staff", "sam"))
    log_in(client, "sam")
    assert client.get(PAGE).status_code == 404
    assert download(client).status_code == 404


def test_logged_out_the_page_asks_to_log_in(client):
    response = client.get(PAGE, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/login")


def test_three_a_day_each_told_to_every_address(client, app, mailbox):
    lena = run(make_account("learner", "lena"))
    run(accounts.add_second_email(app.state.tokens, lena, "lena.home@example.com", _allow))
    run(
        accounts.confirm_second_email(
            app.state.tokens,
            app.state.tokens.sign("second-email", {"a": lena.id, "e": "lena.home@example.com"}),
        )
    )
    mailbox.drain()
    log_in(client, "lena")
    for _ in range(exports.MAX_DOWNLOADS):
        unzip(download(client))
        for address in ("lena@example.com", "lena.home@example.com"):
            notice = mailbox.wait_for(to=address, subject="A copy of your data was downloaded")
            assert "change your password" in text_of(notice)
    refused = download(client)
    assert refused.status_code == 429
    assert "You have downloaded your data 3 times in 24 hours" in html(refused).css_first("#data-form").text()
    assert refused.headers["content-type"].startswith("text/html")
    assert run(AccessEvent.count().where(AccessEvent.action == AuditAction.downloaded_data.value).run()) == 3
    # A day later the first of them no longer counts.
    run(
        AccessEvent.update({AccessEvent.at: AccessEvent.at - timedelta(hours=24, minutes=1)}).where(
            AccessEvent.id
            == run(AccessEvent.select(AccessEvent.id).order_by(AccessEvent.id).first().run())["id"]
        )
    )
    unzip(download(client))


async def _race(person: Account, n: int) -> list[Any]:
    async def once() -> Any:
        try:
            await exports.record_download(person)
        except Refused as refused:
            return refused
        return "ok"

    return await asyncio.gather(*(once() for _ in range(n)))


def test_three_of_many_parallel_downloads_are_counted(client):
    lena = run(make_account("learner", "lena"))
    results = run(_race(lena, 10))
    assert results.count("ok") == exports.MAX_DOWNLOADS
    assert all(isinstance(r, Refused) for r in results if r != "ok")
    assert run(AccessEvent.count().where(AccessEvent.account == lena.id).run()) == exports.MAX_DOWNLOADS
    assert run(OutboxEmail.count().run()) == exports.MAX_DOWNLOADS


def test_three_of_six_browsers_downloading_at_once_get_the_file(client, other_client, app):
    lena = run(make_account("learner", "lena", password=None))
    run(with_fast_password(lena))
    browsers = [client, other_client, *(fresh_client(app) for _ in range(4))]
    tokens = []
    for browser in browsers:
        log_in(browser, "lena")
        page = html(browser.get(PAGE))
        tokens.append(page.css_first('input[name="_csrf_token"]').attributes["value"])
    answers = fire_together(
        *(
            (lambda b=browser, t=token: b.post(PAGE, data={"_csrf_token": t}))
            for browser, token in zip(browsers, tokens, strict=True)
        )
    )
    assert sorted(a.status_code for a in answers) == [200, 200, 200, 429, 429, 429]
    for answer in answers:
        if answer.status_code == 200:
            assert "README.txt" in zipfile.ZipFile(io.BytesIO(answer.content)).namelist()


def test_emails_sent_to_an_address_before_it_was_yours_are_left_out(client):
    lena = run(make_account("learner", "lena"))
    now = utcnow()
    for key, queued in (("before", now - timedelta(days=2)), ("since", now - timedelta(minutes=5))):
        email = OutboxEmail(
            recipient="lena@example.com",
            template="password_changed",
            context={"first_name": key},
            idempotency_key=key,
            created_at=queued,
        )
        run(OutboxEmail.insert(email).run())
    run(
        EmailAddress.update({EmailAddress.claimed_at: now - timedelta(days=1)})
        .where(EmailAddress.account == lena.id)
        .run()
    )
    log_in(client, "lena")
    rows, _ = table(unzip(download(client)), "emails")
    assert sorted(row["subject"] for row in rows) == [
        "A copy of your data was downloaded",
        "Your password has been changed",
    ]
    assert "before" not in {row["id"] for row in rows}


async def _pieces(person: Account, reader: exports.Reader) -> list[bytes]:
    return [piece async for piece in exports.data_archive(person, reader)]


def test_the_zip_is_handed_over_in_pieces_as_it_is_made(app, worlds):
    mine, _ = worlds
    reader = exports.Reader(settings=app.state.settings, templates=app.template_engine)
    pieces = run(_pieces(mine.learner, reader))
    # At least the README, then each section's JSON and CSV files, each handed over once written.
    assert len([piece for piece in pieces if piece]) > 2 * len(exports.SECTIONS)
    with zipfile.ZipFile(io.BytesIO(b"".join(pieces))) as archive_file:
        assert archive_file.testzip() is None
        assert archive_file.namelist()[0] == "README.txt"
