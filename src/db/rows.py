"""Rows as the short reads hand them back (src/db/reads.py)."""

from __future__ import annotations

import sqlite3
from operator import itemgetter
from typing import Any

_NAME = itemgetter(0)  # of a column in a cursor's description


class Row(dict[str, Any]):
    """A row: a dict whose keys also read as attributes (`row.state`), so that a template reads a
    field without the AttributeError that Jinja's lookup on a plain dict raises and catches first
    (fast path: the connections gates of `make bench`)."""

    __slots__ = ()

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


def row_factory(cursor: sqlite3.Cursor, values: tuple[Any, ...]) -> Row:
    return Row(zip(map(_NAME, cursor.description), values, strict=True))
