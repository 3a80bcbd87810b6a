"""Who may open a document in the viewer, and its report form, on both engines: a learner their own
documents only; a third party a shared document only while the connection gives access; staff and
everyone else get the same 404 as a document that does not exist, on the page and every fragment."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from litestar import Litestar

from src.app import create_app
from src.tables.connections import AccessEvent, Connection
from src.tables.reports import Report
from tests.support.client import log_in, make_settings, run
from tests.support.connection_fixtures import today
from tests.support.document_fixtures import World, build_world, revoke
from tests.support.pages import csrf_token, html
from tests.support.smtp import SMTPServer

MISSING = 987654


@pytest.fixture(scope="module")
def app(smtp_server: SMTPServer) -> Litestar:
    return create_app(make_settings(smtp_server.port, run_mail_worker="false"))


def paths(base: str) -> list[tuple[str, str, bool]]:
    """(method, path, htmx) for the page and each fragment of one document's viewer."""
    return [
        ("GET", base, False),
        ("GET", base, True),
        ("GET", f"{base}/report", False),
        ("GET", f"{base}/report", True),
        ("POST", f"{base}/report", False),
        ("POST", f"{base}/report", True),
    ]


def call(client: Any, method: str, path: str, htmx: bool, token: str) -> Any:
    headers = {"HX-Request": "true"} if htmx else {}
    if method == "GET":
        return client.get(path, headers=headers, follow_redirects=False)
    data = {"_csrf_token": token, "category": "wrong_name", "message": "My middle name is missing."}
    return client.post(path, data=data, headers=headers, follow_redirects=False)


def without_reference(page: str) -> str:
    return re.sub(r'class="error-reference">[0-9A-F]+<', 'class="error-reference">…<', page)


def assert_not_found_everywhere(client: Any, base: str, missing_base: str) -> None:
    """Every request on `base` answers exactly what the same request on a missing document answers."""
    token = csrf_token(client)
    for method, path, htmx in paths(base):
        response = call(client, method, path, htmx, token)
        assert response.status_code == 404, (method, path, htmx, response.status_code)
        missing = call(client, method, path.replace(base, missing_base), htmx, token)
        assert missing.status_code == 404
        # Identical but for the error page's reference, which is new for every response.
        assert without_reference(response.text) == without_reference(missing.text), (method, path, htmx)
    assert run(Report.count()) == 0, "a refused report was saved"


def learner_base(document_id: int) -> str:
    return f"/documents/{document_id}"


# --- learner ---------------------------------------------------------------------------------------


def test_learner_opens_own_document(client: Any) -> None:
    world: World = run(build_world())
    log_in(client, "lena")
    page = client.get(learner_base(world.unshared.id))
    assert page.status_code == 200
    tree = html(page)
    assert tree.css_first("main h1").text(strip=True) == world.unshared.title
    assert tree.css_first("article.document") is not None
    assert tree.css_first(".watermarked") is None  # the learner's own document carries no watermark
    assert "Valid" in tree.css_first(".doc-status dd").text()
    # My documents links to it.
    listing = html(client.get("/documents"))
    assert learner_base(world.unshared.id) in [a.attributes.get("href") for a in listing.css("main a")]


def test_learner_gets_404_for_other_learners_document_and_third_party_paths(client: Any) -> None:
    world: World = run(build_world())
    log_in(client, "lena")
    assert_not_found_everywhere(client, learner_base(world.others.id), learner_base(MISSING))
    # The third party's viewer is not a learner's way in, even to their own shared document.
    assert_not_found_everywhere(client, world.viewer(), world.viewer(document=_missing()))


def _missing() -> Any:
    return type("Missing", (), {"id": MISSING})()


# --- third party -----------------------------------------------------------------------------------


def test_third_party_views_shared_document_watermarked_and_logged(client: Any, other_client: Any) -> None:
    world: World = run(build_world())
    log_in(client, "tara")
    page = client.get(world.viewer())
    assert page.status_code == 200
    tree = html(page)
    assert tree.css_first("article.document h2").text(strip=True) == world.shared.title
    events = run(
        AccessEvent.select().where(
            (AccessEvent.action == "viewed_document") & (AccessEvent.document == world.shared.id)
        )
    )
    assert len(events) == 1 and events[0]["account"] == world.people.third_party.id
    mark = tree.css_first(".watermarked").attributes["data-mark"] or ""
    assert "Tara Thirdparty" in mark and "Tara Care Ltd" in mark and "UTC" in mark
    assert f"V{events[0]['id']}" in mark
    access = [dd.text(strip=True) for dd in tree.css(".doc-status dd")]
    assert any(text.startswith("Your access ends on") for text in access)
    assert not any("valid until" in text.lower() for text in access if text.startswith("Your access"))
    # The connection page links to the viewer.
    connection_page = html(client.get(f"/connections/{world.connection.id}"))
    assert world.viewer() in [a.attributes.get("href") for a in connection_page.css("main a")]
    # The learner's Activity shows who viewed which document.
    log_in(other_client, "lena")
    rows = [
        " ".join(li.text().split()) for li in html(other_client.get("/activity")).css("#activity-list li")
    ]
    assert any(
        f"Tara Thirdparty (Tara Care Ltd) viewed document “{world.shared.title}”" in row for row in rows
    ), rows


