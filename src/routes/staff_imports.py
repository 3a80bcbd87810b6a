"""Staff: issue documents from a CSV upload: templates, the dry run, the errors file, the confirm."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.plugins.flash import flash
from litestar.response import Redirect, Template
from litestar_htmx import ClientRedirect

from src import accounts, documents
from src.errors import Refused
from src.forms import read_form
from src.guards import requires_staff
from src.htmx import redirect, render
from src.mail import poke_worker
from src.routes.common import step_up, today, tokens_of, url

# Two files of at most MAX_FILE_BYTES each, plus the multipart envelope. Only this route takes
# more than the app-wide limit for forms.
UPLOAD_MAX_BODY = 2 * documents.MAX_FILE_BYTES + 64 * 1024
CSV_HEADERS = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}
# Litestar appends "; charset=utf-8" to any text/ media type, even one that already names it.
CSV = "text/csv"


async def _file_bytes(data: Any, name: str) -> tuple[str, bytes]:
    value = data.get(name)
    if isinstance(value, UploadFile):
        return value.filename or "", await value.read(documents.MAX_FILE_BYTES + 1)
    return "", b""


class StaffImportController(Controller):
    path = "/staff/imports"
    guards = [requires_staff]

    @get("/", name="staff_imports")
    async def upload_form(self, request: Request[Any, Any, Any]) -> Template:
        """Page: the upload form and the CSV templates."""
        return render(request, "staff/imports.html", errors={}, max_rows=documents.MAX_ROWS)

    @get("/template.csv", name="staff_import_template")
    async def template(self, units: FromQuery[bool] = False) -> Response[str]:
        """The header row to fill in (documents, or units with ?units=true)."""
        name = "units-template.csv" if units else "documents-template.csv"
        return Response(
            documents.template_csv(units),
            media_type=CSV,
            headers={**CSV_HEADERS, "Content-Disposition": f'attachment; filename="{name}"'},
        )

    @post("/", name="staff_upload_import", request_max_body_size=UPLOAD_MAX_BODY)
    async def check_upload(self, request: Request[Any, Any, Any]) -> Template:
        """The dry run: every row as new, identical, conflict or error. A file that cannot be read: 422."""
        data = await request.form()
        filename, content = await _file_bytes(data, "file")
        _, units = await _file_bytes(data, "units")
        error = "Choose a CSV file to upload" if not content else ""
        if not error:
            try:
                batch_id, result = await documents.dry_run(
                    request.user, filename, content, units, today=today(request)
                )
            except Refused as exc:
                error = str(exc)
        if error:
            return render(
                request,
                "staff/imports.html",
                "partials/staff/_import_form.html",
                status_code=422,
                errors={"file": error},
                max_rows=documents.MAX_ROWS,
            )
        return self._result_page(request, batch_id, filename, "checked", result)

    def _result_page(
        self,
        request: Request[Any, Any, Any],
        batch_id: int,
        filename: str,
        state: str,
        result: documents.CheckResult,
        status_code: int = 200,
        page: int = 1,
        errors: dict[str, str] | None = None,
    ) -> Template:
        return render(
            request,
            "staff/import.html",
            "partials/staff/_import_result.html",
            status_code=status_code,
            batch_id=batch_id,
            filename=filename,
            state=state,
            result=result,
            counts=result.counts,
            rows=documents.rows_page(result, page),
            step_up=step_up(request),
            errors=errors or {},
        )

    @get("/{batch_id:int}", name="staff_import")
    async def show_import(
        self, request: Request[Any, Any, Any], batch_id: FromPath[int], page: FromQuery[int] = 1
    ) -> Template:
        """Page: the batch checked again against the database as it is now, one page of its rows
        (errors and conflicts first)."""
        found = await documents.recheck(batch_id, today=today(request))
        if found is None:
            raise NotFoundException()
        batch, result = found
        return self._result_page(request, batch_id, batch["filename"], batch["state"], result, page=page)

    @get("/{batch_id:int}/errors.csv", name="staff_import_errors")
    async def errors_file(self, request: Request[Any, Any, Any], batch_id: FromPath[int]) -> Response[str]:
        """The rows that cannot be imported, with an `errors` column, safe to open in a spreadsheet."""
        found = await documents.recheck(batch_id, today=today(request))
        if found is None:
            raise NotFoundException()
        return Response(
            documents.errors_csv(found[1]),
            media_type=CSV,
            headers={
                **CSV_HEADERS,
                "Content-Disposition": f'attachment; filename="import-{batch_id}-errors.csv"',
            },
        )

    @post("/{batch_id:int}/confirm", name="staff_confirm_import", opt={"reload": "staff_import"})
    async def confirm_import(
        self, request: Request[Any, Any, Any], batch_id: FromPath[int]
    ) -> Template | Redirect | ClientRedirect:
        """Write every new row or none, after a recent second step (step-up: else the page again, 422,
        with the prompt beside the button); then back to the batch's page with what happened."""
        try:
            await accounts.check_step_up(
                request.session, request.user, await read_form(request), tokens_of(request)
            )
        except Refused as refusal:
            found = await documents.recheck(batch_id, today=today(request))
            if found is None:
                raise NotFoundException() from None
            batch, result = found
            return self._result_page(
                request,
                batch_id,
                batch["filename"],
                batch["state"],
                result,
                accounts.step_up_status(refusal),
                errors={refusal.field: refusal.message},
            )
        try:
            done = await documents.confirm(tokens_of(request), request.user, batch_id, today=today(request))
        except Refused as exc:
            found = await documents.recheck(batch_id, today=today(request))
            if found is None:
                raise NotFoundException() from None
            flash(request, str(exc), category="warning")
            return self._result_page(
                request, batch_id, found[0]["filename"], found[0]["state"], found[1], 422
            )
        if done.already:
            flash(request, "This import had already been confirmed: nothing was changed.", category="info")
        elif done.nothing_new:
            flash(
                request,
                "Every row of this file was already imported: nothing was written.",
                category="info",
            )
        else:
            poke_worker(request.app)
            flash(
                request,
                f"Imported {done.created} documents; {done.skipped} identical rows were skipped. The learners have been emailed.",
                category="success",
            )
        return redirect(request, url(request, "staff_import", batch_id=batch_id))
