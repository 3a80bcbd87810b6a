"""The learner's switch "show on verify page": off by default, on and off with and without htmx,
owner-only (anyone else's document is a 404), and the verify page follows it on the next request."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from src.tables.documents import Document
from tests.support.client import log_in, post_form, run
from tests.support.factories import make_account
from tests.support.pages import csrf_token, html
from tests.support.verify_fixtures import shelf
from tests.test_page_budget import check_page


def choice_of(response, document_id: int):
    return html(response).css_first(f"#verify-choice-{document_id}")


def shown_in_db(document_id: int) -> bool:
    return bool(
        run(Document.select(Document.show_on_verify).where(Document.id == document_id).first())[
            "show_on_verify"
        ]
    )


def test_off_by_default_and_switched_on_and_off_without_javascript(client, day):
    docs = run(shelf(day, can_log_in=True))
    doc = docs.valid
    log_in(client, "lena")
    block = choice_of(client.get(f"/documents/{doc.id}"), doc.id)
    assert "status and key facts only" in block.css_first(".verify-shown").text()
    assert block.css_first("button").text(strip=True).startswith("Show the document on its verify page")
    assert client.get(f"/v/{doc.verify_code}").text.count('class="document"') == 0

    response = post_form(
        client, f"/documents/{doc.id}/verify-page", {"show": "yes"}, token_from=f"/documents/{doc.id}"
    )
    assert response.status_code == 303
    assert response.headers["location"] == f"/documents/{doc.id}#verify-choice-{doc.id}"
    after = client.get(f"/documents/{doc.id}")
    assert "The verify page now shows the document itself." in after.text
    assert "sees this document itself" in choice_of(after, doc.id).css_first(".verify-shown").text()
    assert html(client.get(f"/v/{doc.verify_code}")).css_first("main article.document") is not None

    post_form(client, f"/documents/{doc.id}/verify-page", {"show": "no"}, token_from=f"/documents/{doc.id}")
    assert not shown_in_db(doc.id)
    assert html(client.get(f"/v/{doc.verify_code}")).css_first("main article.document") is None


def test_with_htmx_the_switch_swaps_itself_and_keeps_focus(client, day):
    docs = run(shelf(day, can_log_in=True))
    log_in(client, "lena")
    response = post_form(
        client, f"/documents/{docs.valid.id}/verify-page", {"show": "yes"}, htmx=True, token_from="/profile"
    )
    assert response.status_code == 200
    assert response.headers["vary"].lower().find("hx-request") >= 0
    fragment = html(response)
    assert fragment.css_first("h1") is None  # a fragment, not a page
    block = fragment.css_first(f"#verify-choice-{docs.valid.id}")
    button = block.css_first("button")
    assert "autofocus" in button.attributes
    assert button.text(strip=True).startswith("Stop showing the document on its verify page")
    assert block.css_first('input[name="show"]').attributes["value"] == "no"
    assert shown_in_db(docs.valid.id)


def test_sending_the_same_choice_twice_at_once_keeps_it(client, day):
    docs = run(shelf(day, can_log_in=True))
    log_in(client, "lena")
    token = csrf_token(client, "/profile")

    def send():
        return client.post(
            f"/documents/{docs.valid.id}/verify-page",
            data={"_csrf_token": token, "show": "yes"},
            follow_redirects=False,
        ).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(lambda _: send(), range(8)))
    assert statuses == [303] * 8
    assert shown_in_db(docs.valid.id)


def test_only_the_owner_can_switch(client, day):
    docs = run(shelf(day))
    run(make_account("learner", "olga"))
    run(make_account("third_party", "tara"))
    run(make_account("staff", "sam"))
    for who in ("olga", "tara", "sam"):
        client.cookies.clear()
        log_in(client, who)
        response = post_form(
            client, f"/documents/{docs.valid.id}/verify-page", {"show": "yes"}, token_from="/dashboard"
        )
        assert response.status_code == 404, who
    client.cookies.clear()
    anonymous = post_form(client, f"/documents/{docs.valid.id}/verify-page", {"show": "yes"})
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login")
    assert not shown_in_db(docs.valid.id)


def test_no_csrf_token_no_change(client, day):
    docs = run(shelf(day, can_log_in=True))
    log_in(client, "lena")
    response = client.post(f"/documents/{docs.valid.id}/verify-page", data={"show": "yes"})
    assert response.status_code == 403
    assert not shown_in_db(docs.valid.id)


def test_the_document_page_with_its_qr_code_and_the_light_list_fit_the_budget(client, day):
    docs = run(shelf(day, can_log_in=True))
    log_in(client, "lena")
    check_page(client, "/documents")
    check_page(client, f"/documents/{docs.valid.id}")
    # The list draws no QR code: one per document would grow the page with every document.
    assert not html(client.get("/documents")).css(".qr svg")