def test_view_only_headers(client: Any) -> None:
    world: World = run(build_world())
    log_in(client, "tara")
    for method, path, htmx in paths(world.viewer())[:4]:
        response = call(client, method, path, htmx, "")
        assert response.status_code == 200
        assert response.headers["cache-control"] == "no-store"
        assert "noindex" in response.headers["x-robots-tag"]
        assert response.headers["x-frame-options"] == "DENY"
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]


def test_page_says_copies_are_not_valid_and_prints_only_a_notice(client: Any) -> None:
    world: World = run(build_world())
    log_in(client, "tara")
    tree = html(client.get(world.viewer()))
    assert "not valid" in tree.css_first(".document-view .notice").text()
    notice = tree.css_first(".print-notice")
    assert notice.text(strip=True).startswith("This document is not valid on paper. Check its status at")
    # The document sits inside the part that the print rules hide; the notice is outside it.
    assert tree.css_first(".document-view article.document") is not None
    assert notice.css_first("article") is None
    # No blocking of copying: no handlers, no user-select tricks.
    assert "oncontextmenu" not in client.get(world.viewer()).text


@pytest.mark.parametrize("case", ["unshared", "expired", "cancelled", "other_connection", "others_id"])
def test_third_party_refused_is_the_same_404(client: Any, case: str) -> None:
    world: World = run(build_world())
    if case == "expired":
        run(
            Connection.update({Connection.expires_on: today() - timedelta(days=1)}).where(
                Connection.id == world.connection.id
            )
        )
    if case == "cancelled":
        run(Connection.update({Connection.state: "cancelled"}).where(Connection.id == world.connection.id))
    base = {
        "unshared": world.viewer(document=world.unshared),
        "expired": world.viewer(),
        "cancelled": world.viewer(),
        "other_connection": world.viewer(document=world.others, connection=world.other_connection),
        "others_id": world.viewer(document=world.others),
    }[case]
    log_in(client, "tara")
    assert_not_found_everywhere(client, base, base.rsplit("/", 1)[0] + f"/{MISSING}")


def test_access_ends_at_the_end_of_the_last_day(client: Any) -> None:
    world: World = run(build_world())
    run(Connection.update({Connection.expires_on: today()}).where(Connection.id == world.connection.id))
    log_in(client, "tara")
    assert client.get(world.viewer()).status_code == 200


def test_revoked_document_shows_status_not_content(client: Any, other_client: Any) -> None:
    world: World = run(build_world())
    run(revoke(world.shared, "Issued in error: <b>withdrawn</b>"))
    for person, browser, path in (
        ("tara", client, world.viewer()),
        ("lena", other_client, learner_base(world.shared.id)),
    ):
        log_in(browser, person)
        page = browser.get(path)
        assert page.status_code == 200
        tree = html(page)
        status = tree.css_first(".doc-status dd").text(strip=True)
        assert status.startswith("Revoked") and "Issued in error: <b>withdrawn</b>" in status
        assert tree.css_first("article.document") is None
        assert world.shared.certificate_number not in page.text
        assert "Staff-only note" not in page.text


def test_staff_and_anonymous(client: Any) -> None:
    world: World = run(build_world())
    token = csrf_token(client)
    for method, path, htmx in paths(world.viewer()) + paths(learner_base(world.shared.id)):
        response = call(client, method, path, htmx, token)
        if htmx:
            assert response.headers.get("HX-Redirect", "").startswith("/login"), (method, path)
        else:
            assert response.status_code == 303 and response.headers["location"].startswith("/login")
    log_in(client, "sam")
    assert_not_found_everywhere(client, world.viewer(), world.viewer(document=_missing()))
    assert_not_found_everywhere(client, learner_base(world.shared.id), learner_base(MISSING))
