"""The page budget from DESIGN.md: at most 14 KB of compressed HTML + CSS on a first load, htmx
vendored with its version in the name, and nothing loaded from another host."""

from __future__ import annotations

import gzip
import re

import pytest

from src.tables.accounts import Address, ContactDetail
from tests.support.client import log_in, run
from tests.support.factories import make_account
from tests.support.pages import html

BUDGET = 14 * 1024
HTMX_SRC = re.compile(r"^/static/vendor/htmx-2\.0\.\d+\.min\.js(\?v=[0-9a-f]+)?$")

PUBLIC_PAGES = ["/", "/login", "/register", "/forgot-password", "/verify-email/resend"]
PRIVATE_PAGES = [
    "/profile",
    "/profile/password",
    "/profile/delete",
    "/profile/addresses/new",
    "/dashboard",
    "/connections/expiring-soon",
]


def gzipped_size(body: bytes) -> int:
    return len(gzip.compress(body, compresslevel=9))


def check_page(client, path: str, status: int = 200) -> int:
    response = client.get(path, follow_redirects=False)
    assert response.status_code == status, path
    page = html(response)

    scripts = [node.attributes.get("src") for node in page.css("script")]
    assert all(scripts), f"inline script on {path}"  # CSP has no 'unsafe-inline'
    assert any(HTMX_SRC.match(src or "") for src in scripts), f"{path}: htmx not vendored: {scripts}"
    stylesheets = [node.attributes.get("href") or "" for node in page.css('link[rel="stylesheet"]')]
    assert stylesheets, path
    for url in [*scripts, *stylesheets]:
        assert url.startswith("/") and not url.startswith("//"), f"{path} loads {url} from another host"
    assert page.css_first("style") is None and page.css_first("[style]") is None, path

    total = gzipped_size(response.content)
    for href in stylesheets:
        css = client.get(href)
        assert css.status_code == 200
        total += gzipped_size(css.content)
    assert total <= BUDGET, f"{path}: {total} bytes of compressed HTML + CSS (budget {BUDGET})"
    return total


@pytest.mark.parametrize("path", PUBLIC_PAGES)
def test_public_pages_fit_the_budget(client, path):
    check_page(client, path)


def test_pages_of_a_logged_in_person_fit_the_budget(client):
    account = run(
        make_account(username="tess", company_name="Acme Recruitment Limited", job_title="Talent lead")
    )
    for n in range(3):
        run(
            ContactDetail.insert(
                ContactDetail(account=account.id, kind="phone", value=f"07700 90012{n}", label="Work mobile")
            ).run()
        )
        run(
            Address.insert(
                Address(
                    account=account.id,
                    line1=f"{n + 1} Long Example Road",
                    line2="Flat 2",
                    town="Leeds",
                    postcode="LS1 1AA",
                    is_billing=n == 0,
                    is_delivery=True,
                )
            ).run()
        )
    log_in(client, "tess")
    for path in PRIVATE_PAGES:
        check_page(client, path)


def test_error_pages_fit_the_budget(client):
    check_page(client, "/no-such-page", status=404)


def test_budget_counts_what_a_browser_downloads(client):
    # The compressed response the server sends is within a few bytes of what the test measures.
    response = client.get("/register", headers={"Accept-Encoding": "gzip"})
    sent = int(response.headers["content-length"])
    assert sent <= gzipped_size(response.content) * 1.2


def test_print_order_pages_fit_the_budget(client):
    from src.printing import cancel_order
    from tests.support.print_fixtures import build_print_world, place

    world = run(build_print_world())
    order = run(place(world))
    log_in(client, "lena")
    for path in ("/prints", f"/prints/{order.id}", f"/documents/{world.document.id}/print"):
        check_page(client, path)
    run(cancel_order(world.people.learner, order.id, 0))
    check_page(client, f"/documents/{world.document.id}/print")  # the form itself
    log_in(client, "sam")
    for path in ("/staff/prints", "/staff/prints?state=all"):
        check_page(client, path)


def test_a_learners_document_with_its_views_fits_the_budget(client, day):
    """The document page with a full page of views, the verify count and "Add to LinkedIn"; its views
    page; its Activity."""
    from datetime import timedelta

    from src import connections
    from src.documents import issue
    from tests.support.factories import build_connection, with_fast_password

    lena = run(make_account("learner", "lena", password=None))
    tess = run(make_account("third_party", "tess", password=None, company_name="Acme Recruitment Limited"))
    run(with_fast_password(lena, tess))
    doc = run(
        issue(
            lena,
            "Level 3 Diploma in Adult Care",
            "APC-1",
            day - timedelta(days=60),
            valid_until=day + timedelta(days=60),
        )
    )
    connection = run(build_connection("active", lena, tess, [doc]))
    for _ in range(12):
        run(connections.record_document_viewed(tess, connection.id, doc.id))
    log_in(client, "lena")
    for path in (
        f"/documents/{doc.id}",
        f"/documents/{doc.id}/views",
        f"/activity?document={doc.id}",
        "/documents",
    ):
        check_page(client, path)
