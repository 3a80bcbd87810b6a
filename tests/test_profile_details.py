"""Manage: personal details: the profile page, saving details (no-JS and htmx), validation, and an
email change that waits until the link sent to the new address is opened."""

from __future__ import annotations

from datetime import date

from src.tables.accounts import Account
from src.tables.outbox import OutboxEmail
from tests.support.client import log_in, post_form, run
from tests.support.factories import STRONG_PASSWORD, make_account
from tests.support.pages import field_value, html
from tests.support.smtp import link_in

DETAILS = {
    "first_name": "Tess",
    "middle_name": "Ann",
    "last_name": "Tester",
    "username": "tess",
    "email": "tess@example.com",
    "dob-day": "",
    "dob-month": "",
    "dob-year": "",
    "phone": "",
    "company_name": "",
    "job_title": "",
    "current_password": STRONG_PASSWORD,  # asked for when the email address changes
}


def account_row(username_key: str = "tess") -> dict:
    return run(Account.select().where(Account.username_key == username_key).first().run())


def logged_in(client, username: str = "tess", **extra) -> None:
    run(make_account(username=username, **extra))
    log_in(client, username)


def save_details(client, htmx: bool = False, **changes: str):
    return post_form(client, "/profile/details", {**DETAILS, **changes}, htmx=htmx, token_from="/profile")


def test_profile_page_shows_every_section_with_current_details(client):
    logged_in(client, company_name="Acme Hiring", job_title="Recruiter")
    response = client.get("/profile")
    assert response.status_code == 200
    page = html(response)
    assert page.css_first("main#main-content h1").text(strip=True) == "Manage your profile"
    headings = [node.text(strip=True) for node in page.css("main h2")]
    for heading in (
        "Personal details",
        "Additional contact information",
        "Addresses",
        "Password and account",
    ):
        assert heading in headings
    form = page.css_first("form#details-form")
    assert form.attributes["action"] == "/profile/details"
    assert form.attributes["method"] == "post"
    assert field_value(page, "username") == "tess"
    assert field_value(page, "email") == "tess@example.com"
    assert field_value(page, "company_name") == "Acme Hiring"
    assert field_value(page, "job_title") == "Recruiter"
    for part in ("day", "month", "year"):
        assert page.css_first(f'input#dob-{part}[type="text"]') is not None
    links = {node.attributes.get("href") for node in page.css("main a")}
    assert {"/profile/password", "/profile/delete", "/profile/addresses/new"} <= links
    assert response.headers["cache-control"] == "no-store"


