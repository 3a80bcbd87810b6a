"""The authorization matrix for connections (issue 3): each action, for each role, in each state, on
one's own connection and on someone else's, either works or is refused with the right answer.

Read EXPECTED as the matrix itself: a row per (action, role), a column per connection state, for the
person's own connection. The rest follows from a few rules that hold everywhere:
- someone else's connection answers 404 and nothing changes (the list just does not show it; starting
  a new connection is about one's own pair, so another pair's connection never blocks it);
- staff: every connection page is 404 (connections do not exist for them);
- anonymous: a redirect to the log-in page (htmx: HX-Redirect), and nothing changes.

Refusals are checked as a plain form and as htmx in the same test (nothing changes, so nothing needs
rebuilding); actions that work run once per variant.

Each case is a test of its own, but the cases are ordered by the connection they are about, and the
database a case built is kept for the next one about the same connection when the case changed
nothing the snapshot sees (a refusal, a read); otherwise, or when it failed, the next one starts
from empty tables again. Every case logs in afresh, in a browser of its own.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from src.app import create_app
from src.connections import shared_documents
from src.routes.common import CONFLICT_TEXT
from src.tables.connections import AccessEvent, Connection, ExtensionRequest, SharedDocument
from src.tables.outbox import OutboxEmail
from tests.support.cleaning import start_clean
from tests.support.client import fresh_client, log_in, make_settings, open_client, run
from tests.support.clocks import date_fields, today
from tests.support.factories import STATES, People, build_connection, make_document, prepare_people
from tests.support.pages import csrf_token, errors_on, html
from tests.support.smtp import Mailbox, SMTPServer

# Outcomes
OK = "works"
CONFLICT = "conflict"  # wrong state: 409 for htmx, 303 back to the connection with a flash for a form
NOT_FOUND = "404"
LOGIN = "log in"
REFUSED = "422"  # refused beside a field: a second open connection, or more time once access has ended
SHOWN = "documents shown"  # documents: the shared documents are listed
HIDDEN = "documents hidden"  # documents: the page works but lists no shared document
ABSENT = "not listed"  # list: the page works but does not show the connection

#                                         awaiting_tp  awaiting_l  active     expired    declined   cancelled
EXPECTED: dict[tuple[str, str], tuple[str, ...]] = {
    ("list", "learner"):                 (OK,         OK,         OK,        OK,        OK,        OK),
    ("list", "third_party"):             (OK,         OK,         OK,        OK,        OK,        OK),
    ("view", "learner"):                 (OK,         OK,         OK,        OK,        OK,        OK),
    ("view", "third_party"):             (OK,         OK,         OK,        OK,        OK,        OK),
    ("documents", "learner"):            (SHOWN,      SHOWN,      SHOWN,     SHOWN,     SHOWN,     SHOWN),
    ("documents", "third_party"):        (HIDDEN,     HIDDEN,     SHOWN,     HIDDEN,    HIDDEN,    HIDDEN),
    ("accept", "learner"):               (CONFLICT,   OK,         CONFLICT,  CONFLICT,  CONFLICT,  CONFLICT),
    ("accept", "third_party"):           (OK,         CONFLICT,   CONFLICT,  CONFLICT,  CONFLICT,  CONFLICT),
    ("decline", "learner"):              (CONFLICT,   OK,         CONFLICT,  CONFLICT,  CONFLICT,  CONFLICT),
    ("decline", "third_party"):          (OK,         CONFLICT,   CONFLICT,  CONFLICT,  CONFLICT,  CONFLICT),
    ("confirm_cancel", "learner"):       (OK,         OK,         OK,        OK,        CONFLICT,  CONFLICT),
    ("confirm_cancel", "third_party"):   (OK,         OK,         OK,        OK,        CONFLICT,  CONFLICT),
    ("cancel", "learner"):               (OK,         OK,         OK,        OK,        CONFLICT,  CONFLICT),
    ("cancel", "third_party"):           (OK,         OK,         OK,        OK,        CONFLICT,  CONFLICT),
    ("extension_form", "learner"):       (NOT_FOUND,  NOT_FOUND,  NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND),
    ("extension_form", "third_party"):   (CONFLICT,   CONFLICT,   OK,        OK,        CONFLICT,  CONFLICT),
    ("request_extension", "learner"):    (NOT_FOUND,  NOT_FOUND,  NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND),
    ("request_extension", "third_party"): (CONFLICT,  CONFLICT,   OK,        REFUSED,   CONFLICT,  CONFLICT),
    ("approve_extension", "learner"):    (CONFLICT,   CONFLICT,   OK,        OK,        CONFLICT,  CONFLICT),
    ("approve_extension", "third_party"): (NOT_FOUND, NOT_FOUND,  NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND),
    ("decline_extension", "learner"):    (CONFLICT,   CONFLICT,   OK,        OK,        CONFLICT,  CONFLICT),
    ("decline_extension", "third_party"): (NOT_FOUND, NOT_FOUND,  NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND),
    ("extend", "learner"):               (CONFLICT,   CONFLICT,   OK,        OK,        CONFLICT,  CONFLICT),
    ("extend", "third_party"):           (NOT_FOUND,  NOT_FOUND,  NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND),
    ("change_documents", "learner"):     (OK,         CONFLICT,   OK,        OK,        CONFLICT,  CONFLICT),
    ("change_documents", "third_party"): (NOT_FOUND,  NOT_FOUND,  NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND),
    ("add_connection", "learner"):       (NOT_FOUND,  NOT_FOUND,  NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND),
    ("add_connection", "third_party"):   (REFUSED,    REFUSED,    REFUSED,   OK,        OK,        OK),
    ("share", "learner"):                (REFUSED,    REFUSED,    REFUSED,   OK,        OK,        OK),
    ("share", "third_party"):            (NOT_FOUND,  NOT_FOUND,  NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND),
}  # fmt: skip

ACTIONS = sorted({action for action, _role in EXPECTED}, key=[a for a, _r in EXPECTED].index)
STARTING = {"add_connection", "share"}  # not about one connection: about the pair of people


def expected(action: str, role: str, owner: str, state: str) -> str:
    """The answer for one cell, from EXPECTED and the rules in the module docstring."""
    if role == "anonymous":
        return LOGIN
    if role == "staff":
        return NOT_FOUND
    own = EXPECTED[(action, role)][STATES.index(state)]
    if owner == "own" or own == NOT_FOUND:
        return own
    if action == "list":
        return ABSENT
    return OK if action in STARTING else NOT_FOUND


def _cases() -> list[Any]:
    cases = []
    for action in ACTIONS:
        for role in ("learner", "third_party", "staff", "anonymous"):
            # Staff and anonymous people are on no connection: "own" is the learner's and third party's.
            for owner in ("own", "other") if role in ("learner", "third_party") else ("own",):
                for state in STATES:
                    answer = expected(action, role, owner, state)
                    # What works runs once per variant; a refusal checks both variants in one go.
                    modes = ("form", "htmx") if answer in (OK, SHOWN, HIDDEN, ABSENT) else ("both",)
                    for mode in modes:
                        cases.append(
                            pytest.param(
                                action,
                                role,
                                owner,
                                state,
                                answer,
                                mode,
                                id=f"{action}-{role}-{owner}-{state}-{mode}->{answer}",
                            )
                        )
    return sorted(cases, key=_built_together)


PENDING_EXTENSION = ("approve_extension", "decline_extension")  # a request for more time is waiting
POSTS = {"accept", "decline", "cancel", "request_extension", "approve_extension", "decline_extension"}
POSTS |= {"extend", "change_documents", "add_connection", "share"}


def world_key(action: str, owner: str, state: str) -> tuple[str, str, bool]:
    """What `_build` makes for a case: cases with the same key can share one build."""
    return (owner, state, action in PENDING_EXTENSION)


def _built_together(case: Any) -> tuple[Any, ...]:
    """Cases about the same connection side by side, those likely to change something last (their
    world is rebuilt after them), otherwise in the order written."""
    action, role, owner, state, answer, _mode = case.values
    changes = (answer == OK and action in POSTS) or (role == "third_party" and answer in (OK, SHOWN))
    return (*world_key(action, owner, state), changes)


CASES = _cases()


@pytest.fixture(scope="module")
def matrix_app(smtp_server: SMTPServer, session_app: Litestar) -> Iterator[Litestar]:
    """One app for the whole matrix, its lifespan running for the module (each test gets a browser of
    its own): its template environment compiles each page once, not once per case. No mail worker:
    this matrix is about answers and rows; the emails have their own tests."""
    with open_client(create_app(make_settings(smtp_server.port, run_mail_worker="false"))) as holder:
        yield holder.app
    _KEPT.clear()


@pytest.fixture
def matrix_client(matrix_app: Litestar, mailbox: Mailbox) -> TestClient[Litestar]:
    return fresh_client(matrix_app)


@pytest.fixture(autouse=True)
def clean_db(session_app: Litestar) -> None:
    """Instead of the suite's: this module empties the tables itself, when it builds (`world_for`)."""


