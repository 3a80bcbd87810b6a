"""The staff CSV import as a browser drives it: a file built from rows, the upload, the dry run's
outcome per row, the confirm button."""

from __future__ import annotations

import csv
import io
from typing import Any

from src.documents import COLUMNS
from tests.support.pages import html


def csv_bytes(rows: list[dict[str, str]], columns: list[str] | None = None, bom: bool = False) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns or list(COLUMNS), extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return (("\ufeff" if bom else "") + out.getvalue()).encode()


def upload(client: Any, data: bytes, units: bytes | None = None, htmx: bool = False) -> Any:
    token = html(client.get("/staff/imports")).css_first('input[name="_csrf_token"]').attributes["value"]
    files: dict[str, Any] = {"file": ("results.csv", data, "text/csv")}
    if units is not None:
        files["units"] = ("units.csv", units, "text/csv")
    headers = {"HX-Request": "true"} if htmx else {}
    return client.post(
        "/staff/imports", data={"_csrf_token": token}, files=files, headers=headers, follow_redirects=False
    )


def outcomes(response: Any) -> list[tuple[str, str]]:
    """(certificate number, result words) for every row of the dry run table."""
    found = []
    for tr in html(response).css("#import-result tbody tr"):
        cells = tr.css("td")
        found.append((cells[1].text(strip=True), cells[5].css_first("strong").text(strip=True)))
    return found


def confirm(client: Any, response: Any) -> Any:
    form = html(response).css_first('form[action$="/confirm"]')
    assert form is not None, "no confirm button"
    token = form.css_first('input[name="_csrf_token"]').attributes["value"]
    return client.post(form.attributes["action"], data={"_csrf_token": token}, follow_redirects=False)
