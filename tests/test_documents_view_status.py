"""What the viewer says about a document's standing, in words at the top, and its size: superseded
with a link to the newer one for the learner (not for a third party), expired by its own date worded
apart from the end of someone's access, and the document itself about 1 KB compressed."""

from __future__ import annotations

import gzip
from datetime import timedelta
from typing import Any

from src.documents import issue
from src.tables.documents import Document
from tests.support.client import log_in, run
from tests.support.connection_fixtures import today
from tests.support.document_fixtures import World, build_world, supersede
from tests.support.pages import html
from tests.test_page_budget import check_page


def test_superseded_links_the_learner_to_the_newer_document(client: Any, other_client: Any) -> None:
    world: World = run(build_world())
    newer = run(issue(world.people.learner, "Certificate 1 (corrected)", "T-NEW-1", today()))
    run(supersede(world.shared, newer))
    log_in(client, "lena")
    status = html(client.get(f"/documents/{world.shared.id}")).css_first(".doc-status dd")
    assert status.text(strip=True).startswith("Replaced by a newer document")
    link = status.css_first("a")
    assert link.text(strip=True) == "See the newer document"
    assert link.attributes["href"] == f"/documents/{newer.id}"
    # The third party sees the same words, and no way to a document not shared with them.
    log_in(other_client, "tara")
    status = html(other_client.get(world.viewer())).css_first(".doc-status dd")
    assert status.text(strip=True).startswith("Replaced by a newer document")
    assert status.css_first("a") is None


def test_document_expiry_and_access_end_are_worded_apart(client: Any) -> None:
    world: World = run(build_world())
    run(
        Document.update({Document.valid_until: today() - timedelta(days=2)}).where(
            Document.id == world.shared.id
        )
    )
    log_in(client, "tara")
    tree = html(client.get(world.viewer()))
    terms = [dt.text(strip=True) for dt in tree.css(".doc-status dt")]
    values = [dd.text(strip=True) for dd in tree.css(".doc-status dd")]
    assert terms == ["Document status", "Your access"]
    assert values[0].startswith("Document expired on")
    assert values[1].startswith("Your access ends on")


def test_the_document_itself_is_about_a_kilobyte_compressed(client: Any) -> None:
    world: World = run(build_world())
    units = [
        {
            "code": f"H/601/85{n:02d}",
            "title": f"Unit {n}: Safeguarding",
            "level": "3",
            "credits": "4",
            "grade": "Pass",
        }
        for n in range(4)
    ]
    document = run(
        issue(
            world.people.learner,
            "Level 3 Diploma in Health and Social Care",
            "APC-999001",
            today(),
            qualification_code="603/2345/X",
            level="3",
            grade="Merit",
            units=units,
        )
    )
    log_in(client, "lena")
    article = html(client.get(f"/documents/{document.id}")).css_first("article.document")
    assert article.css_first("table caption").text(strip=True) == "Units"
    assert len(article.css("tbody tr")) == 4
    assert len(gzip.compress(article.html.encode(), compresslevel=9)) <= 1200


def test_viewer_pages_fit_the_page_budget(client: Any, other_client: Any) -> None:
    world: World = run(build_world())
    log_in(client, "tara")
    check_page(client, world.viewer())
    check_page(client, f"{world.viewer()}/report")
    log_in(other_client, "lena")
    check_page(other_client, f"/documents/{world.shared.id}")