# --- requests --------------------------------------------------------------------------------------


@dataclass
class World:
    people: People
    connection: Connection  # the connection the action is about
    mine: list[int]  # the learner's documents (the first is shared when the state shares documents)
    day: date
    extra: dict[str, Any] = field(default_factory=dict)


def request_for(action: str, world: World) -> tuple[str, str, dict[str, Any]]:
    """(method, path, form data) for an action. The data is valid for the action, whoever sends it."""
    cid, day, people = world.connection.id, world.day, world.people
    base = f"/connections/{cid}"
    return {
        "list": ("GET", "/connections", {}),
        "view": ("GET", base, {}),
        "documents": ("GET", base, {}),
        "accept": (
            "POST",
            f"{base}/accept",
            {"documents": [str(i) for i in world.mine], **date_fields("expires_on", day + timedelta(20))},
        ),
        "decline": ("POST", f"{base}/decline", {}),
        "confirm_cancel": ("GET", f"{base}/cancel", {}),
        "cancel": ("POST", f"{base}/cancel", {}),
        "extension_form": ("GET", f"{base}/extension", {}),
        "request_extension": (
            "POST",
            f"{base}/extension",
            {**date_fields("wanted_until", day + timedelta(60)), "message": "Audit next month"},
        ),
        "approve_extension": (
            "POST",
            f"{base}/extension/approve",
            date_fields("new_expiry", day + timedelta(45)),
        ),
        "decline_extension": ("POST", f"{base}/extension/decline", {}),
        "extend": ("POST", f"{base}/extend", date_fields("extend_to", day + timedelta(50))),
        "change_documents": ("POST", f"{base}/documents", {"documents": [str(world.mine[1])]}),
        "add_connection": ("POST", "/connections/new", {"email": people.learner.email, "message": "Hello"}),
        "share": (
            "POST",
            "/share",
            {
                "email": people.third_party.email,
                "documents": [str(world.mine[0])],
                **date_fields("expires_on", day + timedelta(20)),
            },
        ),
    }[action]


