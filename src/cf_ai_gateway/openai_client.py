"""Official OpenAI SDK clients (``openai.OpenAI`` / ``openai.AsyncOpenAI``) routed through the gateway.

The SDK keeps its own request building, parsing, streaming and retries; this module only points
it at the gateway, hands it an httpx client of ours and checks what the server sends (2xx
bodies here, stream events in :mod:`~cf_ai_gateway.openai_streams`). The client's ``base_url`` is the gateway
route (``config.provider_base_url``: provider-native, compat or the REST surface), its
``http_client`` signs every request with :class:`~cf_ai_gateway.auth.GatewayAuth` (which, in
``byok`` mode, removes the ``Authorization`` header the SDK adds, so the gateway uses stored keys
or Unified Billing), and the client-level :class:`~cf_ai_gateway.GatewayOptions` become default
headers. Per-request options go through the SDK's ``extra_headers`` (see :func:`gateway_headers`),
and :func:`gateway_info` reads a :class:`~cf_ai_gateway.GatewayInfo` from a raw response; each
client also remembers the info of its latest responses (:func:`recent_gateway_info`). This is how
agent frameworks that take an OpenAI client (openai-agents, pydantic-ai, AutoGen, smolagents) go
through the gateway. ``openai`` is imported only when a client is built.
"""

from __future__ import annotations

import inspect
import re
import weakref
from collections import deque
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import httpx

from . import jsontext
from .auth import GatewayAuth
from .errors import ConfigurationError, GatewayError, error_from_response, is_error_reply
from .info import GatewayInfo
from .openai_streams import checked_client_classes, rebuild_buffered_stream
from .options import GatewayOptions
from .otel_http import attach as trace_http_client

if TYPE_CHECKING:
    import openai

    from .client import Gateway

__all__ = [
    "PLACEHOLDER_API_KEY",
    "OpenAIClientAdapter",
    "build_async_openai_client",
    "build_openai_client",
    "gateway_error",
    "gateway_headers",
    "gateway_info",
    "recent_gateway_info",
]

# The SDK refuses to send without an API key. It gets this placeholder; GatewayAuth replaces the
# Authorization header with the real credential at send time, or removes it (byok).
PLACEHOLDER_API_KEY = "cf-aig-managed-credentials"

# Arguments the gateway owns; passing them to the SDK would bypass the gateway's config.
_OWNED_BY_GATEWAY = ("api_key", "base_url")
_INSTALL_HINT = "pip install 'cf-ai-gateway[openai]'"
# How many responses' GatewayInfo each client remembers, for frameworks that hide raw responses.
RECENT_INFO_SIZE = 64
_recent: weakref.WeakKeyDictionary[Any, deque[GatewayInfo]] = weakref.WeakKeyDictionary()


def _require_openai() -> Any:
    try:
        import openai
    except ImportError as exc:
        raise ConfigurationError(
            f"the OpenAI client adapter needs the openai package; run: {_INSTALL_HINT}"
        ) from exc
    return openai


def gateway_headers(
    options: GatewayOptions | Mapping[str, Any] | None = None, **fields: Any
) -> dict[str, str]:
    """The ``cf-aig-*`` headers of ``options`` and/or option ``fields``, for ``extra_headers=``.

    ``client.chat.completions.create(..., extra_headers=gateway_headers(cache_key="faq-1", cache_ttl=3600))``.
    Fields are checked as :class:`GatewayOptions` checks them; ``fields`` win over ``options``.
    """
    merged = GatewayOptions.coerce(options).merge(fields or None)
    return merged.to_headers()


def gateway_info(source: Any) -> GatewayInfo:
    """The :class:`GatewayInfo` of an SDK raw response, stream, ``APIStatusError`` or httpx response.

    ``raw = client.chat.completions.with_raw_response.create(...)``; ``gateway_info(raw).log_id``.
    Given a client built by this module, it returns the info of the client's latest response
    (useful under frameworks that hide raw responses; see :func:`recent_gateway_info`).
    """
    recent = _recent_of(source)
    if recent is not None:
        if not recent:
            raise LookupError("this client has not received a response yet")
        return recent[-1]
    response = getattr(source, "http_response", None) or getattr(source, "response", None) or source
    headers = getattr(response, "headers", None)
    if headers is None or not hasattr(headers, "items"):
        raise TypeError(
            "gateway_info() needs a raw SDK response (with_raw_response / with_streaming_response), "
            f"a stream, an APIStatusError or an httpx.Response; got {type(source).__name__}"
        )
    status = getattr(response, "status_code", None)
    return GatewayInfo.from_headers(headers, status if isinstance(status, int) else None)


def recent_gateway_info(client: Any) -> list[GatewayInfo]:
    """The :class:`GatewayInfo` of a client's latest responses, oldest first (at most 64).

    ``client`` is an OpenAI client from :meth:`Gateway.openai_client` (or its httpx client).
    After an agent run, ``recent_gateway_info(client)[-1].log_id`` names the last model call.
    """
    recent = _recent_of(client)
    if recent is None:
        raise TypeError("recent_gateway_info() needs a client built by Gateway.openai_client()")
    return list(recent)


