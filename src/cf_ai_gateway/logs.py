"""``Gateway.logs``: read, search, delete and annotate the gateway's logs through the Cloudflare API.

``gw.logs.list(model=..., success=False, since=timedelta(hours=1))`` iterates entries across
pages (``gw.logs.pages(...)`` yields the pages with their ``result_info``), ``get(log_id)``
returns one :class:`~cf_ai_gateway.logs_query.GatewayLog`, ``request(log_id)`` and
``response(log_id)`` the stored bodies, ``delete(...)`` removes matching entries, ``find(...)``
polls for a log that is not written yet (logs appear a moment after the reply) within a
deadline, and ``feedback(...)`` annotates one. Each has an async twin with an ``a`` prefix
(``alist`` is an async iterator). Arguments are checked before anything is sent.

Every call needs a Cloudflare API token (``cf_api_token`` / ``CF_API_TOKEN``). Only Legacy Logs has
this API: accounts created on or after 2026-09-24 use Logs powered by Workers Observability, and
a logs URL the API does not know raises :class:`~cf_ai_gateway.LogsUnavailableError`, which says so.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from typing import Any

import httpx

from .cfapi import ApiCall, api_headers, read_envelope
from .errors import (
    ConfigurationError,
    GatewayError,
    GatewayNotFoundError,
    LogNotFoundError,
    LogsUnavailableError,
    StreamError,
)
from .logs_query import (
    DELETE_ORDER_BY,
    MAX_PER_PAGE,
    GatewayLog,
    LogFilter,
    LogPage,
    Scalar,
    build_filters,
    check_count,
    check_order,
    encode_filters,
    filter_arguments,
    list_arguments,
    parse_log,
    parse_page,
)
from .records import record
from .transport import Transport

__all__ = ["Logs"]

NO_ROUTE_CODE = 7000  # the Cloudflare API's "No route for that URI"
DASHBOARD_ROUTE = "https://dash.cloudflare.com/?to=/:account/ai/ai-gateway"
FIND_FIRST_INTERVAL = 0.1
FIND_MAX_INTERVAL = 1.0


@record(frozen=True)
class _ListQuery:
    params: dict[str, str]
    per_page: int
    limit: int | None


class Logs:
    """The logs API of one gateway (see the module docstring). Reach it as ``Gateway.logs``."""

    def __init__(self, transport: Transport) -> None:
        self._transport = transport
        self._config = transport.config

    def __repr__(self) -> str:
        return f"Logs(gateway_id={self._config.gateway_id!r}, url={self._config.logs_url()!r})"

    # -- request building ---------------------------------------------------------------------
    def _call(
        self,
        method: str,
        log_id: str | None = None,
        part: str | None = None,
        *,
        params: Mapping[str, str] | None = None,
        timeout: float | None = None,
    ) -> ApiCall:
        if log_id is not None and (not isinstance(log_id, str) or not log_id):
            raise ConfigurationError(f"log_id must be a non-empty cf-aig-log-id; got {log_id!r}")
        url = self._config.logs_url(log_id)
        if part is not None:
            url += "/" + part
        permission = "Read" if method == "GET" else "Edit"
        headers = api_headers(self._config, "the logs API", permission)
        return ApiCall(method, url, headers, params=params, timeout=timeout)

    def _query(
        self,
        *,
        per_page: int,
        limit: int | None,
        order_by: str,
        direction: str,
        search: str | None,
        **filter_args: Any,
    ) -> _ListQuery:
        filters = build_filters(**filter_args)
        params = check_order(order_by, direction)
        params["per_page"] = str(check_count(per_page, "per_page", MAX_PER_PAGE))
        if limit is not None:
            check_count(limit, "limit")
        if search is not None:
            if not isinstance(search, str) or not search:
                raise ConfigurationError(f"search must be a non-empty string; got {search!r}")
            params["search"] = search
        if filters:
            params["filters"] = encode_filters(filters)
        return _ListQuery(params, per_page, limit)

    def _delete_call(
        self,
        filters: Sequence[LogFilter],
        everything: bool,
        limit: int | None,
        order_by: str | None,
        direction: str | None,
    ) -> ApiCall:
        if not isinstance(everything, bool):
            raise ConfigurationError(f"everything must be True or False; got {everything!r}")
        if not filters and not everything:
            raise ConfigurationError(
                "delete() without filters would delete every log of the gateway: pass filters "
                "(e.g. model=..., since=..., filters=[...]) or everything=True"
            )
        params: dict[str, str] = {}
        if filters:
            params["filters"] = encode_filters(filters)
        if limit is not None:
            params["limit"] = str(check_count(limit, "limit"))
        if order_by is not None or direction is not None:
            params.update(
                check_order(order_by or "created_at", direction or "desc", DELETE_ORDER_BY)
            )
        return self._call("DELETE", params=params)

    # -- error translation --------------------------------------------------------------------
    def _translate(self, exc: GatewayError, call: ApiCall, log_id: str | None) -> GatewayError:
        if not isinstance(exc, GatewayNotFoundError) or isinstance(exc, LogsUnavailableError):
            return exc
        fields = {"status_code": exc.status_code, "code": exc.code, "body": exc.body}
        if exc.code == NO_ROUTE_CODE or log_id is None:
            c = self._config
            return LogsUnavailableError(
                f"the Cloudflare API has no logs API for gateway {c.gateway_id!r} in account "
                f"{c.account_id} ({call.method} {call.url} was not found). The logs API belongs to "
                "Legacy Logs; accounts created on or after 2026-09-24 use Logs powered by Workers "
                "Observability instead: open the dashboard at AI > AI Gateway > "
                f"{c.gateway_id} > Logs ({DASHBOARD_ROUTE}). Also check account_id "
                "(CF_ACCOUNT_ID) and gateway_id (CF_AIG_GATEWAY_ID)",
                **fields,
            )
        return LogNotFoundError(
            f"no log {log_id!r} in gateway {self._config.gateway_id!r} (yet: a log appears a "
            "moment after the reply; find() waits for it)",
            **fields,
        )

    def _send(self, call: ApiCall, log_id: str | None = None) -> httpx.Response:
        transport = self._transport
        try:
            return transport.send(lambda: call.build(transport.client))
        except GatewayError as exc:
            raise self._translate(exc, call, log_id) from exc

    async def _asend(self, call: ApiCall, log_id: str | None = None) -> httpx.Response:
        transport = self._transport
        try:
            return await transport.asend(lambda: call.build(transport.aclient))
        except GatewayError as exc:
            raise self._translate(exc, call, log_id) from exc

    # -- list ---------------------------------------------------------------------------------
    def _page_call(self, query: _ListQuery, page: int, timeout: float | None = None) -> ApiCall:
        return self._call("GET", params={**query.params, "page": str(page)}, timeout=timeout)

    @staticmethod
    def _read_page(response: httpx.Response, query: _ListQuery, page: int) -> LogPage:
        result, info = read_envelope(response)
        return parse_page(result, info, page, query.per_page, response.status_code)

    def pages(self, **query: Any) -> Iterator[LogPage]:
        """The pages of a listing (same arguments as :meth:`list`), each with its API
        ``result_info`` (counts and statistics), fetched as iterated."""
        return self._iter_pages(self._query(**list_arguments(query)))

    def _iter_pages(self, query: _ListQuery) -> Iterator[LogPage]:
        paging = _Paging(query)
        while True:
            response = self._send(self._page_call(query, paging.number))
            page, last = paging.take(self._read_page(response, query, paging.number))
            yield page
            if last:
                return

    def list(
        self,
        *,
        model: str | Sequence[str] | None = None,
        provider: str | Sequence[str] | None = None,
        success: bool | None = None,
        cached: bool | None = None,
        feedback: int | None = None,
        event_id: str | None = None,
        metadata: Mapping[str, Scalar] | None = None,
        since: Any = None,
        until: Any = None,
        min_cost: float | None = None,
        max_cost: float | None = None,
        filters: Sequence[LogFilter | Mapping[str, Any]] | None = None,
        search: str | None = None,
        order_by: str = "created_at",
        direction: str = "desc",
        per_page: int = 20,
        limit: int | None = None,
        start_date: Any = None,
        end_date: Any = None,
        order_by_direction: str | None = None,
    ) -> Iterator[GatewayLog]:
        """Iterate log entries, newest first by default, fetching pages as needed.

        All given filters must match: ``model`` / ``provider`` (one name or a list of names),
        ``success``, ``cached``, ``feedback`` (-1, 0 or 1), ``event_id``, ``metadata`` (each
        key and value must appear on the entry; the API matches keys and values independently),
        ``since`` / ``until`` (a datetime, an ISO 8601 string, or a timedelta before now),
        ``min_cost`` / ``max_cost`` (exclusive, in dollars) and ``filters`` (raw
        ``{"key", "operator", "value"}`` items or :class:`LogFilter`). ``search`` is the API's
        full-text search. ``order_by`` is ``created_at``, ``provider``, ``model``,
        ``model_type``, ``success`` or ``cached``; ``direction`` ``"asc"`` or ``"desc"``.
        ``per_page`` (1 to 50) sets the page size; ``limit`` stops after that many entries.
        The API's own names ``start_date``, ``end_date`` and ``order_by_direction`` work too.
        """
        arguments = {name: value for name, value in locals().items() if name != "self"}
        query = self._query(**list_arguments(arguments))
        pages = self._iter_pages(query)
        return (entry for page in pages for entry in page)

    def apages(self, **query: Any) -> AsyncIterator[LogPage]:
        """Async twin of :meth:`pages` (same keyword arguments)."""
        return self._aiter_pages(self._query(**list_arguments(query)))

    async def _aiter_pages(self, query: _ListQuery) -> AsyncIterator[LogPage]:
        paging = _Paging(query)
        while True:
            response = await self._asend(self._page_call(query, paging.number))
            page, last = paging.take(self._read_page(response, query, paging.number))
            yield page
            if last:
                return

    def alist(self, **query: Any) -> AsyncIterator[GatewayLog]:
        """Async twin of :meth:`list` (same keyword arguments): ``async for entry in ...``."""
        pages = self.apages(**query)

        async def entries() -> AsyncIterator[GatewayLog]:
            async for page in pages:
                for entry in page:
                    yield entry

        return entries()

    # -- one entry ----------------------------------------------------------------------------
    def get(self, log_id: str, *, timeout: float | None = None) -> GatewayLog:
        """The log entry ``log_id`` (a ``GatewayInfo.log_id``); LogNotFoundError when unknown."""
        call = self._call("GET", log_id, timeout=timeout)
        return _entry(self._send(call, log_id))

    async def aget(self, log_id: str, *, timeout: float | None = None) -> GatewayLog:
        """Async twin of :meth:`get`."""
        call = self._call("GET", log_id, timeout=timeout)
        return _entry(await self._asend(call, log_id))

    def request(self, log_id: str) -> Any:
        """The stored request body of ``log_id`` (None when payloads were not collected)."""
        return read_envelope(self._send(self._call("GET", log_id, "request"), log_id))[0]

    async def arequest(self, log_id: str) -> Any:
        """Async twin of :meth:`request`."""
        return read_envelope(await self._asend(self._call("GET", log_id, "request"), log_id))[0]

    def response(self, log_id: str) -> Any:
        """The stored response body of ``log_id`` (None when payloads were not collected)."""
        return read_envelope(self._send(self._call("GET", log_id, "response"), log_id))[0]

    async def aresponse(self, log_id: str) -> Any:
        """Async twin of :meth:`response`."""
        return read_envelope(await self._asend(self._call("GET", log_id, "response"), log_id))[0]

    # -- delete -------------------------------------------------------------------------------
    def delete(
        self,
        *,
        filters: Sequence[LogFilter | Mapping[str, Any]] | None = None,
        everything: bool = False,
        limit: int | None = None,
        order_by: str | None = None,
        direction: str | None = None,
        **filter_args: Any,
    ) -> bool:
        """Delete the entries matching the filters (the keyword filters of :meth:`list` too).

        Refuses to run without any filter unless ``everything=True``. ``limit`` caps how many
        are deleted, in ``order_by`` / ``direction`` order. Returns the API's ``success``.
        """
        call = self._delete_call(
            build_filters(filters=filters, **filter_arguments(filter_args)),
            everything,
            limit,
            order_by,
            direction,
        )
        return _deleted(self._send(call))

    async def adelete(
        self,
        *,
        filters: Sequence[LogFilter | Mapping[str, Any]] | None = None,
        everything: bool = False,
        limit: int | None = None,
        order_by: str | None = None,
        direction: str | None = None,
        **filter_args: Any,
    ) -> bool:
        """Async twin of :meth:`delete`."""
        call = self._delete_call(
            build_filters(filters=filters, **filter_arguments(filter_args)),
            everything,
            limit,
            order_by,
            direction,
        )
        return _deleted(await self._asend(call))

    # -- find (polling) -----------------------------------------------------------------------
    def _find_query(self, event_id: Any, log_id: Any, timeout: Any) -> _ListQuery | None:
        if (event_id is None) == (log_id is None):
            raise ConfigurationError("find() needs exactly one of event_id or log_id")
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0:
            raise ConfigurationError(
                f"timeout must be a positive number of seconds; got {timeout!r}"
            )
        if event_id is None:
            return None
        return self._query(
            event_id=event_id,
            per_page=1,
            limit=1,
            order_by="created_at",
            direction="desc",
            search=None,
        )

    def _not_found(
        self, event_id: str | None, log_id: str | None, timeout: float
    ) -> LogNotFoundError:
        what = f"event id {event_id!r}" if event_id is not None else f"log id {log_id!r}"
        return LogNotFoundError(
            f"no log with {what} appeared in gateway {self._config.gateway_id!r} within "
            f"{timeout:g}s (is cf-aig-collect-log off for it?)",
            status_code=404,
        )

    def find(
        self, *, event_id: str | None = None, log_id: str | None = None, timeout: float = 10.0
    ) -> GatewayLog:
        """Wait for the log of a call to be written, then return it.

        Give the ``cf-aig-event-id`` you sent (``event_id``) or the ``cf-aig-log-id`` you got
        (``log_id``). Polls until the entry appears or ``timeout`` seconds pass (then
        :class:`LogNotFoundError`); each request is bounded by what remains of the deadline.
        """
        query = self._find_query(event_id, log_id, timeout)
        deadline = time.monotonic() + timeout
        interval = FIND_FIRST_INTERVAL
        while True:
            remaining = deadline - time.monotonic()
            try:
                if query is None:
                    return self.get(str(log_id), timeout=max(remaining, 0.001))
                call = self._page_call(query, 1, timeout=max(remaining, 0.001))
                page = self._read_page(self._send(call), query, 1)
                if page.entries:
                    return page.entries[0]
            except LogNotFoundError:
                pass
            if time.monotonic() + interval >= deadline:
                raise self._not_found(event_id, log_id, timeout)
            time.sleep(interval)
            interval = min(interval * 2, FIND_MAX_INTERVAL)

    async def afind(
        self, *, event_id: str | None = None, log_id: str | None = None, timeout: float = 10.0
    ) -> GatewayLog:
        """Async twin of :meth:`find`."""
        query = self._find_query(event_id, log_id, timeout)
        deadline = time.monotonic() + timeout
        interval = FIND_FIRST_INTERVAL
        while True:
            remaining = deadline - time.monotonic()
            try:
                if query is None:
                    return await self.aget(str(log_id), timeout=max(remaining, 0.001))
                call = self._page_call(query, 1, timeout=max(remaining, 0.001))
                page = self._read_page(await self._asend(call), query, 1)
                if page.entries:
                    return page.entries[0]
            except LogNotFoundError:
                pass
            if time.monotonic() + interval >= deadline:
                raise self._not_found(event_id, log_id, timeout)
            await asyncio.sleep(interval)
            interval = min(interval * 2, FIND_MAX_INTERVAL)

    # -- feedback -----------------------------------------------------------------------------
    def feedback(
        self,
        log_id: str,
        *,
        score: float | None = None,
        feedback: int | None = None,
        metadata: Mapping[str, Scalar] | None = None,
    ) -> GatewayLog:
        """Record feedback on ``log_id`` (as ``Gateway.feedback``); returns the updated entry."""
        from .feedback import send_feedback

        try:
            raw = send_feedback(
                self._transport, log_id, score=score, feedback=feedback, metadata=metadata
            )
        except GatewayNotFoundError as exc:
            raise self._translate(exc, self._call("PATCH", log_id), log_id) from exc
        return parse_log(raw)

    async def afeedback(
        self,
        log_id: str,
        *,
        score: float | None = None,
        feedback: int | None = None,
        metadata: Mapping[str, Scalar] | None = None,
    ) -> GatewayLog:
        """Async twin of :meth:`feedback`."""
        from .feedback import asend_feedback

        try:
            raw = await asend_feedback(
                self._transport, log_id, score=score, feedback=feedback, metadata=metadata
            )
        except GatewayNotFoundError as exc:
            raise self._translate(exc, self._call("PATCH", log_id), log_id) from exc
        return parse_log(raw)


class _Paging:
    """Where a listing is: the next page number, the entries seen, the ``limit``."""

    def __init__(self, query: _ListQuery) -> None:
        self.query = query
        self.number = 1
        self.count = 0
        self.ids: set[str] = set()

    def take(self, page: LogPage) -> tuple[LogPage, bool]:
        """The page to yield and whether it ends the listing."""
        fresh = [entry for entry in page.entries if entry.id not in self.ids]
        if page.entries and not fresh:
            raise StreamError(
                f"the logs API answered page {page.page} with entries of earlier pages only; "
                "the listing would not end"
            )
        self.ids.update(entry.id for entry in page.entries)
        limit = self.query.limit
        if limit is not None and self.count + len(page.entries) >= limit:
            keep = limit - self.count
            trimmed = LogPage(
                page.entries[:keep], page.page, page.per_page, page.total_count, page.info
            )
            return trimmed, True
        self.count += len(page.entries)
        self.number += 1
        return page, page.is_last


def _entry(response: httpx.Response) -> GatewayLog:
    result, _ = read_envelope(response)
    return parse_log(result, response.status_code)


def _deleted(response: httpx.Response) -> bool:
    result, _ = read_envelope(response)
    if isinstance(result, dict) and isinstance(result.get("success"), bool):
        if not result["success"]:
            raise StreamError(
                "the logs API reported that the delete failed",
                status_code=response.status_code,
                body=result,
            )
        return True
    return True
