"""Becoming an account holder: register (third parties), verify the email address, resend the link,
and activate (learners whose account staff created)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.exceptions import TooManyRequestsException
from litestar.params import FromPath, FromQuery
from litestar.plugins.flash import flash
from litestar.response import Redirect, Template
from litestar_htmx import ClientRedirect

from src import accounts, throttle
from src.db import unique_violation
from src.forms import EMAIL_RE, USERNAME_RE, Form, parse_date, read_form
from src.htmx import redirect, render
from src.mail import poke_worker
from src.passwords import password_problem
from src.routes.common import client_ip, tokens_of
from src.tables.accounts import Role
from src.tokens import VERIFY_EMAIL_MAX_AGE, TokenError

USERNAME_TAKEN = "This user name is taken. Choose another"
EMAIL_FORM_LIMIT = 10  # per IP per hour, for forms that send email


async def limit_email_forms(request: Request[Any, Any, Any], name: str) -> None:
    store = request.app.stores.get("throttle")
    if await throttle.hit(store, f"{name}:{client_ip(request)}", 3600) > EMAIL_FORM_LIMIT:
        raise TooManyRequestsException("You have sent this form too many times. Try again in an hour.")


def check_registration(form: Form) -> accounts.NewAccount | None:
    first = form.required("first_name", "Enter your first name")
    middle = form.optional("middle_name", 100)
    last = form.required("last_name", "Enter your last name")
    username = form.required("username", "Enter a user name", 40)
    if username and not USERNAME_RE.match(username):
        form.error("username", "User name must be 3 to 40 letters, numbers, dots, dashes or underscores")
    email = form.email("email")
    born = parse_date(form, "dob", "your date of birth", past="Date of birth must be in the past")
    phone = form.optional("phone", 40)
    company = form.optional("company_name")
    job = form.optional("job_title")
    password = form.get("password")
    problem = password_problem(password, username=username, email=email)
    if problem:
        form.error("password", problem)
    if not form.ok:
        return None
    return accounts.NewAccount(
        role=Role.third_party,
        username=username,
        email=email,
        first_name=first,
        middle_name=middle,
        last_name=last,
        phone=phone,
        company_name=company,
        job_title=job,
        date_of_birth=born,
        password=password,
    )


class AccountController(Controller):
    @get("/register", name="register")
    async def show_register(self, request: Request[Any, Any, Any], email: FromQuery[str] = "") -> Template:
        """Page: the registration form (the invited address filled in from an invitation's link).
        htmx: the form alone."""
        email = email.strip().lower()
        values = {"email": email} if len(email) <= 254 and EMAIL_RE.match(email) else {}
        return render(
            request, "account/register.html", "partials/account/_register_form.html", values=values, errors={}
        )

    @post("/register")
    async def register(self, request: Request[Any, Any, Any]) -> Template | Redirect | ClientRedirect:
        """Register a third party, then 'check your email'. Errors: the form again, 422, values kept."""
        form = await read_form(request)
        new = check_registration(form)
        if new is not None and await accounts.username_taken(new.username):
            new = None
            form.error("username", USERNAME_TAKEN)
        if new is not None:
            await limit_email_forms(request, "register")
            try:
                await accounts.register(tokens_of(request), new)
            except Exception as exc:
                # Lost a race to another registration: the unique index decides. A taken email
                # answers like any other registration (no enumeration); a taken user name says so.
                column = unique_violation(exc)
                if column not in {"username_key", "email"}:
                    raise
                if column == "username_key":
                    new = None
                    form.error("username", USERNAME_TAKEN)
        if new is None:
            return render(
                request,
                "account/register.html",
                "partials/account/_register_form.html",
                status_code=422,
                values=form.kept("password"),
                errors=form.errors,
            )
        poke_worker(request.app)
        request.session["check_email"] = new.email
        return redirect(request, "/register/check-email")

    @get("/register/check-email", name="check_email")
    async def show_check_email(self, request: Request[Any, Any, Any]) -> Template:
        """Page: 'we have sent you a link', the same whether or not the address was new."""
        return render(
            request,
            "account/check_email.html",
            email=request.session.get("check_email"),
            hours=VERIFY_EMAIL_MAX_AGE // 3600,
        )

    @get("/verify-email/{token:str}", name="verify_email")
    async def verify_email(
        self, request: Request[Any, Any, Any], token: FromPath[str]
    ) -> Template | Redirect:
        """The link from the email: marks the address verified, then the log-in page."""
        try:
            await accounts.verify_email(tokens_of(request), token)
        except TokenError as exc:
            return render(
                request, "account/link_problem.html", status_code=400, reason=exc.reason, purpose="verify"
            )
        flash(request, "Your email address is verified. You can now log in.", category="success")
        return Redirect(path="/login", status_code=303)

    @get("/verify-email/resend", name="resend_verification")
    async def show_resend(self, request: Request[Any, Any, Any]) -> Template:
        """Page: ask for a new verification link."""
        return render(
            request, "account/resend.html", "partials/account/_resend_form.html", values={}, errors={}
        )

    @post("/verify-email/resend")
    async def resend_verification(
        self, request: Request[Any, Any, Any]
    ) -> Template | Redirect | ClientRedirect:
        """Send a new link if the address belongs to an unverified account; answer the same regardless."""
        form = await read_form(request)
        email = form.email("email")
        if not form.ok:
            return render(
                request,
                "account/resend.html",
                "partials/account/_resend_form.html",
                status_code=422,
                values=form.kept(),
                errors=form.errors,
            )
        await limit_email_forms(request, "resend")
        await accounts.resend_verification(tokens_of(request), email)
        poke_worker(request.app)
        request.session["check_email"] = email
        return redirect(request, "/register/check-email")

    @get("/activate/{token:str}", name="activate")
    async def show_activate(self, request: Request[Any, Any, Any], token: FromPath[str]) -> Template:
        """Page: a learner chooses a password to activate the account staff made for them."""
        try:
            account = await accounts.account_for_link(tokens_of(request), "activate", token)
        except TokenError as exc:
            return render(
                request, "account/link_problem.html", status_code=400, reason=exc.reason, purpose="activate"
            )
        return render(
            request,
            "account/activate.html",
            "partials/account/_set_password_form.html",
            account=account,
            action=f"/activate/{token}",
            errors={},
        )

    @post("/activate/{token:str}")
    async def activate(
        self, request: Request[Any, Any, Any], token: FromPath[str]
    ) -> Template | Redirect | ClientRedirect:
        """Set the first password, verify the address (the link proved it), then the log-in page."""
        try:
            account = await accounts.account_for_link(tokens_of(request), "activate", token)
        except TokenError as exc:
            return render(
                request, "account/link_problem.html", status_code=400, reason=exc.reason, purpose="activate"
            )
        form = await read_form(request)
        problem = password_problem(form.get("password"), username=account.username, email=account.email)
        if problem:
            form.error("password", problem)
            return render(
                request,
                "account/activate.html",
                "partials/account/_set_password_form.html",
                status_code=422,
                account=account,
                action=f"/activate/{token}",
                errors=form.errors,
            )
        await accounts.set_password(account, form.get("password"), verify_email_too=True)
        poke_worker(request.app)
        flash(
            request, "Your account is ready. Log in with your user name and new password.", category="success"
        )
        return redirect(request, "/login")
