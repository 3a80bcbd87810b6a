"""Password hashing waits in a bounded line: beyond it a log-in is refused at once with 429 and
words for the person (never a hang), and the rest of the site keeps answering."""

from __future__ import annotations

import asyncio
import os
import sys
import threading

import pytest

from src import passwords
from src.passwords import HashingBusy
from tests.support.client import post_form, run
from tests.support.factories import make_account
from tests.support.pages import html


async def _storm() -> tuple[list[bool], BaseException | None]:
    first = asyncio.create_task(passwords.verify_password(None, "first try"))
    second = asyncio.create_task(passwords.verify_password(None, "second try"))
    while passwords._waiting < 1:  # the second is in line behind the first
        await asyncio.sleep(0)
    refused = None
    try:
        await passwords.verify_password(None, "one too many")
    except HashingBusy as exc:
        refused = exc
    _gate.set()
    return [await first, await second], refused


_gate = threading.Event()


def test_a_check_beyond_the_line_is_refused_and_those_in_line_finish(monkeypatch):
    _gate.clear()
    monkeypatch.setattr(passwords, "_slots", asyncio.Semaphore(1))  # one hashing thread
    monkeypatch.setattr(passwords, "MAX_WAITING", 1)
    real_verify = passwords._verify
    monkeypatch.setattr(
        passwords, "_verify", lambda stored, given: _gate.wait(30) and real_verify(stored, given)
    )

    results, refused = run(_storm())

    assert results == [False, False]
    assert isinstance(refused, HashingBusy)
    assert refused.status_code == 429


def test_log_in_while_hashing_is_full_answers_429_with_words_and_the_site_still_answers(client, monkeypatch):
    run(make_account(username="rhea"))
    # No hashing thread free and no room in line: the state of a log-in storm at its worst.
    monkeypatch.setattr(passwords, "_slots", asyncio.Semaphore(0))
    monkeypatch.setattr(passwords, "MAX_WAITING", 0)

    response = post_form(client, "/login", {"login": "rhea", "password": "correct-lantern-meadow-piano"})

    assert response.status_code == 429
    assert response.headers["retry-after"]
    assert "Too many people are signing in" in html(response).css_first("main").text()
    assert client.get("/healthz").status_code == 200
    assert client.get("/login").status_code == 200


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread nice values are Linux's")
def test_hashing_runs_at_a_lower_cpu_priority_than_the_pages() -> None:
    """When a log-in and a page want the same core, the page wins: the hashing threads are niced."""

    def own_niceness() -> tuple[int, int]:
        return threading.get_native_id(), os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

    thread_id, niceness = passwords._executor.submit(own_niceness).result(timeout=10)
    assert thread_id != threading.get_native_id()
    own = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    assert niceness == min(19, own + passwords.HASH_NICENESS)
