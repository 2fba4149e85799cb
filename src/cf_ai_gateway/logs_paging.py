"""Paging through a log listing: the query of a listing and where it has got to.

:class:`ListQuery` is a checked listing (its query parameters, page size and ``limit``);
:class:`Paging` takes each page the API returns and says what to yield and whether the listing
ends. Entries seen on earlier pages are left out (newer logs push older ones onto later pages
while a listing runs), a page of those only is a :class:`~cf_ai_gateway.StreamError` (the
listing would never end), and a page shorter than asked ends the listing only when the API
gives no ``total_count`` and the page is also shorter than the API's own ``per_page``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from .errors import StreamError
from .logs_query import GatewayLog, LogPage

__all__ = ["ListQuery", "Paging"]


@dataclass(frozen=True)
class ListQuery:
    """A checked listing: its query parameters, page size and ``limit``."""

    params: dict[str, str]
    per_page: int
    limit: int | None


class Paging:
    """Where a listing is: the next page number, the entries seen, the ``limit``."""

    def __init__(self, query: ListQuery) -> None:
        self.query = query
        self.number = 1
        self.count = 0
        self.ids: set[str] = set()

    def take(self, page: LogPage) -> tuple[LogPage, bool]:
        """The page to yield (its entries not seen on earlier pages) and whether it ends the
        listing.

        Entries already listed are left out (newer logs push older ones onto later pages while
        a listing runs); a page of those only would repeat forever and is a ``StreamError``.
        The listing ends on an empty page, once ``total_count`` entries were seen, or, when the
        API gives no count, on a page shorter than its ``per_page`` (the API's own, which may be
        smaller than the one asked for).
        """
        fresh: list[GatewayLog] = []
        for entry in page.entries:
            if entry.id not in self.ids:
                self.ids.add(entry.id)
                fresh.append(entry)
        if page.entries and not fresh:
            raise StreamError(
                f"the logs API answered page {page.page} with entries of earlier pages only; "
                "the listing would not end"
            )
        limit = self.query.limit
        if limit is not None and self.count + len(fresh) >= limit:
            fresh = fresh[: limit - self.count]
            return _with_entries(page, fresh, True), True
        self.count += len(fresh)
        self.number += 1
        if not page.entries:
            last = True
        elif page.total_count is not None:
            last = self.count >= page.total_count
        else:
            last = len(page.entries) < page.page_size
        return _with_entries(page, fresh, last), last


def _with_entries(page: LogPage, entries: list[GatewayLog], last: bool) -> LogPage:
    return dataclasses.replace(page, entries=entries, last=last)