def _recent_of(source: Any) -> deque[GatewayInfo] | None:
    http_client = (
        source
        if isinstance(source, (httpx.Client, httpx.AsyncClient))
        else getattr(source, "_client", None)
    )
    if not isinstance(http_client, (httpx.Client, httpx.AsyncClient)):
        return None
    return _recent.get(http_client)


def _record_responses(client: httpx.Client | httpx.AsyncClient) -> None:
    """Remember the GatewayInfo of every response ``client`` receives (headers only)."""
    recent: deque[GatewayInfo] = deque(maxlen=RECENT_INFO_SIZE)
    _recent[client] = recent

    def record(response: httpx.Response) -> None:
        recent.append(GatewayInfo.from_headers(response.headers, response.status_code))

    async def arecord(response: httpx.Response) -> None:
        record(response)

    hook = arecord if isinstance(client, httpx.AsyncClient) else record
    hooks = client.event_hooks
    hooks["response"] = [*hooks.get("response", []), hook]
    client.event_hooks = hooks


# A 2xx JSON reply that holds an error envelope, is not JSON, or is not a JSON object reaches the
# SDK as this status (unless an envelope names its own ``httpCode``), marked not to be retried:
# the request was answered.
ERROR_REPLY_STATUS = 502
# Replies up to this size are parsed to be checked (error envelopes are far smaller).
FULLY_CHECKED_REPLY = 1024 * 1024
_OBJECT_START = re.compile(rb"[ \t\r\n]*\{")


def _json_success(response: httpx.Response) -> bool:
    return 200 <= response.status_code < 300 and "json" in response.headers.get("content-type", "")


def _error_status(response: httpx.Response) -> int | None:
    """The error status for a read 2xx JSON reply that is no answer, else None."""
    content = response.content
    if not content:
        return None
    if len(content) > FULLY_CHECKED_REPLY:
        # A large reply (embeddings) is no error envelope, which are small: it is not parsed
        # twice, and only a reply that does not even start as an object is refused.
        return None if _OBJECT_START.match(content) else ERROR_REPLY_STATUS
    try:
        body = jsontext.loads(content)
    except ValueError:  # not JSON, not UTF-8, or nested too deeply
        return ERROR_REPLY_STATUS
    if not isinstance(body, dict):
        return ERROR_REPLY_STATUS
    if not is_error_reply(body):
        return None
    code = body.get("httpCode")
    if type(code) is int and 400 <= code < 600:
        return code
    return ERROR_REPLY_STATUS


def _mark_error(response: httpx.Response, status: int) -> None:
    response.status_code = status
    response.headers["x-should-retry"] = "false"


def _check_read_reply(response: httpx.Response) -> None:
    status = _error_status(response)
    if status is None:
        try:
            rebuild_buffered_stream(response)
        except (ValueError, GatewayError):  # a reply that is no answer of its endpoint
            status = ERROR_REPLY_STATUS
    if status is not None:
        _mark_error(response, status)


def _surface_error_envelopes(client: httpx.Client | httpx.AsyncClient) -> None:
    """Make a 2xx JSON reply that is no answer an error status the SDK raises.

    The SDK would otherwise build an empty completion from an error envelope (``choices=None``),
    return ``None`` or a list for other JSON, and leak ``JSONDecodeError`` or ``RecursionError``
    for bytes that do not parse. With an error status it raises its ``APIStatusError``, which
    :func:`gateway_error` turns into the typed error an envelope names; ``x-should-retry:
    false`` keeps the SDK from sending the request again. A JSON answer to a stream request (the
    gateway buffers streams when Guardrails are on) becomes the events of that answer.
    """

    def check(response: httpx.Response) -> None:
        if _json_success(response):
            response.read()
            _check_read_reply(response)

    async def acheck(response: httpx.Response) -> None:
        if _json_success(response):
            await response.aread()
            _check_read_reply(response)

    hook = acheck if isinstance(client, httpx.AsyncClient) else check
    hooks = client.event_hooks
    hooks["response"] = [*hooks.get("response", []), hook]
    client.event_hooks = hooks


def gateway_error(exc: BaseException) -> GatewayError:
    """The typed :class:`GatewayError` for an SDK ``APIStatusError`` (tells gateway 401s from the
    provider's, for instance). The SDK's exception is kept as ``__cause__``."""
    response = getattr(exc, "response", None)
    if not isinstance(response, httpx.Response):
        raise TypeError(f"gateway_error() needs an openai.APIStatusError; got {type(exc).__name__}")
    try:
        content = response.content
    except httpx.ResponseNotRead:
        content = b""
    info = GatewayInfo.from_headers(response.headers, response.status_code)
    error = error_from_response(
        response.status_code,
        response.headers,
        content,
        info=info,
        secrets=_request_secrets(response),
    )
    error.__cause__ = exc
    return error


def _request_secrets(response: httpx.Response) -> tuple[str, ...]:
    """The credentials the request carried, so that they can be scrubbed from the reply."""
    try:
        headers = response.request.headers
    except RuntimeError:
        return ()
    values = (headers.get("authorization"), headers.get("cf-aig-authorization"))
    return tuple(v.split(" ", 1)[-1] for v in values if v)


