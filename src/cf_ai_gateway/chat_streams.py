"""Neutral chat-delta streams: :class:`ChatStream` and :class:`AsyncChatStream`.

They feed the events of a :class:`~cf_ai_gateway.streams.RawStream` (or its async twin) to an
endpoint's pure stream handler and yield neutral :class:`~cf_ai_gateway.wire.types.ChatDelta`
values; once the events end, ``result()`` holds the accumulated
:class:`~cf_ai_gateway.wire.types.ChatResult`, and a Responses reply whose status is ``failed``
raises the :class:`~cf_ai_gateway.ProviderError` built by :func:`failed_error`. Errors raised by
the handler carry the stream's :class:`~cf_ai_gateway.GatewayInfo`. All three names are also
importable from :mod:`cf_ai_gateway.streams`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Generator, Iterator
from types import TracebackType
from typing import TYPE_CHECKING, Any

from .errors import GatewayError, ProviderError, scrub
from .info import GatewayInfo
from .streams import _with_info, scrub_value
from .wire.events import error_fields

if TYPE_CHECKING:
    from .streams import AsyncRawStream, RawStream, StreamHandler
    from .wire.types import ChatDelta, ChatResult

__all__ = ["AsyncChatStream", "ChatStream", "failed_error"]


def failed_error(result: ChatResult, secrets: tuple[str, ...] = ()) -> ProviderError:
    """The error for a Responses reply whose status is ``failed``, with the provider's message."""
    err = result.raw.get("error") if isinstance(result.raw, dict) else None
    message = error_fields(err)[0] if err is not None else None
    info = result.info if isinstance(result.info, GatewayInfo) else None
    return ProviderError(
        f"Provider: {scrub(message or 'the response failed', secrets)}",
        log_id=info.log_id if info else None,
        body=scrub_value(result.raw, secrets),
        info=info,
    )


def _deltas(raw: RawStream, handler: StreamHandler, info: GatewayInfo) -> Iterator[ChatDelta]:
    on_event = handler.on_event
    for event in raw:
        try:
            delta = on_event(event)
        except GatewayError as exc:
            _with_info(exc, info, raw.secrets)
            raise
        if delta is not None:
            yield delta
    if raw.saw_done:
        try:
            handler.on_done()
        except GatewayError as exc:
            _with_info(exc, info, raw.secrets)
            raise
    result = handler.result()
    result.info = info
    if result.status == "failed":
        raise failed_error(result, raw.secrets)


async def _adeltas(raw: AsyncRawStream, handler: StreamHandler) -> AsyncIterator[ChatDelta]:
    on_event = handler.on_event
    async for event in raw:
        try:
            delta = on_event(event)
        except GatewayError as exc:
            _with_info(exc, raw.info, raw.secrets)
            raise
        if delta is not None:
            yield delta
    if raw.saw_done:
        try:
            handler.on_done()
        except GatewayError as exc:
            _with_info(exc, raw.info, raw.secrets)
            raise
    result = handler.result()
    result.info = raw.info
    if result.status == "failed":
        raise failed_error(result, raw.secrets)


class ChatStream:
    """Iterator of neutral :class:`ChatDelta` for one model call; a context manager.

    ``info`` is known before the first delta; ``result()`` returns the accumulated
    :class:`ChatResult` once the stream is exhausted.
    """

    def __init__(self, raw: RawStream, handler: StreamHandler) -> None:
        self.raw = raw
        self.info = raw.info
        self.handler = handler
        self._iterator: Iterator[ChatDelta] | None = None

    def __iter__(self) -> Iterator[ChatDelta]:
        if self._iterator is None:
            # The generator holds the raw stream and handler, not ``self``: no cycle to collect.
            self._iterator = _deltas(self.raw, self.handler, self.info)
        return self._iterator

    def __next__(self) -> ChatDelta:
        return next(iter(self))

    def result(self) -> ChatResult:
        """The whole reply accumulated from the deltas seen so far."""
        result = self.handler.result()
        result.info = self.info
        return result

    def close(self) -> None:
        self.raw.close()

    def __enter__(self) -> ChatStream:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class AsyncChatStream:
    """Async iterator of neutral :class:`ChatDelta`; opens on ``async with``, ``await`` or use."""

    def __init__(self, raw: AsyncRawStream, handler: StreamHandler) -> None:
        self.raw = raw
        self.handler = handler
        self._iterator: AsyncIterator[ChatDelta] | None = None

    @property
    def info(self) -> GatewayInfo:
        return self.raw.info

    async def open(self) -> AsyncChatStream:
        await self.raw.open()
        return self

    def __await__(self) -> Generator[Any, None, AsyncChatStream]:
        return self.open().__await__()

    def __aiter__(self) -> AsyncIterator[ChatDelta]:
        if self._iterator is None:
            self._iterator = _adeltas(self.raw, self.handler)
        return self._iterator

    async def __anext__(self) -> ChatDelta:
        return await self.__aiter__().__anext__()

    def result(self) -> ChatResult:
        result = self.handler.result()
        result.info = self.info
        return result

    async def aclose(self) -> None:
        await self.raw.aclose()

    async def __aenter__(self) -> AsyncChatStream:
        return await self.open()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