def send(client: Any, action: str, world: World, token: str, htmx: bool) -> Any:
    method, path, data = request_for(action, world)
    headers = {"HX-Request": "true"} if htmx else {}
    if method == "GET":
        return client.get(path, headers=headers, follow_redirects=False)
    return client.post(path, data={"_csrf_token": token, **data}, headers=headers, follow_redirects=False)


async def snapshot() -> tuple[Any, ...]:
    """Everything an action could change (read side by side: this runs a few times per case)."""
    return tuple(
        await asyncio.gather(
            Connection.select().order_by(Connection.id).run(),
            SharedDocument.select(SharedDocument.connection, SharedDocument.document)
            .order_by(SharedDocument.id)
            .run(),
            ExtensionRequest.select().order_by(ExtensionRequest.id).run(),
            OutboxEmail.select(OutboxEmail.idempotency_key).order_by(OutboxEmail.id).run(),
            AccessEvent.select(AccessEvent.action, AccessEvent.connection).order_by(AccessEvent.id).run(),
        )
    )


async def fresh(connection_id: int) -> Connection:
    connection = await Connection.objects().where(Connection.id == connection_id).first()
    assert connection is not None
    return connection


async def shared_ids(connection_id: int) -> set[int]:
    rows = await SharedDocument.select(SharedDocument.document).where(
        SharedDocument.connection == connection_id
    )
    return {row["document"] for row in rows}


