"""The people: signed-in third parties and learners browsing and acting, people scanning QR codes,
people logging in (some with the wrong password), each an asyncio task with an httpx client of its
own and a loopback address of its own (127.0.x.y), so the portal's per-address limits see separate
people as separate. Every request is recorded with its time, answer and, for a POST, the unique
marker it carried, so the database can be asked afterwards whether it was applied once and whole.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import re
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, timedelta

import httpx

from bench.scale.seed import PASSWORD, Cast, Person

TOKEN = re.compile(r'name="_csrf_token"\s+value="([^"]+)"')
THINK = (0.4, 1.0)  # seconds between one person's requests
TIMEOUT = 20.0


@dataclass
class Sample:
    started: float
    ended: float
    method: str
    what: str
    status: int  # 0: no answer (the connection failed or timed out)
    error: str = ""
    retry_after: bool = False
    signed_out: bool = False


@dataclass
class Action:
    kind: str  # share | add | accept | cancel
    marker: str  # the email address shared with or asked for, or the connection's id
    status: int
    sample: Sample


@dataclass
class Record:
    clock: float = field(default_factory=time.monotonic)
    samples: list[Sample] = field(default_factory=list)
    actions: list[Action] = field(default_factory=list)

    def now(self) -> float:
        return time.monotonic() - self.clock


class SignedOut(Exception):
    """A signed-in person's request was sent to the log-in page."""


class Browser:
    """One person's client: cookies, a loopback address of its own, every request recorded."""

    def __init__(self, base: str, address: str, record: Record, host: str | None = None) -> None:
        self.record = record
        self.client = httpx.AsyncClient(
            base_url=base,
            headers={"Host": host} if host else None,
            timeout=TIMEOUT,
            follow_redirects=False,
            transport=httpx.AsyncHTTPTransport(local_address=address),
        )
        self.signed_in = False

    async def close(self) -> None:
        await self.client.aclose()

    async def request(self, method: str, url: str, what: str, **kwargs: object) -> httpx.Response | None:
        started = self.record.now()
        try:
            answer = await self.client.request(method, url, **kwargs)  # type: ignore[arg-type]
        except httpx.HTTPError as exc:
            self.record.samples.append(
                Sample(started, self.record.now(), method, what, 0, type(exc).__name__)
            )
            return None
        location = answer.headers.get("location", "")
        signed_out = self.signed_in and answer.status_code in (302, 303) and "/login" in location
        self.record.samples.append(
            Sample(
                started,
                self.record.now(),
                method,
                what,
                answer.status_code,
                retry_after="retry-after" in answer.headers,
                signed_out=signed_out,
            )
        )
        if signed_out:
            self.signed_in = False
            raise SignedOut(url)
        return answer

    async def form_token(self, url: str, what: str) -> str | None:
        page = await self.request("GET", url, what)
        found = TOKEN.search(page.text) if page is not None and page.status_code == 200 else None
        return found.group(1) if found else None

    async def log_in(self, username: str, password: str, what: str = "log-in") -> int:
        """The log-in form, then the page it leads to; the POST's status (0: no answer)."""
        token = await self.form_token("/login", "login page")
        if token is None:
            return 0
        data = {"_csrf_token": token, "login": username, "password": password}
        answer = await self.request("POST", "/login", what, data=data)
        if answer is None:
            return 0
        if answer.status_code == 303:
            self.signed_in = True
            await self.request("GET", answer.headers["location"], "page")
        return answer.status_code


async def _think(stop: asyncio.Event) -> None:
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(random.uniform(*THINK)):
            await stop.wait()


async def _act(browser: Browser, kind: str, marker: str, form_url: str, post_url: str, data: dict) -> None:
    token = await browser.form_token(form_url, "page")
    if token is None:
        return
    answer = await browser.request("POST", post_url, kind, data={"_csrf_token": token, **data})
    browser.record.actions.append(
        Action(kind, marker, answer.status_code if answer is not None else 0, browser.record.samples[-1])
    )


