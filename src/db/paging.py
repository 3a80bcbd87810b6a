"""One page of a list read with LIMIT/OFFSET, beside the queries that use it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Paging:
    """One page of a list, newest first: the page number from the query string (clamped), and the
    LIMIT/OFFSET that read one row more than a page, so "is there a next page" costs no count query."""

    page: int
    size: int

    @classmethod
    def of(cls, page: int, size: int, last: int = 10_000) -> Paging:
        return cls(page=max(1, min(page, last)), size=size)

    def apply(self, query: Any) -> Any:
        return query.limit(self.size + 1).offset((self.page - 1) * self.size)

    def cut(self, rows: Sequence[T]) -> tuple[list[T], bool]:
        """The page's rows and whether a next page exists."""
        return list(rows[: self.size]), len(rows) > self.size
