"""Staff: list and search documents, issue one, see one with its history, revoke and supersede."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.plugins.flash import flash
from litestar.response import Redirect, Template
from litestar_htmx import ClientRedirect

from src import accounts, documents
from src.errors import Conflict, Refused
from src.forms import Form, read_form
from src.guards import requires_staff
from src.htmx import redirect, render
from src.mail import poke_worker
from src.routes.common import answer_refusal, step_up, today, tokens_of, url

CONFLICT_TEXT = "This document has changed since you loaded the page (it was revoked or superseded). Here is how it stands now."
FORM_FIELDS = (*documents.COLUMNS, "units")


def _values_of(document: Any, owner: Any) -> dict[str, str]:
    """A form pre-filled from a document (for supersede): its snapshot and its learner."""
    content = documents.content_of(document)
    return {
        "certificate_number": "",
        "learner_email": owner.email,
        "first_name": owner.first_name,
        "middle_name": owner.middle_name,
        "last_name": owner.last_name,
        "enrolment_number": owner.enrolment_number,
        "uln": owner.uln,
        "kind": content.get("kind", "certificate"),
        "qualification_code": content.get("qualification_code", ""),
        "qualification_title": content.get("title", ""),
        "level": content.get("level", ""),
        "grade": content.get("grade", ""),
        "awarded_on": content.get("awarded_on") or "",
        "valid_until": content.get("valid_until") or "",
        "units": documents.units_as_text(content.get("units") or []),
    }


async def _load(document_id: int) -> tuple[Any, Any]:
    found = await documents.for_staff(document_id)
    if found is None:
        raise NotFoundException()
    return found


def _read_document_form(form: Form) -> tuple[dict[str, str], list[dict[str, str]], str]:
    raw = {name: form.get(name) for name in documents.COLUMNS}
    units, problem = documents.units_from_text(form.get("units")[:20_000])
    return raw, units, problem


class StaffDocumentController(Controller):
    path = "/staff/documents"
    guards = [requires_staff]

    @get("/", name="staff_documents")
    async def list_documents(
        self,
        request: Request[Any, Any, Any],
        q: FromQuery[str] = "",
        status: FromQuery[str] = "",
        page: FromQuery[int] = 1,
    ) -> Template:
        """Page: documents matching the search, newest first, 50 a page. htmx: the results alone."""
        found = await documents.search(q, status, page)
        return render(
            request,
            "staff/documents.html",
            "partials/staff/_document_results.html",
            found=found,
            q=q[:100],
            status=status if status in documents.STATUSES else "",
            statuses=documents.STATUSES,
            today=today(request),
        )

    @get("/new", name="staff_new_document")
    async def new_document(self, request: Request[Any, Any, Any], learner: FromQuery[str] = "") -> Template:
        """Page: the form to issue one document. htmx: the form alone."""
        values = {"kind": "certificate", "learner_email": learner[:254]}
        return render(
            request,
            "staff/document_new.html",
            "partials/staff/_document_form.html",
            **self._form_context(values, {}),
        )

    def _form_context(
        self, values: dict[str, str], errors: dict[str, str], action: str = "/staff/documents/new"
    ) -> dict[str, Any]:
        return {"values": values, "errors": errors, "kinds": documents.KINDS, "action": action}

    @post("/new", name="staff_issue_document")
    async def issue_document(self, request: Request[Any, Any, Any]) -> Template | Redirect | ClientRedirect:
        """Issue a document (a new learner gets an account and an activation email). Errors: 422, values kept."""
        form = await read_form(request)
        raw, units, problem = _read_document_form(form)
        document = None
        if problem:  # nothing is issued while any field is wrong; the other fields are checked too
            errors = {**documents.check_row(raw, today=today(request)).errors, "units": problem}
        else:
            row, document = await documents.issue_one(
                tokens_of(request), request.user, raw, units, today=today(request)
            )
            errors = row.errors
        if document is None:
            values = {name: form.get(name) for name in FORM_FIELDS}
            return render(
                request,
                "staff/document_new.html",
                "partials/staff/_document_form.html",
                status_code=422,
                **self._form_context(values, errors),
            )
        poke_worker(request.app)
        flash(request, f"Document {document.certificate_number} has been issued.", category="success")
        return redirect(request, url(request, "staff_document", document_id=document.id))

    @get("/{document_id:int}", name="staff_document")
    async def show_document(self, request: Request[Any, Any, Any], document_id: FromPath[int]) -> Template:
        """Page: the document as issued, its standing, verify code, the learner's choices and its history.
        The learner sees the visit as a view by "Staff of <ORG_NAME>"."""
        document, owner = await _load(document_id)
        await documents.record_staff_view(request.user, document.id)
        return render(
            request,
            "staff/document.html",
            document=document,
            owner=owner,
            content=documents.content_of(document),
            standing=documents.standing(document, today(request)),
            code=documents.printed(document.verify_code),
            history=await documents.history(document),
            reasons=documents.REASONS,
        )

    @get("/{document_id:int}/revoke", name="staff_revoke_document")
    async def revoke_form(self, request: Request[Any, Any, Any], document_id: FromPath[int]) -> Template:
        """Page: the revoke form (reason, public wording, staff note)."""
        document, owner = await _load(document_id)
        return self._revoke_page(request, document, owner, {}, {})

    def _revoke_page(
        self,
        request: Request[Any, Any, Any],
        document: Any,
        owner: Any,
        values: dict[str, str],
        errors: dict[str, str],
        *,
        confirm: bool = False,
        status_code: int = 200,
    ) -> Template:
        return render(
            request,
            "staff/revoke.html",
            "partials/staff/_revoke_form.html",
            status_code=status_code,
            document=document,
            owner=owner,
            values=values,
            errors=errors,
            reasons=documents.REASONS,
            confirm=confirm,
            step_up=step_up(request),
        )

    @post("/{document_id:int}/revoke", name="staff_revoke")
    async def revoke_document(
        self, request: Request[Any, Any, Any], document_id: FromPath[int]
    ) -> Response[Any]:
        """First post: check the form and show the confirmation. Second (confirmed): revoke for good."""
        document, owner = await _load(document_id)
        form = await read_form(request)
        category = form.get("category")
        if category not in documents.REASONS:
            form.error("category", "Choose why the document is revoked")
        # Control characters (NUL included) never reach the database: PostgreSQL refuses them.
        form.values.update({k: documents.clean_text(form.get(k)) for k in ("wording", "note")})
        wording = form.required(
            "wording", "Enter the reason as the learner and the public will read it", max_length=500
        )
        note = form.optional("note", max_length=2000)
        version = form.get("version")
        if not version.isdigit() or len(version) > 9:
            raise NotFoundException()
        if document.status != "valid" or document.version != int(version):
            return await self._conflict(request, document_id)
        if not form.ok:
            return self._revoke_page(request, document, owner, form.kept(), form.errors, status_code=422)
        if form.get("confirmed") != "yes":
            return self._revoke_page(request, document, owner, form.kept(), {}, confirm=True)
        try:
            await accounts.check_step_up(request.session, request.user, form, tokens_of(request))
        except Refused as refusal:
            kept = form.kept(*accounts.STEP_UP_FIELDS)
            status = accounts.step_up_status(refusal)
            errors = {refusal.field: refusal.message}
            return self._revoke_page(request, document, owner, kept, errors, confirm=True, status_code=status)
        try:
            await documents.revoke(request.user, document_id, int(version), category, wording, note)
        except Conflict:
            return await self._conflict(request, document_id)
        poke_worker(request.app)
        flash(request, "The document has been revoked and the learner emailed.", category="success")
        return redirect(request, url(request, "staff_document", document_id=document_id))

    @staticmethod
    async def _step_up_refusal(request: Request[Any, Any, Any], form: Any) -> Refused | None:
        """Superseding needs a recent second step: the refusal to show beside the form, if one is due."""
        try:
            await accounts.check_step_up(request.session, request.user, form, tokens_of(request))
        except Refused as refusal:
            return refusal
        return None

    async def _conflict(self, request: Request[Any, Any, Any], document_id: int) -> Response[Any]:
        back = url(request, "staff_document", document_id=document_id)
        return await answer_refusal(request, Conflict(), changed=CONFLICT_TEXT, back=back)

    @get("/{document_id:int}/supersede", name="staff_supersede_document")
    async def supersede_form(self, request: Request[Any, Any, Any], document_id: FromPath[int]) -> Template:
        """Page: a form pre-filled from the document, to issue its replacement."""
        document, owner = await _load(document_id)
        return render(
            request,
            "staff/supersede.html",
            "partials/staff/_document_form.html",
            document=document,
            version=document.version,
            step_up=step_up(request),
            **self._form_context(
                _values_of(document, owner), {}, url(request, "staff_supersede", document_id=document_id)
            ),
        )

    @post("/{document_id:int}/supersede", name="staff_supersede")
    async def supersede_document(
        self, request: Request[Any, Any, Any], document_id: FromPath[int]
    ) -> Response[Any]:
        """Issue the replacement and mark this one superseded. Errors: 422, values kept; a race: 303 back."""
        document, _ = await _load(document_id)
        form = await read_form(request)
        version = form.get("version")
        if not version.isdigit() or len(version) > 9:
            raise NotFoundException()
        raw, units, problem = _read_document_form(form)
        new = None
        step_up_refusal = await self._step_up_refusal(request, form) if not problem else None
        if problem:
            errors = {**documents.check_row(raw, today=today(request)).errors, "units": problem}
        elif step_up_refusal is not None:
            errors = {step_up_refusal.field: step_up_refusal.message}
        else:
            try:
                row, new = await documents.supersede(
                    tokens_of(request),
                    request.user,
                    document_id,
                    int(version),
                    raw,
                    units,
                    today=today(request),
                )
            except Conflict:
                return await self._conflict(request, document_id)
            errors = row.errors
        if new is None:
            return render(
                request,
                "staff/supersede.html",
                "partials/staff/_document_form.html",
                status_code=accounts.step_up_status(step_up_refusal) if step_up_refusal else 422,
                document=document,
                version=version,
                step_up=step_up(request),
                **self._form_context(
                    {n: form.get(n) for n in FORM_FIELDS},
                    errors,
                    url(request, "staff_supersede", document_id=document_id),
                ),
            )
        poke_worker(request.app)
        flash(
            request,
            f"Document {new.certificate_number} replaces {document.certificate_number}.",
            category="success",
        )
        return redirect(request, url(request, "staff_document", document_id=new.id))
