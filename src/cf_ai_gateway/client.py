"""``Gateway``: the one I/O class of the core, sync and async.

It joins a :class:`~cf_ai_gateway.GatewayConfig` (where and who), client-level
:class:`~cf_ai_gateway.GatewayOptions` and a :class:`~cf_ai_gateway.transport.Transport`.
It offers raw pass-through calls for users who speak the OpenAI wire format (``create``,
``stream``, ``acreate``, ``astream``) and neutral calls for the adapters (``chat``,
``chat_stream``, ``achat``, ``achat_stream``), which translate a
:class:`~cf_ai_gateway.wire.types.ChatRequest` to either endpoint through the pure converters.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any

import httpx

from . import jsontext
from .chat_calls import ChatCalls
from .checks import check_extra_headers, check_max_retries, check_retry_base_delay
from .config import GatewayConfig, resolve_options, resolve_pool_limits, resolve_transport
from .embedding_calls import EmbeddingCalls
from .errors import (
    ConfigurationError,
    MalformedResponseError,
    error_from_response,
    is_error_reply,
)
from .fallback_checks import check_dynamic_route, check_fallback_on, check_fallbacks
from .info import GatewayInfo
from .options import GatewayOptions
from .records import record
from .sse import DEFAULT_MAX_EVENT_SIZE
from .transport import Transport

if TYPE_CHECKING:
    import openai

    from .logs import Logs
    from .streams import AsyncRawStream, RawStream

if TYPE_CHECKING:  # the neutral types load with the first neutral call
    from .wire.types import ChatRequest

__all__ = ["Gateway", "RawResponse"]

OptionsLike = GatewayOptions | Mapping[str, Any] | None


@record(frozen=True, slots=True)
class RawResponse:
    """The parsed JSON reply of a raw call, with its gateway info and HTTP status."""

    body: Any
    info: GatewayInfo
    status_code: int
    headers: Mapping[str, str]


def _parse_json(response: httpx.Response, info: GatewayInfo, secrets: tuple[str, ...]) -> Any:
    """The JSON object of a successful reply; an error envelope raises the typed error it names.

    A body that is empty (other than on 204), not JSON, or not an object raises
    :class:`MalformedResponseError`: a 2xx is never taken for an answer it does not hold.
    """
    content = response.content
    if not content and response.status_code == 204:
        return None
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        # The same refusal as a stream's: bytes that are not UTF-8 are never patched over.
        raise MalformedResponseError(
            "could not parse the gateway's reply: it is not valid UTF-8",
            status_code=response.status_code,
            log_id=info.log_id,
            info=info,
        ) from None
    try:
        body = jsontext.loads(text) if text else None
    except ValueError as exc:
        raise MalformedResponseError(
            "the gateway's reply is not valid JSON",
            status_code=response.status_code,
            log_id=info.log_id,
            info=info,
        ) from exc
    if is_error_reply(body):
        raise error_from_response(
            response.status_code, response.headers, content, info=info, secrets=secrets
        )
    if not isinstance(body, dict):
        what = "empty" if body is None and not content else f"a JSON {_json_kind(body)}"
        raise MalformedResponseError(
            f"the gateway's reply is {what}, not a JSON object",
            status_code=response.status_code,
            log_id=info.log_id,
            info=info,
        )
    return body


def _json_kind(value: Any) -> str:
    return {list: "array", str: "string", bool: "boolean", type(None): "null"}.get(
        type(value), "number"
    )


def _check_messages(messages: Any) -> None:
    """Refuse messages the wire converters cannot send (before anything is sent)."""
    if not isinstance(messages, (list, tuple)):
        raise ConfigurationError(
            f"messages must be a list of Message, not {type(messages).__name__}"
        )
    for index, message in enumerate(messages):
        content = getattr(message, "content", 0)
        if content is not None and not isinstance(content, (str, list)):
            raise ConfigurationError(
                f"messages[{index}].content must be a string, a list of parts or None, not "
                f"{type(content).__name__}"
            )


class Gateway(ChatCalls, EmbeddingCalls):
    """A client for one Cloudflare AI Gateway route.

    Unset connection fields are read from the environment (``CF_ACCOUNT_ID``,
    ``CF_AIG_GATEWAY_ID``, ``OPENAI_API_KEY`` or the provider's key variable, ``CF_AIG_TOKEN``,
    ``CF_AIG_BASE_URL``, ``CF_API_TOKEN``), and so are the gateway options (``CF_AIG_<OPTION>``,
    under ``gateway_options``, which win field by field). ``auth_mode`` is inferred from the
    secrets that are set unless given. ``gateway_options`` apply to every call and merge with
    per-call options. ``timeout`` is a deadline in seconds for a whole call, retries and their
    waits included (for a stream: until its headers, then for each wait between events);
    ``max_retries`` counts retries after the first attempt; a stream event larger than
    ``max_event_size`` (16 MiB) is a :class:`~cf_ai_gateway.StreamError`. A plain ``http://``
    base URL must point at this machine unless ``allow_insecure_http=True`` (or
    ``CF_AIG_ALLOW_INSECURE_HTTP=1``). ``config`` is an already resolved
    :class:`GatewayConfig` (the connection arguments are then not used), and ``environ``
    replaces ``os.environ``.
    ``fallbacks`` (models, or ``{"provider", "model", "api_key"}`` routes) are tried in turn
    when a neutral call fails transiently, or on the error classes of ``fallback_on`` (see
    :mod:`cf_ai_gateway.failover`). ``max_connections`` (``CF_AIG_MAX_CONNECTIONS``, default
    100) caps the connections of each HTTP client the gateway creates (one async client per
    event loop); calls beyond it wait their turn in order, within their ``timeout``.
    ``max_keepalive`` (``CF_AIG_MAX_KEEPALIVE``, default ``max_connections``) caps the idle
    connections kept for reuse. Clients passed in keep their own limits. ``tracing=True`` opens an OpenTelemetry span per call (see :mod:`cf_ai_gateway.otel`).
    ``transport`` (``CF_AIG_TRANSPORT``) picks the wire: ``"auto"`` (the default) sends async
    calls through aiohttp's C HTTP parser and sync calls through the core's sockets when the
    ``fast`` extra (aiohttp and orjson) is installed, ``"httpx"`` keeps every call on httpx,
    ``"aiohttp"`` requires aiohttp; clients passed in keep their own. Both wires behave the same
    (see :mod:`cf_ai_gateway.aiohttp_transport` and :mod:`cf_ai_gateway.socket_transport`).
    """

    def __init__(
        self,
        *,
        account_id: str | None = None,
        gateway_id: str | None = None,
        provider: str | None = None,
        api_key: Any = None,
        cf_aig_token: Any = None,
        auth_mode: str | None = None,
        base_url: str | None = None,
        gateway_options: OptionsLike = None,
        timeout: float | httpx.Timeout | None = 60.0,
        max_retries: int = 2,
        cf_api_token: Any = None,
        api_base_url: str | None = None,
        surface: str | None = None,
        default_headers: Mapping[str, str] | None = None,
        http_client: httpx.Client | None = None,
        async_http_client: httpx.AsyncClient | None = None,
        retry_base_delay: float = 0.5,
        max_event_size: int = DEFAULT_MAX_EVENT_SIZE,
        config: GatewayConfig | None = None,
        allow_insecure_http: bool | None = None,
        environ: Mapping[str, str] | None = None,
        tracing: bool = False,
        fallbacks: Sequence[str | Mapping[str, Any]] | None = None,
        fallback_on: Any = None,
        max_connections: int | None = None,
        max_keepalive: int | None = None,
        transport: str | None = None,
    ) -> None:
        if config is not None and not isinstance(config, GatewayConfig):
            raise ConfigurationError(f"config must be a GatewayConfig, not {type(config).__name__}")
        self.fallbacks = check_fallbacks(fallbacks)
        self.fallback_on = check_fallback_on(fallback_on)
        self.config = config or GatewayConfig.resolve(
            account_id=account_id,
            gateway_id=gateway_id,
            provider=provider,
            api_key=api_key,
            cf_aig_token=cf_aig_token,
            auth_mode=auth_mode,
            base_url=base_url,
            cf_api_token=cf_api_token,
            api_base_url=api_base_url,
            surface=surface,
            default_headers=default_headers,
            allow_insecure_http=allow_insecure_http,
            environ=environ,
        )
        self.options = resolve_options(gateway_options, environ)
        connections, keepalive = resolve_pool_limits(max_connections, max_keepalive, environ)
        self.transport = Transport(
            self.config,
            timeout=timeout,
            max_retries=check_max_retries(max_retries),
            retry_base_delay=check_retry_base_delay(retry_base_delay),
            http_client=http_client,
            async_http_client=async_http_client,
            max_event_size=max_event_size,
            max_connections=connections,
            max_keepalive=keepalive,
            wire=resolve_transport(transport, environ),
        )
        if tracing is not False:  # OpenTelemetry spans for this client's calls (cf_ai_gateway.otel)
            from .otel import trace_gateway

            trace_gateway(self, tracing)

    @classmethod
    def from_env(cls, **overrides: Any) -> Gateway:
        """A client configured from the environment, including ``CF_AIG_<OPTION>`` options.

        The same as ``Gateway(**overrides)``, which reads the same variables: keyword arguments
        override what the environment says, and ``gateway_options`` merge over the options
        read from the environment.
        """
        return cls(**overrides)

    def __repr__(self) -> str:
        c = getattr(self, "config", None)  # a half-built client (failed __init__) has none
        if not isinstance(c, GatewayConfig):
            return "Gateway(<not configured>)"
        return (
            f"Gateway(account_id={c.account_id!r}, gateway_id={c.gateway_id!r}, "
            f"provider={c.provider!r}, auth_mode={c.auth_mode!r}, url={c.provider_base_url!r})"
        )

    # -- helpers ------------------------------------------------------------------------------
    def url(self, endpoint: str) -> str:
        """The full URL of a provider endpoint on this gateway."""
        return self.config.url(endpoint)

    def _headers(
        self, options: OptionsLike, extra_headers: Mapping[str, str] | None = None
    ) -> Mapping[str, str]:
        headers = self.options.headers if options is None else self.options.merge(options).headers
        if extra_headers:
            return {**headers, **check_extra_headers(extra_headers)}
        return headers

    def _check_model(self, request: ChatRequest) -> None:
        _check_messages(getattr(request, "messages", None))
        if not isinstance(request.model, str) or not request.model:
            raise ConfigurationError("model must be a non-empty string")
        prefix, _, name = request.model.partition("/")
        if self.config.provider == "compat" and not (prefix and name):
            raise ConfigurationError(
                f"model must be '{{provider}}/{{model}}' on the compat endpoint "
                f"(e.g. 'openai/gpt-4o-mini'); got {request.model!r}"
            )

    # -- raw calls ----------------------------------------------------------------------------
    def create(
        self,
        endpoint: str,
        body: Any,
        *,
        options: OptionsLike = None,
        timeout: float | None = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> RawResponse:
        """POST ``body`` to ``endpoint`` and return the parsed JSON reply.

        A 2xx reply whose body is an error envelope raises the typed error it names, as an
        error status would; an empty, non-JSON or non-object body raises
        :class:`~cf_ai_gateway.MalformedResponseError`.
        """
        check_dynamic_route(self.config, endpoint, body)
        url = self.config.url(endpoint)
        headers = self._headers(options, extra_headers)
        client = self.transport.client
        response = self.transport.send(
            lambda: self.transport.build_request(client, "POST", url, body, headers, stream=False),
            timeout=timeout,
        )
        info = GatewayInfo.from_headers(response.headers, response.status_code)
        body = _parse_json(response, info, self.transport.secrets)
        return RawResponse(body, info, response.status_code, response.headers)

    async def acreate(
        self,
        endpoint: str,
        body: Any,
        *,
        options: OptionsLike = None,
        timeout: float | None = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> RawResponse:
        """Async twin of :meth:`create`."""
        check_dynamic_route(self.config, endpoint, body)
        url = self.config.url(endpoint)
        headers = self._headers(options, extra_headers)
        client = self.transport.aclient
        response = await self.transport.asend(
            lambda: self.transport.build_request(client, "POST", url, body, headers, stream=False),
            timeout=timeout,
        )
        info = GatewayInfo.from_headers(response.headers, response.status_code)
        body = _parse_json(response, info, self.transport.secrets)
        return RawResponse(body, info, response.status_code, response.headers)

    def stream(
        self,
        endpoint: str,
        body: Any,
        *,
        options: OptionsLike = None,
        timeout: float | None = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> RawStream:
        """POST ``body`` with ``stream: true`` and return an iterator of parsed SSE events.

        The request is sent and its headers read before this returns, so errors raise here
        and ``.info`` is set before the first event. A reply that comes as one JSON document
        (the gateway buffers streams when Guardrails are on) raises the error it holds, or is
        re-emitted as the endpoint's events with ``.info.buffered`` set.
        """
        if isinstance(body, dict) and "stream" not in body:
            body = {**body, "stream": True}
        check_dynamic_route(self.config, endpoint, body)
        url = self.config.url(endpoint)
        headers = self._headers(options, extra_headers)
        transport = self.transport
        client = transport.client
        response = transport.send(
            lambda: transport.build_request(client, "POST", url, body, headers, stream=True),
            stream=True,
            timeout=timeout,
        )
        from .streams import RawStream
        from .wire.events import api_for_endpoint

        return RawStream(
            response,
            transport.secrets,
            idle_timeout=transport.call_seconds(timeout, asynchronous=False),
            max_event_size=transport.max_event_size,
            api=api_for_endpoint(endpoint),
        )

    def astream(
        self,
        endpoint: str,
        body: Any,
        *,
        options: OptionsLike = None,
        timeout: float | None = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> AsyncRawStream:
        """Async twin of :meth:`stream`: use with ``async with``, ``await`` or ``async for``."""
        if isinstance(body, dict) and "stream" not in body:
            body = {**body, "stream": True}
        check_dynamic_route(self.config, endpoint, body)
        url = self.config.url(endpoint)
        headers = self._headers(options, extra_headers)

        transport = self.transport
        idle_timeout = transport.call_seconds(timeout, asynchronous=True)

        async def opener() -> httpx.Response:
            client = transport.aclient
            return await transport.asend(
                lambda: transport.build_request(client, "POST", url, body, headers, stream=True),
                stream=True,
                timeout=timeout,
            )

        from .streams import AsyncRawStream
        from .wire.events import api_for_endpoint

        return AsyncRawStream(
            opener,
            transport.secrets,
            idle_timeout=idle_timeout,
            max_event_size=transport.max_event_size,
            api=api_for_endpoint(endpoint),
        )

    # -- OpenAI SDK clients and feedback ------------------------------------------------------
    def openai_client(self, **kwargs: Any) -> openai.OpenAI:
        """An official ``openai.OpenAI`` routed through this gateway: same URL, auth and options.

        ``kwargs`` go to ``openai.OpenAI`` (``api_key`` and ``base_url`` come from this client;
        ``timeout`` and ``max_retries`` default to its own). Needs the ``openai`` extra.
        """
        from .openai_client import build_openai_client

        return build_openai_client(self, **kwargs)

    def async_openai_client(self, **kwargs: Any) -> openai.AsyncOpenAI:
        """Async twin of :meth:`openai_client`: an official ``openai.AsyncOpenAI``."""
        from .openai_client import build_async_openai_client

        return build_async_openai_client(self, **kwargs)

    @property
    def logs(self) -> Logs:
        """This gateway's logs API: list, get, find, delete and feedback (see :mod:`.logs`)."""
        from .logs import Logs

        return Logs(self.transport)

    def feedback(
        self,
        log_id: str,
        *,
        score: float | None = None,
        feedback: int | None = None,
        metadata: Mapping[str, str | int | float | bool] | None = None,
    ) -> dict[str, Any]:
        """Record human feedback on log entry ``log_id`` (a ``GatewayInfo.log_id``).

        ``feedback`` is -1, 0 or 1, ``score`` 0 to 100, ``metadata`` str/number/bool values.
        Needs a Cloudflare API token (``cf_api_token`` / ``CF_API_TOKEN``). Returns the API's
        ``result``: ``{}`` as Cloudflare documents it, or the entry when a server sends one
        (``logs.feedback`` returns a ``GatewayLog`` either way).
        """
        from .feedback import send_feedback

        return send_feedback(
            self.transport, log_id, score=score, feedback=feedback, metadata=metadata
        )

    async def afeedback(
        self,
        log_id: str,
        *,
        score: float | None = None,
        feedback: int | None = None,
        metadata: Mapping[str, str | int | float | bool] | None = None,
    ) -> dict[str, Any]:
        """Async twin of :meth:`feedback`."""
        from .feedback import asend_feedback

        return await asend_feedback(
            self.transport, log_id, score=score, feedback=feedback, metadata=metadata
        )

    # -- lifecycle ----------------------------------------------------------------------------
    def close(self) -> None:
        """Close the sync HTTP client (the async one needs :meth:`aclose`)."""
        self.transport.close()

    async def aclose(self) -> None:
        """Close both HTTP clients."""
        await self.transport.aclose()

    def __enter__(self) -> Gateway:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    async def __aenter__(self) -> Gateway:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
