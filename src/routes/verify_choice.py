"""The learner's per-document choice: whether the verify page shows the document itself."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.plugins.flash import flash
from litestar.response import Redirect, Template
from litestar_htmx import ClientRedirect

from src import documents
from src.forms import read_form
from src.guards import requires_learner
from src.htmx import redirect, render, wants_fragment


class VerifyChoiceController(Controller):
    guards = [requires_learner]

    @post(
        "/documents/{document_id:int}/verify-page",
        name="verify_choice",
        status_code=200,
        opt={"reload": "document"},
    )
    async def choose(
        self, request: Request[Any, Any, Any], document_id: FromPath[int]
    ) -> Template | Redirect | ClientRedirect:
        """Show or hide the document on its verify page, then its page again (htmx: the switch alone)."""
        form = await read_form(request)
        show = form.get("show") == "yes"
        if not await documents.set_shown_on_verify(request.user.id, document_id, show):
            raise NotFoundException()  # not theirs, or no such document: the same answer
        if wants_fragment(request):
            [document] = await documents.owned_by(request.user, [document_id])
            return render(request, "partials/documents/_verify_choice.html", d=document, changed=True)
        flash(
            request,
            "The verify page now shows the document itself."
            if show
            else "The verify page now shows the status and key facts only.",
            category="success",
        )
        return redirect(
            request,
            request.app.route_reverse("document", document_id=document_id) + f"#verify-choice-{document_id}",
        )