async def extension_states(connection_id: int) -> list[str]:
    rows = await ExtensionRequest.select(ExtensionRequest.state).where(
        ExtensionRequest.connection == connection_id
    )
    return [row["state"] for row in rows]


# --- the test ----------------------------------------------------------------------------------------


async def _build(action: str, owner: str, state: str) -> World:
    people = await prepare_people()
    mine = [await make_document(people.learner, n) for n in (1, 2)]
    documents = mine[:1]
    learner, third_party = people.learner, people.third_party
    if owner == "other":
        documents = [await make_document(people.other_learner, 1)]
        learner, third_party = people.other_learner, people.other_third_party
    connection = await build_connection(
        state,
        learner,
        third_party,
        documents,
        pending_extension=action in ("approve_extension", "decline_extension"),
    )
    return World(people=people, connection=connection, mine=[d.id for d in mine], day=today())


# The last case's world, by world_key, while no case has changed it since it was built.
_KEPT: dict[tuple[str, str, bool], World] = {}


def world_for(action: str, owner: str, state: str) -> World:
    """The world for a case: the one kept from the case before, if it is about the same connection,
    or else one built on empty tables. Taken out of _KEPT: put back only by a case that passed and
    changed nothing (`keep`)."""
    key = world_key(action, owner, state)
    kept = _KEPT.pop(key, None)
    _KEPT.clear()
    if kept is not None:
        return kept
    start_clean()
    return run(_build(action, owner, state))  # type: ignore[no-any-return]


def keep(action: str, owner: str, state: str, world: World) -> None:
    _KEPT[world_key(action, owner, state)] = world


@pytest.mark.parametrize(("action", "role", "owner", "state", "answer", "mode"), CASES)
def test_authorization_matrix(
    matrix_client: Any, action: str, role: str, owner: str, state: str, answer: str, mode: str
) -> None:
    world = world_for(action, owner, state)
    if role == "anonymous":
        token = csrf_token(matrix_client)
    else:
        log_in(matrix_client, world.people.by_role(role).username)
        # CSRF tokens are bound to the session: the one from the log-in page no longer works.
        token = csrf_token(matrix_client, "/profile")
    variants = (False, True) if mode == "both" else (mode == "htmx",)
    first = None
    for htmx in variants:
        before = run(snapshot())
        first = before if first is None else first
        response = send(matrix_client, action, world, token, htmx)
        after = run(snapshot())  # before any check follows a redirect
        if answer == OK:
            check_works(action, role, world, response, htmx)
            continue
        if answer in (SHOWN, HIDDEN, ABSENT):
            check_reading(action, role, world, response, answer)
        elif answer == NOT_FOUND:
            assert response.status_code == 404, response.text
        elif answer == LOGIN:
            check_login_redirect(response, htmx)
        elif answer == CONFLICT:
            check_conflict(matrix_client, world, response, htmx)
        elif answer == REFUSED:
            assert response.status_code == 422, response.text
            field = "wanted_until" if action == "request_extension" else "email"
            assert field in errors_on(response)
        else:  # pragma: no cover - a typo in EXPECTED
            raise AssertionError(answer)
        if action not in ("view", "documents") or role != "third_party" or answer != SHOWN:
            # Only a third party looking at usable shared documents leaves a trace (the access log).
            assert after == before, "a refused or read-only request changed something"
    # Every check passed; if the case (its checks' own requests too) changed nothing, the next case
    # about this connection may start from it.
    if run(snapshot()) == first:
        keep(action, owner, state, world)


def check_login_redirect(response: Any, htmx: bool) -> None:
    if htmx:
        assert response.headers.get("HX-Redirect", "").startswith("/login"), response.headers
    else:
        assert response.status_code == 303
        assert response.headers["location"].startswith("/login")


def check_conflict(client: Any, world: World, response: Any, htmx: bool) -> None:
    cid = world.connection.id
    if htmx:
        assert response.status_code == 409, response.text
        page = html(response)
        assert page.css_first(f"#connection-{cid}") is not None, response.text
        assert CONFLICT_TEXT in page.css_first(".notice").text()
        return
    assert response.status_code == 303, response.text
    assert response.headers["location"] == f"/connections/{cid}"
    page = client.get(response.headers["location"])
    assert page.status_code == 200
    notices = [node.text(strip=True) for node in html(page).css(".notice-warning")]
    assert CONFLICT_TEXT in notices


