"""What the document viewer says about validity follows the document's standing (the one status
rule), for the learner and a third party alike: only a current document is "valid here"; the status
line reads as a sentence; the print sheet gives everyone the verify address and code; the staff page
shows no empty "Reason:"."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest

from src.documents import printed
from src.tables.documents import Document
from tests.support.client import log_in, run
from tests.support.connection_fixtures import today
from tests.support.document_fixtures import World, build_world, revoke, supersede
from tests.support.pages import html

VALID_HERE = "This document is valid here, on the portal."


def words(node: Any) -> str:
    return " ".join(node.text().split())


def both_viewers(client: Any, other_client: Any, world: World) -> list[Any]:
    """The shared document's page as its third party (tara) and as its learner (lena) see it."""
    log_in(client, "tara")
    log_in(other_client, "lena")
    pages = [client.get(world.viewer()), other_client.get(f"/documents/{world.shared.id}")]
    assert [page.status_code for page in pages] == [200, 200]
    return [html(page) for page in pages]


async def _make(world: World, standing: str) -> None:
    if standing == "revoked":
        await revoke(world.shared, "Issued in error")
    elif standing == "superseded":
        await supersede(world.shared, world.unshared)
    elif standing == "expired":
        await Document.update({Document.valid_until: today() - timedelta(days=1)}).where(
            Document.id == world.shared.id
        )


@pytest.mark.parametrize(
    ("standing", "says"),
    [
        ("valid", VALID_HERE),
        ("revoked", "This document has been revoked: it is not valid, here or anywhere."),
        ("superseded", "A newer document replaces this one: this one is no longer valid"),
        ("expired", "This document expired on"),
    ],
)
def test_the_validity_notice_follows_the_standing(
    client: Any, other_client: Any, standing: str, says: str
) -> None:
    world: World = run(build_world())
    run(_make(world, standing))
    for page in both_viewers(client, other_client, world):
        notice = words(page.css_first("#validity"))
        assert says in notice
        assert (VALID_HERE in notice) == (standing == "valid")
        assert ("notice-warning" in page.css_first("#validity").attributes["class"]) == (standing != "valid")


def test_the_revoked_status_line_is_one_sentence(client: Any, other_client: Any) -> None:
    world: World = run(build_world())
    run(revoke(world.shared, "Issued in error"))
    for page in both_viewers(client, other_client, world):
        status = words(page.css_first(".doc-status dd"))
        assert status.startswith("Revoked on ") and status.endswith(". Issued in error"), status
        assert " ." not in status
    # A revocation without a recorded time (older rows) still reads "Revoked. Issued in error".
    run(Document.update({Document.revoked_at: None}).where(Document.id == world.shared.id))
    for page in both_viewers(client, other_client, world):
        assert words(page.css_first(".doc-status dd")) == "Revoked. Issued in error"


def test_both_print_sheets_give_the_verify_address_and_code(client: Any, other_client: Any) -> None:
    world: World = run(build_world())
    code = world.shared.verify_code
    sheets = [words(page.css_first(".print-notice")) for page in both_viewers(client, other_client, world)]
    for sheet in sheets:
        assert f"/v/{code} (verify code {printed(code)})." in sheet, sheet
    assert sheets[0] == sheets[1]


@pytest.mark.parametrize("category", ["", "issued_in_error"])
def test_staff_page_shows_a_reason_only_when_there_is_one(client: Any, category: str) -> None:
    world: World = run(build_world())
    run(revoke(world.shared, "Issued in error"))
    run(Document.update({Document.revoked_category: category}).where(Document.id == world.shared.id))
    log_in(client, "sam")
    status = words(html(client.get(f"/staff/documents/{world.shared.id}")).css_first("dl.summary dd"))
    assert "Public wording: Issued in error" in status
    # Never an empty "Reason:": either the reason's words, or no line at all.
    assert bool(re.search(r"Reason: \w", status)) == bool(category)
    assert ("Reason:" in status) == bool(category)
