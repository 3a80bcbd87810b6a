"""Manage: additional contact information and addresses: add, edit, remove, with and without htmx,
and someone else's rows answer 404 and stay as they were."""

from __future__ import annotations

from src.tables.accounts import Account, Address, ContactDetail
from tests.support.client import log_in, post_form, run
from tests.support.factories import make_account
from tests.support.pages import html

ADDRESS = {
    "line1": "1 High Street",
    "line2": "",
    "town": "Leeds",
    "postcode": "ls1 1aa",
    "country": "United Kingdom",
}


def logged_in(client, username: str = "tess"):
    account = run(make_account(username=username))
    log_in(client, username)
    return account


def contacts_of(account) -> list[dict]:
    return run(
        ContactDetail.select().where(ContactDetail.account == account.id).order_by(ContactDetail.id).run()
    )


def addresses_of(account) -> list[dict]:
    return run(Address.select().where(Address.account == account.id).order_by(Address.id).run())


def add_contact_row(account, kind: str, value: str) -> int:
    row = run(ContactDetail.insert(ContactDetail(account=account.id, kind=kind, value=value)).run())
    return int(row[0]["id"])


def add_address_row(account, **values) -> int:
    row = run(
        Address.insert(Address(account=account.id, **{**ADDRESS, "postcode": "LS1 1AA", **values})).run()
    )
    return int(row[0]["id"])


def value_of(page, name: str) -> str | None:
    node = page.css_first(f'input[name="{name}"]')
    return None if node is None else node.attributes.get("value")


def contact_texts(page) -> list[str]:
    return [node.text(strip=True) for node in page.css("#contacts ul.rows li > span")]


# --- contacts ---------------------------------------------------------------------------------