def check_reading(action: str, role: str, world: World, response: Any, answer: str) -> None:
    assert response.status_code == 200, response.text
    page = html(response)
    cid = world.connection.id
    if action == "list":
        listed = page.css_first(f"#connection-{cid}") is not None
        assert listed == (answer != ABSENT)
        return
    account = world.people.by_role(role)
    visible = run(shared_documents(cid, account, world.day))
    in_db = run(shared_ids(cid))
    if answer == HIDDEN:
        # The query itself applies expiry, and the page lists nothing.
        assert visible == []
        titles = run(_titles(in_db))
        assert not any(title in response.text for title in titles)
        return
    assert {row["id"] for row in visible} == in_db
    if role == "third_party":
        listed = {node.text(strip=True) for node in page.css("ul.rows li span:first-child")}
        assert listed == {row["title"] for row in visible}
    elif world.connection.state in ("active", "awaiting_third_party"):
        ticked = {int(node.attributes["value"] or 0) for node in page.css('input[name="documents"][checked]')}
        assert ticked == in_db


async def _titles(ids: set[int]) -> list[str]:
    from src.tables.documents import Document

    rows = await Document.select(Document.title).where(Document.id.is_in(list(ids) or [-1]))
    return [row["title"] for row in rows]


def check_works(action: str, role: str, world: World, response: Any, htmx: bool) -> None:
    cid, day, people = world.connection.id, world.day, world.people
    old = world.connection
    if action in ("list", "view", "documents", "confirm_cancel", "extension_form"):
        assert response.status_code == 200, response.text
        page = html(response)
        if action == "list":
            assert page.css_first(f"#connection-{cid}") is not None
        elif action == "confirm_cancel":
            assert page.css_first(f'form[action="/connections/{cid}/cancel"]') is not None
        elif action == "extension_form":
            assert page.css_first("form#extension-form") is not None
        else:
            assert page.css_first("h1") is not None
        return
    if action in STARTING:
        if htmx:
            assert response.status_code == 200, response.text
            target = response.headers["HX-Redirect"]
        else:
            assert response.status_code == 303, response.text
            target = response.headers["location"]
        new = run(fresh(int(target.rsplit("/", 1)[1])))
        assert new.id != cid
        assert (new.learner, new.third_party) == (people.learner.id, people.third_party.id)
        assert new.state == ("awaiting_learner" if action == "add_connection" else "awaiting_third_party")
        return
    # A change to this connection: the row for htmx, a redirect back for a form.
    if htmx:
        assert response.status_code == 200, response.text
        assert html(response).css_first(f"#connection-{cid}") is not None
    else:
        assert response.status_code == 303, response.text
        assert response.headers["location"] == f"/connections/{cid}"
    now = run(fresh(cid))
    assert now.version == old.version + 1
    if action == "accept":
        assert now.state == "active"
        if role == "learner":
            assert now.expires_on == day + timedelta(20)
            assert run(shared_ids(cid)) == set(world.mine)
    elif action == "decline":
        assert now.state == "declined"
    elif action == "cancel":
        assert now.state == "cancelled"
        assert now.cancelled_by == people.by_role(role).id
    elif action == "request_extension":
        assert run(extension_states(cid)) == ["pending"]
        assert (now.state, now.expires_on) == (old.state, old.expires_on)
    elif action == "approve_extension":
        assert run(extension_states(cid)) == ["approved"]
        assert (now.state, now.expires_on) == ("active", day + timedelta(45))
    elif action == "decline_extension":
        assert run(extension_states(cid)) == ["declined"]
        assert (now.state, now.expires_on) == (old.state, old.expires_on)
    elif action == "extend":
        assert (now.state, now.expires_on) == ("active", day + timedelta(50))
    elif action == "change_documents":
        assert now.state == old.state
        assert run(shared_ids(cid)) == {world.mine[1]}
    else:  # pragma: no cover
        raise AssertionError(action)
