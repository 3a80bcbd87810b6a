"""A person's data as one ZIP, made while it is sent: README.txt first, then each section as JSON and
as CSV. The archive is written by the standard library's zipfile into a buffer that is emptied after
every few rows and handed to the response, so no copy is ever kept on disk or whole in memory
(zipfile writes a data descriptor after each entry when its stream cannot seek)."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import AsyncIterator
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from src.clock import long_date, utcnow
from src.exports.sections import SECTIONS, Reader, Section, Window
from src.tables.accounts import Account

PAGE_SIZE = 500  # rows read from the database at a time, and written before the buffer is handed over


class _Chunks(io.RawIOBase):
    """A stream that only grows: zipfile writes into it, the response takes what was written."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self._parts.append(bytes(data))
        return len(data)

    def take(self) -> bytes:
        data = b"".join(self._parts)
        self._parts.clear()
        return data


def _plain(value: Any) -> Any:
    """A value as JSON has it: dates and times in ISO 8601 (UTC for times)."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _cell(value: Any) -> str:
    """A value as a CSV cell. One that a spreadsheet would run as a formula is prefixed with ' so it
    is shown as text (a message someone else typed is part of a person's data)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        text = "yes" if value else "no"
    elif isinstance(value, dict | list):
        text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    else:
        text = str(_plain(value))
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def readme(person: Account, made_at: datetime, org_name: str, support_email: str) -> str:
    files = "\n".join(f"  {section.name}.json / {section.name}.csv: {section.title}" for section in SECTIONS)
    return f"""A COPY OF YOUR DATA AT {org_name.upper()}

This is a copy of the data {org_name} holds about you ({person.username}), made at
{made_at:%H:%M} UTC on {long_date(made_at.date())} because you asked for it.

It is NOT an official document and proves nothing about your qualifications: anyone can edit
these files. The proof of a document is its verify address (the verify_address column of
documents.csv, the address its QR code holds), which shows its status as it stands today.

Each part of your data is here twice: as JSON (everything, including each document's content
exactly as it was issued) and as CSV (the same rows, for a spreadsheet). Times are in UTC
(ISO 8601). A CSV cell that starts with ' had that mark added so that a spreadsheet shows it as
text rather than running it as a formula.

{files}

Left out: your password (we keep only a one-way hash of it, which is of no use to you), notes
staff keep for themselves about a document, and emails sent to an address before it was yours.
For anything else, or a question about this copy, write to {support_email}.
"""


async def _pages(
    section: Section, person: Account, reader: Reader, until: int | None
) -> AsyncIterator[list[dict[str, Any]]]:
    """The section's rows a page at a time, in id order, up to `until` (None: no bound)."""
    after = 0
    while True:
        rows = await section.read(person, reader, Window(after, until, PAGE_SIZE))
        if rows:
            yield rows
        if len(rows) < PAGE_SIZE:
            return
        after = rows[-1]["id"]


async def data_archive(person: Account, reader: Reader) -> AsyncIterator[bytes]:
    """The ZIP of the person's data, in pieces as it is made: each section read a page at a time just
    before it is written, so at most one page of rows is in memory at a time."""
    made_at = utcnow()
    stamp = made_at.timetuple()[:6]
    out = _Chunks()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:

        def entry(name: str) -> zipfile.ZipInfo:
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            return info

        text = readme(person, made_at, reader.settings.org_name, reader.settings.support_email)
        archive.writestr(entry("README.txt"), text.replace("\n", "\r\n"))
        yield out.take()
        for section in SECTIONS:
            async for piece in _section(archive, entry, section, person, reader, out):
                yield piece
    yield out.take()  # the central directory


async def _section(
    archive: zipfile.ZipFile, entry: Any, section: Section, person: Account, reader: Reader, out: _Chunks
) -> AsyncIterator[bytes]:
    """The section as JSON, then as CSV: a second reading (a ZIP takes one file at a time), of the
    same rows: up to the last id the JSON file holds."""
    last = 0
    with archive.open(entry(f"{section.name}.json"), "w") as file:
        file.write(b"[")
        async for rows in _pages(section, person, reader, None):
            for row in rows:
                plain = {key: _plain(value) for key, value in row.items()}
                file.write((("," if last else "") + "\n  " + json.dumps(plain, ensure_ascii=False)).encode())
                last = row["id"]
            yield out.take()
        file.write(b"\n]\n" if last else b"]\n")
    with archive.open(entry(f"{section.name}.csv"), "w") as file:
        text = io.TextIOWrapper(file, encoding="utf-8-sig", newline="")
        writer = csv.writer(text, lineterminator="\r\n")
        writer.writerow(section.columns)
        if last:
            async for rows in _pages(section, person, reader, last):
                writer.writerows([_cell(row.get(column)) for column in section.columns] for row in rows)
                text.flush()
                yield out.take()
        text.flush()
        text.detach()
    yield out.take()
