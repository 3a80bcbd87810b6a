"""Staff: a minimal way to add a learner, who gets an email to activate the account."""

from __future__ import annotations

import re
import secrets
from typing import Any

from litestar import Controller, Request, get, post
from litestar.plugins.flash import flash
from litestar.response import Redirect, Template
from litestar_htmx import ClientRedirect

from src import accounts, outbox
from src.db import write_transaction
from src.forms import read_form
from src.guards import requires_staff
from src.htmx import redirect, render
from src.outbox import poke_worker
from src.routes.common import tokens_of
from src.tables.accounts import Account, Role
from src.tokens import ACTIVATE_MAX_AGE


async def _free_username(first: str, last: str) -> str:
    stem = re.sub(r"[^a-z0-9]", "", f"{first[:1]}{last}".lower())[:30] or "learner"
    candidate = stem
    while await accounts.username_taken(candidate) or len(candidate) < 3:
        candidate = f"{stem}{secrets.randbelow(9000) + 1000}"
    return candidate


class StaffController(Controller):
    path = "/staff/learners"
    guards = [requires_staff]

    @get("/", name="staff_learners")
    async def list_learners(self, request: Request[Any, Any, Any]) -> Template:
        """Page: the newest learners and the form to add one. htmx: the form alone."""
        learners = (
            await Account.objects()
            .where((Account.role == Role.learner.value) & Account.deleted_at.is_null())
            .order_by(Account.id, ascending=False)
            .limit(50)
        )
        return render(
            request,
            "staff/learners.html",
            "partials/staff/_learner_form.html",
            learners=learners,
            values={},
            errors={},
        )

    @post("/")
    async def add_learner(self, request: Request[Any, Any, Any]) -> Template | Redirect | ClientRedirect:
        """Add a learner and email them an activation link. Errors: 422, values kept."""
        form = await read_form(request)
        first = form.required("first_name", "Enter the learner's first name")
        last = form.required("last_name", "Enter the learner's last name")
        email = form.email("email")
        if form.ok and await accounts.email_taken(email):
            form.error("email", "An account already uses this email address")
        if not form.ok:
            learners = (
                await Account.objects()
                .where(Account.role == Role.learner.value)
                .order_by(Account.id, ascending=False)
                .limit(50)
            )
            return render(
                request,
                "staff/learners.html",
                "partials/staff/_learner_form.html",
                status_code=422,
                learners=learners,
                values=form.kept(),
                errors=form.errors,
            )
        async with write_transaction():
            learner = await accounts.create_account(
                accounts.NewAccount(
                    role=Role.learner,
                    username=await _free_username(first, last),
                    email=email,
                    first_name=first,
                    last_name=last,
                )
            )
            await outbox.enqueue(
                learner.email,
                "activate_account",
                {
                    "first_name": first,
                    "username": learner.username,
                    "path": accounts.activation_link(tokens_of(request), learner),
                    "days": ACTIVATE_MAX_AGE // 86400,
                },
                f"activate:{learner.id}",
            )
        poke_worker(request.app)
        flash(request, f"{first} {last} has been added and sent an activation email.", category="success")
        return redirect(request, "/staff/learners")
