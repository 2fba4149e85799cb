"""The neutral chat calls of :class:`~cf_ai_gateway.Gateway`: ``chat``, ``achat``, ``chat_stream``, ``achat_stream``.

They translate a :class:`~cf_ai_gateway.wire.types.ChatRequest` to the ``chat/completions`` or
``responses`` endpoint through the pure wire converters, send it with the gateway's raw calls
(``create``, ``acreate``, ``stream``, ``astream``), try ``fallbacks`` in turn through
:mod:`cf_ai_gateway.failover`, and turn the reply into a neutral result or stream. ``Gateway``
inherits them from :class:`ChatCalls`, which holds no state of its own.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import ModuleType
from typing import TYPE_CHECKING, Any

from .errors import ConfigurationError, GatewayError

if TYPE_CHECKING:  # the stream and failover modules load with the first call that needs them
    from .client import Gateway, OptionsLike, RawResponse
    from .streams import AsyncChatStream, ChatStream
    from .wire.types import Api, ChatRequest, ChatResult

__all__ = ["ChatCalls"]

_ENDPOINTS: dict[str, str] = {"chat": "chat/completions", "responses": "responses"}


def _wire(api: str) -> ModuleType:
    if api == "chat":
        from .wire import chat

        return chat
    if api == "responses":
        from .wire import responses

        return responses
    raise ConfigurationError(f"api must be 'chat' or 'responses'; got {api!r}")


class ChatCalls:
    """The neutral chat calls, mixed into :class:`~cf_ai_gateway.Gateway`.

    Each method's ``self`` is typed as the ``Gateway`` it runs on (hence the ``misc`` ignores).
    """

    # -- neutral calls ------------------------------------------------------------------------
    def chat(  # type: ignore[misc]
        self: Gateway,
        request: ChatRequest,
        *,
        api: Api = "chat",
        options: OptionsLike = None,
        timeout: float | None = None,
        extra_headers: Mapping[str, str] | None = None,
        fallbacks: Sequence[str | Mapping[str, Any]] | None = None,
        fallback_on: Any = None,
    ) -> ChatResult:
        """One model call on ``chat/completions`` (``api="chat"``) or ``responses``."""
        if fallbacks is None:
            fallbacks = self.fallbacks
        if fallbacks:
            from . import failover

            return failover.chat(
                self,
                request,
                api=api,
                options=options,
                timeout=timeout,
                extra_headers=extra_headers,
                fallbacks=fallbacks,
                fallback_on=fallback_on,
            )
        wire = _wire(api)
        self._check_model(request)
        raw = self.create(
            _ENDPOINTS[api],
            wire.build_body(request, stream=False),
            options=options,
            timeout=timeout,
            extra_headers=extra_headers,
        )
        return self._result(wire, raw, self.transport.secrets)

    async def achat(  # type: ignore[misc]
        self: Gateway,
        request: ChatRequest,
        *,
        api: Api = "chat",
        options: OptionsLike = None,
        timeout: float | None = None,
        extra_headers: Mapping[str, str] | None = None,
        fallbacks: Sequence[str | Mapping[str, Any]] | None = None,
        fallback_on: Any = None,
    ) -> ChatResult:
        """Async twin of :meth:`chat`."""
        if fallbacks is None:
            fallbacks = self.fallbacks
        if fallbacks:
            from . import failover

            return await failover.achat(
                self,
                request,
                api=api,
                options=options,
                timeout=timeout,
                extra_headers=extra_headers,
                fallbacks=fallbacks,
                fallback_on=fallback_on,
            )
        wire = _wire(api)
        self._check_model(request)
        raw = await self.acreate(
            _ENDPOINTS[api],
            wire.build_body(request, stream=False),
            options=options,
            timeout=timeout,
            extra_headers=extra_headers,
        )
        return self._result(wire, raw, self.transport.secrets)

    @staticmethod
    def _result(wire: ModuleType, raw: RawResponse, secrets: tuple[str, ...]) -> ChatResult:
        """The neutral result of a reply; a reply of the wrong shape or a failed one raises."""
        try:
            result: ChatResult = wire.parse_result(raw.body)
        except GatewayError as exc:
            if exc.log_id is None:
                exc.log_id = raw.info.log_id
            if exc.status_code is None:
                exc.status_code = raw.status_code
            if exc.info is None:
                exc.info = raw.info
            raise
        result.info = raw.info
        if result.status == "failed":
            from .streams import failed_error

            raise failed_error(result, secrets)
        return result

    def chat_stream(  # type: ignore[misc]
        self: Gateway,
        request: ChatRequest,
        *,
        api: Api = "chat",
        options: OptionsLike = None,
        timeout: float | None = None,
        extra_headers: Mapping[str, str] | None = None,
        fallbacks: Sequence[str | Mapping[str, Any]] | None = None,
        fallback_on: Any = None,
    ) -> ChatStream:
        """Stream one model call as neutral deltas (see :class:`ChatStream`)."""
        if fallbacks is None:
            fallbacks = self.fallbacks
        if fallbacks:
            from . import failover_streams

            return failover_streams.chat_stream(
                self,
                request,
                api=api,
                options=options,
                timeout=timeout,
                extra_headers=extra_headers,
                fallbacks=fallbacks,
                fallback_on=fallback_on,
            )
        wire = _wire(api)
        self._check_model(request)
        raw = self.stream(
            _ENDPOINTS[api],
            wire.build_body(request, stream=True),
            options=options,
            timeout=timeout,
            extra_headers=extra_headers,
        )
        from .streams import ChatStream

        return ChatStream(raw, wire.StreamHandler())

    def achat_stream(  # type: ignore[misc]
        self: Gateway,
        request: ChatRequest,
        *,
        api: Api = "chat",
        options: OptionsLike = None,
        timeout: float | None = None,
        extra_headers: Mapping[str, str] | None = None,
        fallbacks: Sequence[str | Mapping[str, Any]] | None = None,
        fallback_on: Any = None,
    ) -> AsyncChatStream:
        """Async twin of :meth:`chat_stream`."""
        if fallbacks is None:
            fallbacks = self.fallbacks
        if fallbacks:
            from . import failover_streams

            return failover_streams.achat_stream(
                self,
                request,
                api=api,
                options=options,
                timeout=timeout,
                extra_headers=extra_headers,
                fallbacks=fallbacks,
                fallback_on=fallback_on,
            )
        wire = _wire(api)
        self._check_model(request)
        raw = self.astream(
            _ENDPOINTS[api],
            wire.build_body(request, stream=True),
            options=options,
            timeout=timeout,
            extra_headers=extra_headers,
        )
        from .streams import AsyncChatStream

        return AsyncChatStream(raw, wire.StreamHandler())
