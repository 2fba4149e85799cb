"""Client-side failover: try the next model or provider route when a call fails transiently.

``fallbacks`` entries are a model name (same provider route) or a mapping ``{"provider",
"model", "api_key"}`` (another provider route of the same gateway, its key read from the
provider's own environment variable when omitted, as :meth:`GatewayConfig.resolve` does). Every
entry is checked before anything is sent. A failure another model could fix (rate limit,
timeout, connection error, 5xx, a provider error that is not a client error) moves on to the
next entry; ``fallback_on`` names the error classes that do instead. Streams are in
:mod:`cf_ai_gateway.failover_streams`. All attempts of one call share one ``cf-aig-event-id`` and are listed in
``GatewayInfo.attempts``. :func:`check_dynamic_route` refuses a ``dynamic/<route>`` model where
the gateway cannot serve it.
"""

from __future__ import annotations

import dataclasses
import time
import uuid
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from .config import GatewayConfig
from .errors import (
    ConfigurationError,
    GatewayAuthenticationError,
    GatewayBadRequestError,
    GatewayError,
    GatewayRateLimitError,
    ProviderError,
    SpendLimitError,
    StreamError,
)
from .fallback_checks import check_dynamic_route, check_fallback_on, check_fallbacks
from .info import Attempt, GatewayInfo
from .options import GatewayOptions
from .records import record

if TYPE_CHECKING:
    from .client import Gateway, OptionsLike
    from .wire.types import Api, ChatRequest, ChatResult

__all__ = ["check_dynamic_route", "check_fallback_on", "check_fallbacks"]

# Broad classes: naming one in ``fallback_on`` still skips client errors (400, 401, 403, 404).
_BROAD: tuple[type[BaseException], ...] = (BaseException, Exception, GatewayError, ProviderError)


def transient(exc: GatewayError) -> bool:
    """Whether another model could plausibly answer: no response, 408, 429, 5xx, a bad reply."""
    if isinstance(exc, (ConfigurationError, SpendLimitError)):
        return False
    if isinstance(exc, (GatewayAuthenticationError, GatewayBadRequestError)):
        return False
    if isinstance(exc, (GatewayRateLimitError, StreamError)):
        return True  # a rate limit, or a reply or stream that broke or did not parse
    status = exc.status_code
    if status is not None and status < 400:
        status = _envelope_status(exc.body)  # an error sent in a 2xx reply: its own status
    return status is None or status in (408, 429) or status >= 500


# Error types of an envelope sent in a 2xx reply that another model could not fix.
_CLIENT_ERROR_TYPES = frozenset(
    {"invalid_request_error", "authentication_error", "permission_error", "not_found_error"}
)


def _envelope_status(body: Any) -> int | None:
    """The status an error envelope of a 2xx reply stands for: its ``httpCode``, its error's
    numeric ``code``, 400 for a client error ``type``; None (transient) when it names none."""
    if not isinstance(body, Mapping):
        return None
    code = body.get("httpCode")
    if type(code) is int and 400 <= code < 600:
        return code
    error = body.get("error")
    if isinstance(error, list) and error:
        error = error[0]
    if not isinstance(error, Mapping):
        return None
    code = error.get("code")
    if type(code) is int and 400 <= code < 600:
        return code
    return 400 if error.get("type") in _CLIENT_ERROR_TYPES else None


def should_fail_over(exc: GatewayError, fallback_on: tuple[type[BaseException], ...]) -> bool:
    """Whether ``exc`` moves a call on to its next route."""
    if isinstance(exc, ConfigurationError):
        return False
    if not fallback_on:
        return transient(exc)
    if not isinstance(exc, fallback_on):
        return False
    named = any(isinstance(exc, cls) and cls not in _BROAD for cls in fallback_on)
    return named or transient(exc)


@record(frozen=True, slots=True)
class Route:
    """One route of a call: the client that sends it and the model it asks for."""

    gateway: Gateway
    model: str
    provider: str


def plan(gateway: Gateway, model: str, entries: tuple[str | dict[str, Any], ...]) -> list[Route]:
    """The routes of a call, primary first; every fallback entry is resolved before sending."""
    from .client import Gateway

    config = gateway.config
    routes = [Route(gateway, model, config.provider)]
    for entry in entries:
        if isinstance(entry, str):
            routes.append(Route(gateway, entry, config.provider))
            continue
        provider = entry.get("provider") or config.provider
        name: str = entry["model"]
        api_key = entry.get("api_key")
        if config.provider == "compat" and provider != "compat":
            routes.append(Route(gateway, f"{provider}/{name}", "compat"))
            continue
        if provider == config.provider and api_key is None:
            routes.append(Route(gateway, name, provider))
            continue
        other = GatewayConfig.resolve(
            account_id=config.account_id,
            gateway_id=config.gateway_id,
            provider=provider,
            api_key=api_key,
            cf_aig_token=config.cf_aig_token,
            auth_mode=config.auth_mode,
            base_url=config.base_url,
            cf_api_token=config.cf_api_token,
            api_base_url=config.api_base_url,
            surface=config.surface,
            default_headers=config.default_headers,
            allow_insecure_http=True,  # the same base URL, already checked for the primary
        )
        if not config.gateway_named:  # the sibling names no more than the primary did
            other = dataclasses.replace(other, gateway_named=False)
        sibling = Gateway(config=other, gateway_options=gateway.options)
        sibling.transport = gateway.transport.sibling(other)
        routes.append(Route(sibling, name, provider))
    return routes