def test_add_a_phone_number_without_javascript(client):
    account = logged_in(client)
    response = post_form(
        client,
        "/profile/contacts",
        {"kind": "phone", "value": "07700 900456", "label": "Work mobile"},
        token_from="/profile",
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/profile#contacts"
    rows = contacts_of(account)
    assert [(r["kind"], r["value"], r["label"]) for r in rows] == [("phone", "07700 900456", "Work mobile")]
    page = html(client.get("/profile"))
    assert contact_texts(page) == ["Work mobile: 07700 900456"]
    assert page.css_first(".notice-success").text(strip=True) == "Contact detail added."


def test_add_an_email_with_htmx_returns_the_contacts_section_alone(client):
    account = logged_in(client)
    response = post_form(
        client,
        "/profile/contacts",
        {"kind": "email", "value": "Tess.Work@Example.com", "label": ""},
        htmx=True,
        token_from="/profile",
    )
    assert response.status_code == 200
    assert "HX-Request" in response.headers["vary"]
    page = html(response)
    assert "<html" not in response.text.lower()
    assert page.css_first("main") is None
    section = page.css_first("section#contacts")
    assert section is not None
    assert [node.attributes.get("id") for node in page.css("section")] == ["contacts"]
    assert contact_texts(page) == ["Email: tess.work@example.com"]
    # The add form is empty again, ready for the next one.
    assert value_of(page, "value") == ""
    assert [(r["kind"], r["value"]) for r in contacts_of(account)] == [("email", "tess.work@example.com")]


def test_a_bad_email_contact_is_refused_with_values_kept(client):
    account = logged_in(client)
    response = post_form(
        client,
        "/profile/contacts",
        {"kind": "email", "value": "not an email", "label": "Home"},
        token_from="/profile",
    )
    assert response.status_code == 422
    page = html(response)
    assert page.css_first("main#main-content") is not None
    assert [a.attributes["href"] for a in page.css("#contacts .error-summary a")] == ["#value"]
    assert "correct format" in page.css_first("#value-error").text()
    assert value_of(page, "value") == "not an email"
    assert value_of(page, "label") == "Home"
    assert "checked" in page.css_first("#kind-email").attributes
    assert "checked" not in page.css_first("#kind").attributes
    assert contacts_of(account) == []


def test_a_bad_contact_with_htmx_answers_422_with_the_section(client):
    account = logged_in(client)
    response = post_form(
        client,
        "/profile/contacts",
        {"kind": "phone", "value": "", "label": "Desk"},
        htmx=True,
        token_from="/profile",
    )
    assert response.status_code == 422
    page = html(response)
    assert page.css_first("main") is None
    assert page.css_first("section#contacts #value-error") is not None
    assert value_of(page, "label") == "Desk"
    assert contacts_of(account) == []


def test_an_unknown_contact_kind_is_refused(client):
    account = logged_in(client)
    response = post_form(
        client, "/profile/contacts", {"kind": "fax", "value": "0113 496 0000"}, token_from="/profile"
    )
    assert response.status_code == 422
    assert html(response).css_first("#kind-error") is not None
    assert contacts_of(account) == []


def test_remove_own_contact_detail(client):
    account = logged_in(client)
    keep = add_contact_row(account, "phone", "0113 496 0001")
    gone = add_contact_row(account, "email", "old@example.com")
    response = post_form(client, f"/profile/contacts/{gone}/delete", {}, token_from="/profile")
    assert response.status_code == 303
    assert [r["id"] for r in contacts_of(account)] == [keep]
    # With htmx: the section comes back without the removed row.
    response = post_form(client, f"/profile/contacts/{keep}/delete", {}, htmx=True, token_from="/profile")
    assert response.status_code == 200
    page = html(response)
    assert page.css_first("section#contacts") is not None
    assert contact_texts(page) == []
    assert contacts_of(account) == []


def test_removing_someone_elses_contact_detail_is_404_and_keeps_it(client):
    other = run(make_account(username="otto"))
    theirs = add_contact_row(other, "phone", "0113 496 0002")
    logged_in(client)
    response = post_form(client, f"/profile/contacts/{theirs}/delete", {}, token_from="/profile")
    assert response.status_code == 404
    assert html(response).css_first("main#main-content h1").text(strip=True) == "Page not found"
    response = post_form(client, f"/profile/contacts/{theirs}/delete", {}, htmx=True, token_from="/profile")
    assert response.status_code == 404
    assert [r["value"] for r in contacts_of(other)] == ["0113 496 0002"]


# --- addresses --------------------------------------------------------------------------------


def test_new_address_page_has_the_form(client):
    logged_in(client)
    response = client.get("/profile/addresses/new")
    assert response.status_code == 200
    page = html(response)
    assert page.css_first("main h1").text(strip=True) == "Add an address"
    form = page.css_first("form#address-form")
    assert form.attributes["action"] == "/profile/addresses"
    assert value_of(page, "country") == "United Kingdom"
    assert page.css_first('input#is_billing[type="checkbox"]') is not None
    assert page.css_first('input#is_delivery[type="checkbox"]') is not None


def test_add_an_address_with_billing_and_delivery(client):
    account = logged_in(client)
    response = post_form(
        client,
        "/profile/addresses",
        {**ADDRESS, "is_billing": "yes", "is_delivery": "yes"},
        token_from="/profile/addresses/new",
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/profile#addresses"
    [row] = addresses_of(account)
    assert (row["line1"], row["town"], row["postcode"]) == ("1 High Street", "Leeds", "LS1 1AA")
    assert (row["is_billing"], row["is_delivery"]) == (True, True)
    page = html(client.get("/profile"))
    entry = page.css_first("#addresses ul.rows li")
    assert entry.css_first("address").text(strip=True) == "1 High Street, Leeds, LS1 1AA, United Kingdom"
    assert [tag.text(strip=True) for tag in entry.css(".tag")] == ["Billing", "Delivery"]


def test_add_an_address_with_htmx_redirects_the_browser(client):
    account = logged_in(client)
    response = post_form(
        client,
        "/profile/addresses",
        {**ADDRESS, "is_delivery": "yes"},
        htmx=True,
        token_from="/profile/addresses/new",
    )
    assert response.status_code == 200
    assert response.headers["hx-redirect"] == "/profile#addresses"
    [row] = addresses_of(account)
    assert (row["is_billing"], row["is_delivery"]) == (False, True)


def test_a_bad_address_answers_422_with_values_kept(client):
    account = logged_in(client)
    response = post_form(
        client,
        "/profile/addresses",
        {**ADDRESS, "town": "", "postcode": "", "is_billing": "yes"},
        token_from="/profile/addresses/new",
    )
    assert response.status_code == 422
    page = html(response)
    assert [a.attributes["href"] for a in page.css(".error-summary a")] == ["#town", "#postcode"]
    assert "Enter the town or city" in page.css_first("#town-error").text()
    assert value_of(page, "line1") == "1 High Street"
    assert "checked" in page.css_first("#is_billing").attributes
    assert "checked" not in page.css_first("#is_delivery").attributes
    assert addresses_of(account) == []
    # htmx: the form alone, still 422.
    response = post_form(
        client, "/profile/addresses", {**ADDRESS, "line1": ""}, htmx=True, token_from="/profile/addresses/new"
    )
    assert response.status_code == 422
    assert html(response).css_first("main") is None
    assert html(response).css_first("form#address-form #line1-error") is not None
    assert addresses_of(account) == []


def test_edit_an_address(client):
    account = logged_in(client)
    address_id = add_address_row(account, is_billing=True)
    page = html(client.get(f"/profile/addresses/{address_id}/edit"))
    assert page.css_first("main h1").text(strip=True) == "Edit address"
    assert page.css_first("form#address-form").attributes["action"] == f"/profile/addresses/{address_id}"
    assert value_of(page, "line1") == "1 High Street"
    assert "checked" in page.css_first("#is_billing").attributes

    response = post_form(
        client,
        f"/profile/addresses/{address_id}",
        {**ADDRESS, "line1": "2 Low Road", "postcode": "LS2 2BB", "is_delivery": "yes"},
        token_from=f"/profile/addresses/{address_id}/edit",
    )
    assert response.status_code == 303
    [row] = addresses_of(account)
    assert (row["line1"], row["postcode"], row["is_billing"], row["is_delivery"]) == (
        "2 Low Road",
        "LS2 2BB",
        False,
        True,
    )


def test_editing_an_address_badly_keeps_values_and_saves_nothing(client):
    account = logged_in(client)
    address_id = add_address_row(account)
    response = post_form(
        client,
        f"/profile/addresses/{address_id}",
        {**ADDRESS, "line1": "", "town": "York"},
        token_from=f"/profile/addresses/{address_id}/edit",
    )
    assert response.status_code == 422
    page = html(response)
    assert value_of(page, "town") == "York"
    assert page.css_first("#line1-error") is not None
    [row] = addresses_of(account)
    assert (row["line1"], row["town"]) == ("1 High Street", "Leeds")


def test_remove_an_address(client):
    account = logged_in(client)
    first = add_address_row(account)
    second = add_address_row(account, line1="9 Side Street")
    response = post_form(client, f"/profile/addresses/{first}/delete", {}, token_from="/profile")
    assert response.status_code == 303
    assert [r["id"] for r in addresses_of(account)] == [second]
    response = post_form(client, f"/profile/addresses/{second}/delete", {}, htmx=True, token_from="/profile")
    assert response.status_code == 200
    page = html(response)
    assert page.css_first("main") is None
    assert page.css_first("section#addresses") is not None
    assert page.css_first("section#addresses address") is None
    assert addresses_of(account) == []


def test_someone_elses_address_is_404_for_edit_update_and_delete(client):
    other = run(make_account(username="otto"))
    theirs = add_address_row(other, is_billing=True)
    logged_in(client)
    before = addresses_of(other)

    assert client.get(f"/profile/addresses/{theirs}/edit").status_code == 404
    response = post_form(
        client, f"/profile/addresses/{theirs}", {**ADDRESS, "line1": "Hijacked"}, token_from="/profile"
    )
    assert response.status_code == 404
    response = post_form(client, f"/profile/addresses/{theirs}/delete", {}, token_from="/profile")
    assert response.status_code == 404
    response = post_form(client, f"/profile/addresses/{theirs}/delete", {}, htmx=True, token_from="/profile")
    assert response.status_code == 404
    assert addresses_of(other) == before
    assert run(Account.count().run()) == 2