async def signed_in_person(
    person: Person, base: str, address: str, record: Record, stop: asyncio.Event, today: date
) -> None:
    browser = Browser(base, address, record)
    pages = (
        ["/dashboard", "/connections", "/connections?show=active"]
        if person.role == "third_party"
        else ["/dashboard", "/documents", "/connections"]
    )
    try:
        while not stop.is_set():
            try:
                if not browser.signed_in:
                    if await browser.log_in(person.username, PASSWORD) != 303:
                        await _think(stop)
                        continue
                roll = random.random()
                if roll < 0.12:
                    await _action(browser, person, today)
                elif roll < 0.3 and person.connection_ids:
                    await browser.request(
                        "GET", f"/connections/{random.choice(person.connection_ids)}", "page"
                    )
                elif roll < 0.4 and person.document_ids:
                    await browser.request("GET", f"/documents/{random.choice(person.document_ids)}", "page")
                else:
                    await browser.request("GET", random.choice(pages), "page")
            except SignedOut:
                pass  # recorded; the person logs in again
            await _think(stop)
    finally:
        await browser.close()


async def _action(browser: Browser, person: Person, today: date) -> None:
    marker = secrets.token_hex(6)
    if person.role == "third_party":
        if person.actionable and random.random() < 0.5:
            offer = person.actionable.pop()
            await _act(
                browser, "accept", str(offer), f"/connections/{offer}", f"/connections/{offer}/accept", {}
            )
        else:
            email = f"ask-{marker}@learners.example.com"
            await _act(
                browser, "add", email, "/connections/new", "/connections/new", {"email": email, "message": ""}
            )
        return
    if person.actionable and random.random() < 0.4:
        connection = person.actionable.pop()
        url = f"/connections/{connection}/cancel"
        await _act(browser, "cancel", str(connection), url, url, {})
        return
    email = f"share-{marker}@employers.example.com"
    until = today + timedelta(days=30)
    data = {
        "email": email,
        "documents": [str(d) for d in person.document_ids[:2]],
        "expires_on-day": str(until.day),
        "expires_on-month": str(until.month),
        "expires_on-year": str(until.year),
    }
    await _act(browser, "share", email, "/share", "/share", data)


async def scanner(codes: list[str], base: str, address: str, record: Record, stop: asyncio.Event) -> None:
    browser = Browser(base, address, record)
    try:
        while not stop.is_set():
            await browser.request("GET", f"/v/{random.choice(codes)}", "verify scan")
            await _think(stop)
    finally:
        await browser.close()


async def logging_in(cast: Cast, base: str, record: Record, stop: asyncio.Event) -> None:
    """Log-ins from ever new addresses: the right password (then a page, then log out), and now and
    then a wrong one aimed at an account kept for it (a few per address, under the address limit)."""
    n = 0
    while not stop.is_set():
        n += 1
        browser = Browser(base, f"127.0.1.{n % 250 + 1}", record)
        try:
            if n % 3 == 0:
                await browser.log_in(
                    random.choice(cast.wrong_targets),
                    "not-the-password-" + secrets.token_hex(3),
                    "wrong log-in",
                )
            else:
                status = await browser.log_in(random.choice(cast.churn), PASSWORD)
                if status == 303:
                    token = await browser.form_token("/dashboard", "page")
                    if token is not None:
                        browser.signed_in = False  # the log-in page it leads to is wanted now
                        await browser.request("POST", "/logout", "log-out", data={"_csrf_token": token})
        except SignedOut:
            pass
        finally:
            await browser.close()
        await _think(stop)


async def wrong_log_ins_until(
    backends: list[str],
    host: str,
    username: str,
    addresses: Callable[[int], str],
    record: Record,
    locked: Callable[[], Awaitable[bool]],
    limit: int,
) -> int | None:
    """Wrong passwords for `username`, the n-th sent straight to backends[n % len(backends)] from
    addresses(n), until `locked()` says so; how many it took (None: not within `limit`)."""
    for n in range(1, limit + 1):
        browser = Browser(backends[n % len(backends)], addresses(n), record, host)
        try:
            await browser.log_in(username, "wrong-" + secrets.token_hex(4), "probe: wrong log-in")
        finally:
            await browser.close()
        if await locked():
            return n
    return None


async def refused_from(
    backends: list[str], host: str, address: str, accounts: list[str], record: Record, limit: int
) -> int | None:
    """Wrong log-ins from one address, the n-th to backends[n % len(backends)] and aimed at the
    accounts in turn (so none is locked on the way), until one is refused with 429 (the per-address
    limit); which attempt that was (None: not within `limit`)."""
    for n in range(1, limit + 1):
        browser = Browser(backends[n % len(backends)], address, record, host)
        try:
            status = await browser.log_in(
                accounts[n % len(accounts)], "wrong-" + secrets.token_hex(4), "probe: wrong log-in"
            )
        finally:
            await browser.close()
        if status == 429:
            return n
    return None
