"""Streams with fallbacks: a stream fails over only before its first content delta.

:func:`chat_stream` and :func:`achat_stream` open each route in turn until one reaches its first
content delta (text, a tool call, reasoning or a refusal); the deltas read so far are replayed to
the caller. A failure after that is raised as a :class:`StreamError` whose ``partial_text`` is
what was already delivered: another model's answer is never spliced onto it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Generator, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from .errors import GatewayError, StreamError
from .failover import _Call, _final
from .info import Attempt, GatewayInfo
from .streams import AsyncChatStream, ChatStream

if TYPE_CHECKING:
    from .client import Gateway, OptionsLike
    from .wire.types import Api, ChatDelta, ChatRequest, ChatResult

__all__ = ["AsyncFailoverChatStream", "FailoverChatStream", "achat_stream", "chat_stream"]


def _has_content(delta: ChatDelta) -> bool:
    return bool(delta.text or delta.tool_call_chunks or delta.reasoning or delta.refusal)


def _cut(exc: GatewayError, partial: str, attempts: list[Attempt]) -> StreamError:
    """The error of a stream that failed after content: a StreamError with the partial text."""
    if isinstance(exc, StreamError):
        error: StreamError = exc
    else:
        error = StreamError(
            exc.message,
            status_code=exc.status_code,
            code=exc.code,
            log_id=exc.log_id,
            retry_after=exc.retry_after,
            body=exc.body,
            info=exc.info,
        )
        error.__cause__ = exc
    error.partial_text = partial
    _final(error, attempts)
    return error


class FailoverChatStream(ChatStream):
    """A :class:`ChatStream` opened on the first route that reached its first content delta."""

    def __init__(
        self, stream: ChatStream, head: list[ChatDelta], info: GatewayInfo, attempts: list[Attempt]
    ) -> None:
        super().__init__(stream.raw, stream.handler)
        self.info = info
        self._inner = iter(stream)
        self._head = head
        self._attempts = attempts

    def __iter__(self) -> Iterator[ChatDelta]:
        if self._iterator is None:
            self._iterator = self._deltas()
        return self._iterator

    def _deltas(self) -> Generator[ChatDelta, None, None]:
        partial: list[str] = []
        for delta in self._head:
            partial.append(delta.text)
            yield delta
        self._head = []
        try:
            for delta in self._inner:
                partial.append(delta.text)
                yield delta
        except GatewayError as exc:
            raise _cut(exc, "".join(partial), self._attempts) from exc.__cause__


class AsyncFailoverChatStream(AsyncChatStream):
    """Async twin of :class:`FailoverChatStream`; routes are tried when it opens.

    ``raw`` and ``handler`` are those of the route that answered, set when the stream opens.
    """

    def __init__(self, call: _Call, api: Api) -> None:
        self._call = call
        self._api: Api = api
        self._opened: AsyncChatStream | None = None
        self._head: list[ChatDelta] = []
        self._info = GatewayInfo()
        self._iterator: AsyncIterator[ChatDelta] | None = None

    @property
    def info(self) -> GatewayInfo:
        return self._info

    async def open(self) -> AsyncFailoverChatStream:
        if self._opened is not None:
            return self
        call = self._call
        for route, routed, last in call.requests():
            stream = route.gateway.achat_stream(
                routed,
                api=self._api,
                timeout=call.time_left(),
                extra_headers=call.headers,
                options=call.options,
                fallbacks=(),
            )
            head: list[ChatDelta] = []
            try:
                await stream.open()
                async for delta in stream:
                    head.append(delta)
                    if _has_content(delta):
                        break
            except GatewayError as exc:
                await stream.aclose()
                if call.failed(route, exc, last):
                    continue
                raise
            self._info = call.answered(route, stream.info)
            self._opened, self._head = stream, head
            self.raw, self.handler = stream.raw, stream.handler
            return self
        raise AssertionError("unreachable")  # pragma: no cover

    def __aiter__(self) -> AsyncIterator[ChatDelta]:
        if self._iterator is None:
            self._iterator = self._deltas()
        return self._iterator

    async def _deltas(self) -> AsyncIterator[ChatDelta]:
        await self.open()
        assert self._opened is not None
        partial: list[str] = []
        for delta in self._head:
            partial.append(delta.text)
            yield delta
        self._head = []
        try:
            async for delta in self._opened:
                partial.append(delta.text)
                yield delta
        except GatewayError as exc:
            raise _cut(exc, "".join(partial), self._call.attempts) from exc.__cause__

    def result(self) -> ChatResult:
        if self._opened is None:
            raise StreamError("the stream has not been opened")
        result = self._opened.handler.result()
        result.info = self._info
        return result

    async def aclose(self) -> None:
        if self._opened is not None:
            await self._opened.aclose()


def chat_stream(
    gateway: Gateway,
    request: ChatRequest,
    *,
    api: Api,
    options: OptionsLike,
    timeout: float | None,
    extra_headers: Mapping[str, str] | None,
    fallbacks: Any,
    fallback_on: Any,
) -> ChatStream:
    """:meth:`Gateway.chat_stream` over the call's routes, up to the first content delta."""
    call = _Call(gateway, request, api, fallbacks, fallback_on, options, extra_headers, timeout)
    for route, routed, last in call.requests():
        stream: ChatStream | None = None
        head: list[ChatDelta] = []
        try:
            stream = route.gateway.chat_stream(
                routed,
                api=api,
                timeout=call.time_left(),
                extra_headers=call.headers,
                options=call.options,
                fallbacks=(),
            )
            for delta in stream:
                head.append(delta)
                if _has_content(delta):
                    break
        except GatewayError as exc:
            if stream is not None:
                stream.close()
            if call.failed(route, exc, last):
                continue
            raise
        info = call.answered(route, stream.info)
        return FailoverChatStream(stream, head, info, call.attempts)
    raise AssertionError("unreachable")  # pragma: no cover


def achat_stream(
    gateway: Gateway,
    request: ChatRequest,
    *,
    api: Api,
    options: OptionsLike,
    timeout: float | None,
    extra_headers: Mapping[str, str] | None,
    fallbacks: Any,
    fallback_on: Any,
) -> AsyncChatStream:
    """Async twin of :func:`chat_stream`; the routes are tried when the stream opens."""
    call = _Call(
        gateway,
        request,
        api,
        fallbacks,
        fallback_on,
        options,
        extra_headers,
        timeout,
        asynchronous=True,
    )
    return AsyncFailoverChatStream(call, api)