def test_profile_needs_a_login(client):
    response = client.get("/profile", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/profile"


def test_saving_details_without_javascript_redirects_with_a_flash(client, mailbox):
    logged_in(client)
    response = save_details(
        client,
        first_name="Teresa",
        middle_name="",
        phone="07700 900123",
        company_name="Acme",
        job_title="Buyer",
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/profile"
    row = account_row()
    assert (row["first_name"], row["middle_name"], row["phone"]) == ("Teresa", "", "07700 900123")
    assert (row["company_name"], row["job_title"]) == ("Acme", "Buyer")
    page = html(client.get("/profile"))
    notices = [node.text(strip=True) for node in page.css(".notice-success")]
    assert notices == ["Your details have been saved."]
    assert field_value(page, "first_name") == "Teresa"
    # Same email: nothing is queued.
    assert run(OutboxEmail.count().run()) == 0


def test_saving_details_with_htmx_returns_the_form_alone_with_saved(client):
    logged_in(client)
    response = save_details(client, htmx=True, job_title="Talent lead")
    assert response.status_code == 200
    assert "HX-Request" in response.headers["vary"]
    page = html(response)
    assert "<html" not in response.text.lower()
    assert page.css_first("header.site-header") is None
    assert page.css_first("main") is None
    forms = page.css("form")
    assert [f.attributes.get("id") for f in forms] == ["details-form"]
    assert "Your details have been saved." in page.css_first(".notice-success").text()
    assert field_value(page, "job_title") == "Talent lead"
    assert account_row()["job_title"] == "Talent lead"


def test_invalid_details_answer_422_keep_values_and_save_nothing(client):
    logged_in(client, company_name="Original Co")
    response = save_details(
        client,
        first_name="",
        username="no spaces allowed",
        company_name="Changed Co",
        **{"dob-day": "31", "dob-month": "2", "dob-year": "1990"},
    )
    assert response.status_code == 422
    page = html(response)
    summary = page.css_first(".error-summary")
    assert summary is not None
    targets = [a.attributes["href"] for a in summary.css("a")]
    assert targets == ["#first_name", "#username", "#dob-day"]
    errors = {node.attributes["id"]: node.text(strip=True) for node in page.css(".error-message")}
    assert "Enter your first name" in errors["first_name-error"]
    assert "User name must be" in errors["username-error"]
    assert "real date" in errors["dob-error"]
    assert page.css_first("#first_name").attributes.get("aria-invalid") == "true"
    assert field_value(page, "username") == "no spaces allowed"
    assert field_value(page, "company_name") == "Changed Co"
    assert field_value(page, "dob-day") == "31"
    assert page.css_first("title").text().startswith("Error:")
    row = account_row()
    assert (row["first_name"], row["company_name"], row["date_of_birth"]) == ("Tess", "Original Co", None)


def test_invalid_details_with_htmx_answer_422_with_the_form_alone(client):
    logged_in(client)
    response = save_details(client, htmx=True, last_name="", job_title="Kept")
    assert response.status_code == 422
    page = html(response)
    assert page.css_first("main") is None
    assert page.css_first("form#details-form .error-summary") is not None
    assert field_value(page, "job_title") == "Kept"
    assert account_row()["job_title"] == ""


def test_a_taken_user_name_is_refused(client):
    run(make_account(username="taken"))
    logged_in(client)
    response = save_details(client, username="TAKEN", job_title="Not saved")
    assert response.status_code == 422
    assert "This user name is taken" in html(response).css_first("#username-error").text()
    row = account_row()
    assert row["username"] == "tess"
    assert row["job_title"] == ""
    # A change of case of one's own name is fine.
    assert save_details(client, username="Tess").status_code == 303
    assert account_row()["username"] == "Tess"


def test_date_of_birth_accepts_month_names(client):
    logged_in(client)
    response = save_details(client, **{"dob-day": "7", "dob-month": "March", "dob-year": "1991"})
    assert response.status_code == 303
    assert account_row()["date_of_birth"] == date(1991, 3, 7)
    save_details(client, **{"dob-day": "25", "dob-month": "dec", "dob-year": "1988"})
    assert account_row()["date_of_birth"] == date(1988, 12, 25)
    page = html(client.get("/profile"))
    assert (field_value(page, "dob-day"), field_value(page, "dob-month"), field_value(page, "dob-year")) == (
        "25",
        "12",
        "1988",
    )
    response = save_details(client, **{"dob-day": "3", "dob-month": "Smarch", "dob-year": "1990"})
    assert response.status_code == 422
    assert account_row()["date_of_birth"] == date(1988, 12, 25)


def test_email_changes_only_when_the_link_sent_to_the_new_address_is_opened(client, mailbox):
    logged_in(client)
    response = save_details(client, email="Tess.New@Example.com")
    assert response.status_code == 303
    assert account_row()["email"] == "tess@example.com"
    notice = html(client.get("/profile")).css_first(".notice-success").text()
    assert "tess.new@example.com" in notice
    # Until the link is opened, the old address still logs in and the page still shows it.
    assert field_value(html(client.get("/profile")), "email") == "tess@example.com"

    message = mailbox.wait_for(to="tess.new@example.com", subject="Confirm your new email address")
    link = link_in(message, "/profile/email/")
    opened = client.get(link, follow_redirects=False)
    assert opened.status_code == 303
    assert opened.headers["location"] == "/profile"
    row = account_row()
    assert row["email"] == "tess.new@example.com"
    assert row["email_verified_at"] is not None
    notice = mailbox.wait_for(to="tess@example.com", subject="Your email address has been changed")
    assert "tess.new@example.com" in notice.get_body(preferencelist=("plain",)).get_content()

    # The link works once.
    again = client.get(link, follow_redirects=False)
    assert again.status_code == 400
    assert account_row()["email"] == "tess.new@example.com"


def test_email_change_link_asks_for_a_login_first_and_comes_back(client, other_client, mailbox):
    logged_in(client)
    save_details(client, email="fresh@example.com")
    link = link_in(mailbox.wait_for(to="fresh@example.com", subject="Confirm"), "/profile/email/")
    # Opened on another device that is not logged in: log in, then back to the link.
    response = other_client.get(link, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == f"/login?next={link}"
    assert account_row()["email"] == "tess@example.com"
    log_response = post_form(
        other_client, "/login", {"login": "tess", "password": STRONG_PASSWORD, "next": link}
    )
    assert log_response.headers["location"] == link
    assert other_client.get(link, follow_redirects=False).headers["location"] == "/profile"
    assert account_row()["email"] == "fresh@example.com"


def test_email_change_link_does_nothing_once_the_address_is_taken(client, mailbox):
    logged_in(client)
    save_details(client, email="fresh@example.com")
    link = link_in(mailbox.wait_for(to="fresh@example.com", subject="Confirm"), "/profile/email/")
    # Someone registers that address meanwhile: the link no longer changes anything.
    run(make_account(username="quick", email_address="fresh@example.com"))
    assert client.get(link, follow_redirects=False).status_code == 400
    assert account_row()["email"] == "tess@example.com"


def test_correcting_a_typo_in_the_new_address_sends_a_second_link(client, mailbox):
    logged_in(client)
    save_details(client, email="fersh@example.com")
    save_details(client, email="fresh@example.com")
    link = link_in(mailbox.wait_for(to="fresh@example.com", subject="Confirm"), "/profile/email/")
    assert client.get(link, follow_redirects=False).status_code == 303
    assert account_row()["email"] == "fresh@example.com"


def test_a_tampered_email_change_link_is_refused(client):
    logged_in(client)
    response = client.get("/profile/email/not-a-real-token", follow_redirects=False)
    assert response.status_code == 400
    assert account_row()["email"] == "tess@example.com"


def test_changing_to_an_email_in_use_sends_nothing_and_changes_nothing(client, mailbox):
    run(make_account(username="other", email_address="used@example.com"))
    logged_in(client)
    response = save_details(client, email="used@example.com")
    # The answer does not reveal whether the address is in use.
    assert response.status_code == 303
    assert account_row()["email"] == "tess@example.com"
    assert run(OutboxEmail.count().where(OutboxEmail.recipient == "used@example.com").run()) == 0


def test_a_malformed_email_is_refused(client):
    logged_in(client)
    response = save_details(client, email="not-an-email")
    assert response.status_code == 422
    assert "correct format" in html(response).css_first("#email-error").text()
    assert field_value(html(response), "email") == "not-an-email"


def test_a_date_of_birth_in_the_future_or_with_a_two_digit_year_says_what_is_wrong(client):
    logged_in(client)
    next_year = str(date.today().year + 1)
    for year, message in (
        (next_year, "Date of birth must be in the past"),
        ("90", "Year must include 4 numbers"),
    ):
        response = save_details(client, **{"dob-day": "1", "dob-month": "2", "dob-year": year})
        assert response.status_code == 422
        page = html(response)
        assert message in page.css_first("#dob-error").text(strip=True)
        assert field_value(page, "dob-year") == year
        assert account_row()["date_of_birth"] is None


# Names of several scripts that must pass, and what is not a name (the rule every name field shares,
# src.forms.name_problem: certificates print names, and spreadsheets would run a leading "=").
NAMES_OF_EVERY_SCRIPT = ["Zoë", "Nguyễn Thị", "O\u2019Brien", "José-María", "محمد", "李", "Дарья", "St. John"]
NOT_NAMES = {
    "Tess2": "First name may use only",
    "=HYPERLINK(1)": "First name must start with a letter",
    "<b>Tess</b>": "First name must start with a letter",
    "Te\u202esst": "First name may use only letters, spaces, hyphens (-), apostrophes (') and full stops, not “U+202E”",
}


def test_names_of_every_script_are_saved_in_one_written_form(client):
    logged_in(client)
    for name in NAMES_OF_EVERY_SCRIPT:
        assert save_details(client, first_name=name, last_name=f"  {name}  ").status_code == 303
        assert (account_row()["first_name"], account_row()["last_name"]) == (name, name)
    save_details(client, first_name="Nguye\u0302\u0303n")  # decomposed: stored composed (NFC)
    assert account_row()["first_name"] == "Nguyễn"


def test_what_is_not_a_name_is_refused_beside_the_field_and_kept(client):
    logged_in(client)
    for typed, message in NOT_NAMES.items():
        response = save_details(client, first_name=typed, middle_name="4")
        assert response.status_code == 422, typed
        page = html(response)
        errors = {node.attributes["id"]: node.text(strip=True) for node in page.css(".error-message")}
        assert message in errors["first_name-error"], typed
        assert "Middle name must start with a letter" in errors["middle_name-error"]
        assert field_value(page, "first_name") == typed
        assert account_row()["first_name"] == "Tess"