def _client_kwargs(gateway: Gateway, kwargs: dict[str, Any]) -> dict[str, Any]:
    for name in _OWNED_BY_GATEWAY:
        if name in kwargs:
            raise ConfigurationError(
                f"{name} is set on the Gateway (Gateway({name}=...) or its environment variable), "
                "not on the OpenAI client built from it"
            )
    headers: dict[str, str] = {**gateway.config.default_headers, **gateway.options.to_headers()}
    extra_headers = kwargs.pop("default_headers", None) or {}
    if not isinstance(extra_headers, Mapping):
        raise ConfigurationError("default_headers must be a dict of header names to values")
    headers.update(extra_headers)
    transport = gateway.transport
    return {
        "api_key": PLACEHOLDER_API_KEY,
        "base_url": gateway.config.provider_base_url,
        "timeout": kwargs.pop("timeout", transport.timeout),
        "max_retries": kwargs.pop("max_retries", transport.max_retries),
        "default_headers": headers,
        **kwargs,
    }


def _attach_auth(client: httpx.Client | httpx.AsyncClient, auth: GatewayAuth) -> None:
    if client.auth is not None:
        raise ConfigurationError(
            "http_client already has an auth; the gateway's auth must sign its requests "
            "(pass an httpx client without auth=)"
        )
    client.auth = auth
    # A redirect to another host would carry cf-aig-authorization along: never follow one.
    client.follow_redirects = False


def build_openai_client(gateway: Gateway, **kwargs: Any) -> openai.OpenAI:
    """An ``openai.OpenAI`` routed through ``gateway`` (see :meth:`Gateway.openai_client`)."""
    _require_openai()
    options = _client_kwargs(gateway, dict(kwargs))
    auth = GatewayAuth(gateway.config)
    http_client = options.pop("http_client", None)
    if http_client is None:
        http_client = httpx.Client(auth=auth, timeout=options["timeout"], follow_redirects=False)
    elif isinstance(http_client, httpx.Client):
        _attach_auth(http_client, auth)
    else:
        raise ConfigurationError("http_client must be an httpx.Client for the sync OpenAI client")
    _record_responses(http_client)
    _surface_error_envelopes(http_client)
    trace_http_client(http_client, gateway)
    client_class = checked_client_classes(_request_secrets, gateway.transport.max_event_size)[0]
    client: openai.OpenAI = client_class(http_client=http_client, **options)
    return client


def build_async_openai_client(gateway: Gateway, **kwargs: Any) -> openai.AsyncOpenAI:
    """An ``openai.AsyncOpenAI`` routed through ``gateway`` (see
    :meth:`Gateway.async_openai_client`)."""
    _require_openai()
    options = _client_kwargs(gateway, dict(kwargs))
    auth = GatewayAuth(gateway.config)
    http_client = options.pop("http_client", None)
    if http_client is None:
        http_client = httpx.AsyncClient(
            auth=auth, timeout=options["timeout"], follow_redirects=False
        )
    elif isinstance(http_client, httpx.AsyncClient):
        _attach_auth(http_client, auth)
    else:
        raise ConfigurationError(
            "http_client must be an httpx.AsyncClient for the async OpenAI client"
        )
    _record_responses(http_client)
    _surface_error_envelopes(http_client)
    trace_http_client(http_client, gateway)
    client_class = checked_client_classes(_request_secrets, gateway.transport.max_event_size)[1]
    client: openai.AsyncOpenAI = client_class(http_client=http_client, **options)
    return client


def _split_config(config: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    from .client import Gateway

    gateway_params = set(inspect.signature(Gateway.__init__).parameters) - {"self"}
    gateway_params.discard("http_client")
    gateway_params.discard("async_http_client")
    gateway_kwargs = {k: v for k, v in config.items() if k in gateway_params}
    client_kwargs = {k: v for k, v in config.items() if k not in gateway_params}
    return gateway_kwargs, client_kwargs


class OpenAIClientAdapter:
    """Entry-point target of the ``openai`` adapter: ``load_adapter("openai", **config)``.

    ``config`` holds the :class:`Gateway` fields (read from the environment as
    :meth:`Gateway.from_env` reads them) plus any ``openai.OpenAI`` argument other than
    ``api_key`` and ``base_url``; ``async_client=True`` returns an ``openai.AsyncOpenAI``.
    """

    @classmethod
    def from_gateway_config(
        cls, *, async_client: bool = False, **config: Any
    ) -> openai.OpenAI | openai.AsyncOpenAI:
        _require_openai()
        if "model" in config:
            raise ConfigurationError(
                "the openai adapter returns an OpenAI client, which takes no model; pass "
                "model= to each create() call instead"
            )
        from .client import Gateway

        gateway_kwargs, client_kwargs = _split_config(config)
        gateway = Gateway.from_env(**gateway_kwargs)
        if async_client:
            return build_async_openai_client(gateway, **client_kwargs)
        return build_openai_client(gateway, **client_kwargs)
