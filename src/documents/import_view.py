"""The checked rows as staff read them: the rows that stop the import first, then a page at a time.

A 5,000-row file shown whole is over a megabyte of HTML; what staff act on is the errors and the
conflicts (all of them are also in the errors file), so those lead and the rest follows in pages.
"""

from __future__ import annotations

from dataclasses import dataclass

from src.documents.csv_import import CheckResult, RowResult

ROWS_PER_PAGE = 100
PROBLEMS = ("error", "conflict")


@dataclass(frozen=True)
class RowsPage:
    rows: list[RowResult]
    number: int  # from 1
    first: int  # the position of its first row among all rows, from 1
    total: int

    @property
    def last(self) -> int:
        return self.first + len(self.rows) - 1

    @property
    def has_next(self) -> bool:
        return self.last < self.total

    @property
    def is_whole(self) -> bool:
        return self.number == 1 and not self.has_next


def rows_page(result: CheckResult, number: int, size: int = ROWS_PER_PAGE) -> RowsPage:
    """Page `number` of the rows, errors and conflicts first, each group in file order. A number
    past either end gives the nearest page."""
    ordered = sorted(result.rows, key=lambda row: (row.outcome not in PROBLEMS, row.line))
    pages = max(1, -(-len(ordered) // size))
    number = min(max(number, 1), pages)
    start = (number - 1) * size
    return RowsPage(ordered[start : start + size], number, start + 1, len(ordered))