def shared_event_options(gateway: Gateway, options: OptionsLike) -> GatewayOptions:
    """The call's options with an ``event_id`` for every attempt (a new one if none is set)."""
    call = GatewayOptions.coerce(options)
    if gateway.options.merge(call).event_id:
        return call
    return call.merge({"event_id": str(uuid.uuid4())})


def _attempt(route: Route, info: GatewayInfo | None, exc: GatewayError | None) -> Attempt:
    if exc is not None:
        info = exc.info if isinstance(exc.info, GatewayInfo) else info
    return Attempt(
        provider=(info.provider if info and info.provider else route.provider),
        model=(info.model if info and info.model else route.model),
        status=(exc.status_code if exc is not None else (info.status_code if info else None)),
        code=exc.code if exc is not None else None,
        log_id=(exc.log_id if exc is not None and exc.log_id else (info.log_id if info else None)),
        error=type(exc).__name__ if exc is not None else None,
    )


def _with_attempts(info: GatewayInfo | None, attempts: list[Attempt]) -> GatewayInfo:
    return dataclasses.replace(info or GatewayInfo(), attempts=tuple(attempts))


def _final(exc: GatewayError, attempts: list[Attempt]) -> GatewayError:
    info = exc.info if isinstance(exc.info, GatewayInfo) else None
    exc.info = _with_attempts(info, attempts)
    return exc


class _Call:
    """The parts of one call with fallbacks, checked before anything is sent."""

    def __init__(
        self,
        gateway: Gateway,
        request: ChatRequest,
        api: Api,
        fallbacks: Any,
        fallback_on: Any,
        options: OptionsLike,
        extra_headers: Mapping[str, str] | None,
        timeout: float | None,
        *,
        asynchronous: bool = False,
    ) -> None:
        entries = check_fallbacks(fallbacks)
        self.fallback_on = (
            check_fallback_on(fallback_on) if fallback_on is not None else (gateway.fallback_on)
        )
        self.routes = plan(gateway, request.model, entries)
        endpoint = "responses" if api == "responses" else "chat/completions"
        for route in self.routes:
            route.gateway._check_model(dataclasses.replace(request, model=route.model))
            check_dynamic_route(route.gateway.config, endpoint, {"model": route.model})
        self.request = request
        self.options = shared_event_options(gateway, options)
        self.headers = extra_headers
        self.attempts: list[Attempt] = []
        # ``timeout`` is a deadline for the whole call, every try included (else the timeout of
        # the client that sends it: an async call's own async client, if the caller gave one).
        self.timeout = timeout
        self.seconds = gateway.transport.call_seconds(timeout, asynchronous=asynchronous)
        self.started = time.monotonic()

    def requests(self) -> Iterator[tuple[Route, ChatRequest, bool]]:
        for index, route in enumerate(self.routes):
            request = self.request
            if route.model != request.model:
                request = dataclasses.replace(request, model=route.model)
            yield route, request, index == len(self.routes) - 1

    def time_left(self) -> float | None:
        """The timeout of the next try: what is left of the call's deadline."""
        if self.seconds is None or not self.attempts:
            return self.timeout
        return self.seconds - (time.monotonic() - self.started)

    def failed(self, route: Route, exc: GatewayError, last: bool) -> bool:
        """Record a failed attempt; True when the call moves on to its next route."""
        self.attempts.append(_attempt(route, None, exc))
        left = self.time_left()
        out_of_time = left is not None and left <= 0
        if last or out_of_time or not should_fail_over(exc, self.fallback_on):
            _final(exc, self.attempts)
            return False
        return True

    def answered(self, route: Route, info: GatewayInfo | None) -> GatewayInfo:
        self.attempts.append(_attempt(route, info, None))
        return _with_attempts(info, self.attempts)


def chat(
    gateway: Gateway,
    request: ChatRequest,
    *,
    api: Api,
    options: OptionsLike,
    timeout: float | None,
    extra_headers: Mapping[str, str] | None,
    fallbacks: Any,
    fallback_on: Any,
) -> ChatResult:
    """:meth:`Gateway.chat` over the call's routes."""
    call = _Call(gateway, request, api, fallbacks, fallback_on, options, extra_headers, timeout)
    for route, routed, last in call.requests():
        try:
            result = route.gateway.chat(
                routed,
                api=api,
                timeout=call.time_left(),
                extra_headers=call.headers,
                options=call.options,
                fallbacks=(),
            )
        except GatewayError as exc:
            if call.failed(route, exc, last):
                continue
            raise
        result.info = call.answered(route, result.info)
        return result
    raise AssertionError("unreachable")  # pragma: no cover


async def achat(
    gateway: Gateway,
    request: ChatRequest,
    *,
    api: Api,
    options: OptionsLike,
    timeout: float | None,
    extra_headers: Mapping[str, str] | None,
    fallbacks: Any,
    fallback_on: Any,
) -> ChatResult:
    """Async twin of :func:`chat`."""
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
    for route, routed, last in call.requests():
        try:
            result = await route.gateway.achat(
                routed,
                api=api,
                timeout=call.time_left(),
                extra_headers=call.headers,
                options=call.options,
                fallbacks=(),
            )
        except GatewayError as exc:
            if call.failed(route, exc, last):
                continue
            raise
        result.info = call.answered(route, result.info)
        return result
    raise AssertionError("unreachable")  # pragma: no cover
