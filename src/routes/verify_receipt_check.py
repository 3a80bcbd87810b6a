"""`/verify/receipt`: anyone pastes or uploads a receipt (a .jws file from the verify page or the API)
and reads, in words, whether our key signed it, when, what it said, and whether the document's
status has changed since. Public like the verify page: no session, no cookie, no script.
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, MediaType, Request, get, post
from litestar.background_tasks import BackgroundTask
from litestar.datastructures import UploadFile
from litestar.response import Template

from src import documents
from src.clock import utcnow
from src.routes.common import settings_of
from src.routes.verify import PUBLIC, VERIFY_HEADERS, check

MAX_RECEIPT = documents.MAX_RECEIPT_CHARACTERS
# A pasted receipt and an uploaded one, each at most MAX_RECEIPT, and the multipart envelope.
MAX_BODY = 2 * MAX_RECEIPT + 16 * 1024
NOT_A_RECEIPT = (
    "This is not a receipt: a receipt is a .jws file, one long line of letters and numbers in three "
    "parts joined by dots"
)


async def _submitted(request: Request[Any, Any, Any]) -> tuple[str, str]:
    """(the receipt to read, the pasted text to show again): the uploaded file when there is one."""
    data = await request.form()
    pasted = data.get("receipt")
    pasted = pasted if isinstance(pasted, str) else ""
    upload = data.get("file")
    uploaded = ""
    if isinstance(upload, UploadFile):
        raw = await upload.read(MAX_RECEIPT + 1)
        uploaded = raw.decode("utf-8", errors="replace")
    kept = pasted.replace("\x00", "")[:MAX_RECEIPT]
    return (uploaded if uploaded.strip() else pasted), kept


def _changed(claims: dict[str, Any], now: documents.Verdict) -> bool:
    return claims.get("status") != now.status or claims.get("status_on") != (
        now.status_on.isoformat() if now.status_on else None
    )


class ReceiptCheckController(Controller):
    include_in_schema = False

    @get("/verify/receipt", name="verify_receipt", opt=PUBLIC)
    async def show_form(self) -> Template:
        """Page: paste a receipt or choose its file."""
        return self._page(receipt="", error=None)

    @post("/verify/receipt", name="verify_receipt_check", opt=PUBLIC, request_max_body_size=MAX_BODY)
    async def check_receipt(self, request: Request[Any, Any, Any]) -> Template:
        """Page: what the receipt says and whether it is ours; 422 with the form for anything that is
        not a receipt at all."""
        text, kept = await _submitted(request)
        keys: documents.SigningKeys = request.app.state.signing_keys
        reading = keys.read(text)
        if reading.outcome == "empty":
            return self._page(receipt=kept, error="Paste a receipt or choose its file", status=422)
        if reading.outcome == "not_a_receipt":
            return self._page(receipt=kept, error=NOT_A_RECEIPT, status=422)
        claims = reading.claims or {}
        now = None
        if reading.outcome == "genuine" and isinstance(claims.get("code"), str):
            now = await check(request, claims["code"])
        return Template(
            template_name="verify/receipt_reading.html",
            context={
                "reading": reading,
                "claims": claims,
                "facts": claims.get("facts") if isinstance(claims.get("facts"), dict) else {},
                "printed": documents.printed(claims["code"])
                if isinstance(claims.get("code"), str) and documents.is_well_formed(claims["code"])
                else "",
                "now": now,
                "changed": now is not None and now.found and _changed(claims, now),
            },
            headers=VERIFY_HEADERS,
            media_type=MediaType.HTML,
            background=BackgroundTask(
                documents.record_checks, [now.document_id], utcnow(), settings_of(request).tz
            )
            if now is not None and now.document_id
            else None,
        )

    def _page(self, *, receipt: str, error: str | None, status: int = 200) -> Template:
        return Template(
            template_name="verify/receipt.html",
            context={"receipt": receipt, "error": error},
            status_code=status,
            headers=VERIFY_HEADERS,
            media_type=MediaType.HTML,
        )
