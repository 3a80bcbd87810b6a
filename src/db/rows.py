"""Rows as the short reads hand them back (src/db/reads.py)."""

from __future__ import annotations

import sqlite3
from typing import Any


class Row(dict[str, Any]):
    """A row: a dict whose keys also read as attributes (`row.state`), so that a template reads a
    field without the AttributeError that Jinja's lookup on a plain dict raises and catches first
    (on the connections page, about a tenth of the render)."""

    __slots__ = ()

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


def row_factory(cursor: sqlite3.Cursor, values: tuple[Any, ...]) -> Row:
    return Row(zip([column[0] for column in cursor.description], values, strict=True))
