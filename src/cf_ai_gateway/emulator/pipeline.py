"""The gateway's request pipeline for the model routes (native, compat and REST).

In order: the gateway id (2001), the method and route (7001, 7000, 2008), the gateway's own
authentication (2009, or 10000 on the REST API), the body (OpenAI's 400s, compat's 2019/2008),
the cache (a HIT is served without counting against the rate limit), the rate limit (2003), the
provider credential (the provider's 401, passed through), then injected faults and queued
replies, and finally the deterministic model. Every answer carries the identity headers and is
logged; successful non-streamed answers are stored in the cache when the request opted in.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from starlette.responses import Response

from . import envelopes, ids
from .auth import api_token_ok, gateway_token_ok, provider_credential
from .cache import CachedReply, cache_key, parse_cache_directive
from .conversation import (
    InvalidRequest,
    ModelRequest,
    Turn,
    read_chat_request,
    read_responses_request,
)
from .deliver import deliver_model_output, deliver_reply, json_delivery
from .embeddings import embeddings_body
from .exchange import Exchange, Outcome, json_bytes
from .model import (
    DeterministicModel,
    ModelOutput,
    ToolCallOut,
    prompt_fingerprint,
    prompt_tokens,
    split_pieces,
)
from .routes import (
    COMPAT_PREFIXES,
    MODEL_ENDPOINTS,
    OTHER_PROVIDERS,
    RouteMatch,
    is_custom_provider,
    is_known_provider,
)
from .scripting import Fault
from .state import EmulatorState

_BAD_JSON = ("We could not parse the JSON body of your request. (HINT: This likely means you aren't using your "
             "HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON. "
             "If you have trouble figuring out how to fix this, please contact us through our help center at "
             "help.openai.com.)")


def _gateway_id(route: RouteMatch, headers: dict[str, str]) -> str:
    if route.surface == "rest":
        return headers.get("cf-aig-gateway-id") or "default"
    return route.gateway


async def handle_model_route(state: EmulatorState, route: RouteMatch, method: str, path: str,
                             headers: dict[str, str], raw_body: bytes) -> Response:
    """Answer one request to a gateway model route."""
    gateway = _gateway_id(route, headers)
    provider = route.provider if route.surface == "native" else route.surface
    ex = Exchange(state, route, method, path, headers, raw_body, gateway, provider)
    rest = route.surface == "rest"
    settings = state.settings

    def gateway_error(code: int, message: str | None = None, status: int | None = None, log: bool = True) -> Response:
        if rest:
            status_code, body = envelopes.api_error(code, message or envelopes.GATEWAY_CODES.get(code, (0, ""))[1],
                                                    status or envelopes.GATEWAY_CODES.get(code, (400, ""))[0])
        else:
            status_code, body = envelopes.gateway_error(code, message, status)
        return ex.answer(status_code, body, log=log)

    if settings.gateways is not None and gateway not in settings.gateways:
        return gateway_error(2001, log=False)
    if route.surface == "universal":
        return gateway_error(7000, "The emulator does not serve the Universal Endpoint", log=False)
    if method != "POST":
        return gateway_error(7001, f"{method} not supported for requested URI", 405)
    routing_error = _routing_error(route)
    if routing_error is not None:
        return gateway_error(*routing_error)

    # The gateway's own authentication.
    if rest:
        if not api_token_ok(headers, (settings.api_token, settings.token)):
            return ex.answer(*envelopes.api_auth_error())
        ex.authenticated = True
    else:
        if not gateway_token_ok(headers, settings.token):
            return ex.answer(*envelopes.gateway_error(2009))
        ex.authenticated = settings.token is not None

    # The body.
    try:
        body = json.loads(raw_body) if raw_body else None
    except ValueError:
        body = None
    if not isinstance(body, dict):
        return _invalid(ex, rest, InvalidRequest(_BAD_JSON))
    ex.body = body
    ex.model = body.get("model") if isinstance(body.get("model"), str) else None
    ex.request_type = {"responses": "responses", "embeddings": "embeddings"}.get(route.endpoint, "chat")
    model_error = _model_name_error(route, ex)
    if model_error is not None:
        return model_error

    request: ModelRequest | None = None
    try:
        if route.endpoint == "chat/completions":
            request = read_chat_request(body)
        elif route.endpoint == "responses":
            request = read_responses_request(body, _history(state, body))
        else:
            embeddings_body(body)  # validate now; answered below
    except InvalidRequest as exc:
        return _invalid(ex, rest, exc)
    stream = bool(request and request.stream)

    # The cache: a hit is served before the rate limit and the provider.
    directive = parse_cache_directive(headers, settings.cache_ttl)
    cacheable = directive.enabled and not directive.skip and not stream
    key = cache_key(f"{route.account}/{gateway}", directive.key, provider=ex.provider, endpoint=route.endpoint,
                    model=ex.model, provider_auth=headers.get("authorization"), body=raw_body) if cacheable else ""
    if cacheable:
        hit = state.cache.get(key, state.clock.now())
        if hit is not None:
            outcome = Outcome(hit.status, json.loads(hit.body), hit.model, hit.extra.get("tokens_in", 0),
                              hit.extra.get("tokens_out", 0), cached=True)
            return ex.answer(hit.status, hit.body, cache_status="HIT", outcome=outcome)

    if settings.rate_limit is not None and not state.limiter.allow(
        (route.account, gateway), settings.rate_limit, settings.rate_limit_window, state.clock.now()
    ):
        return gateway_error(2003)

    # The provider credential (the REST API bills through Unified Billing).
    if not rest:
        credential = provider_credential(headers, token=settings.token, stored_keys=settings.stored_keys)
        if credential.source is None:
            status, error_body = envelopes.missing_key_error()
            return ex.answer(status, error_body, cache_status="MISS")
        if credential.source == "request" and settings.api_key is not None and credential.key != settings.api_key:
            status, error_body = envelopes.invalid_key_error(credential.key or "")
            return ex.answer(status, error_body, cache_status="MISS")
        ex.byok = credential.source == "stored"
        alias = headers.get("cf-aig-byok-alias", "").strip() or "default"
        if ex.byok and alias not in settings.stored_key_aliases:
            configured = ", ".join(f"'{a}'" for a in settings.stored_key_aliases) or "none"
            return ex.answer(*envelopes.gateway_error(
                2040, f"Provider '{ex.provider}' has no BYOK credential named '{alias}'. "
                      f"Configured aliases: {configured}"))

    # Faults and queued replies stand in for the provider.
    endpoint = route.endpoint
    fault = state.scripts.take_fault(endpoint)
    if fault is not None:
        early = await _apply_fault_start(ex, fault)
        if early is not None:
            return early
    reply = state.scripts.take_reply(endpoint)
    if reply is not None and not reply.renders_model_output:
        return deliver_reply(ex, reply, fault)

    if request is None:  # embeddings
        vectors, tokens = embeddings_body(body)
        response = json_delivery(ex, vectors, fault, Outcome(200, vectors, ex.model, tokens, 0))
        _store(state, cacheable, key, directive.ttl, vectors, ex.model, tokens, 0, fault)
        return response

    seen = state.remember_prompt(prompt_fingerprint(request))
    if reply is not None:
        output = scripted_output(request, reply.text, reply.tool_calls, seen)
    else:
        output = DeterministicModel(settings.stream_chunks).respond(request, prompt_seen_before=seen)
    response, reply_body = deliver_model_output(ex, request, output, fault)
    if not stream and reply_body is not None:
        _store(state, cacheable, key, directive.ttl, reply_body, request.model, output.prompt_tokens,
               output.completion_tokens, fault)
    return response


def _routing_error(route: RouteMatch) -> tuple[int, str | None] | None:
    if route.surface == "native":
        if not is_known_provider(route.provider):
            return 2008, None
        if route.provider in OTHER_PROVIDERS:
            return 7000, f"No route for that URI (the emulator does not speak the {route.provider} API)"
        if route.endpoint not in MODEL_ENDPOINTS or (route.provider == "workers-ai" and route.endpoint == "responses"):
            return 7000, None
    elif route.endpoint not in MODEL_ENDPOINTS or (route.surface == "rest" and route.endpoint == "embeddings"):
        return 7000, None
    return None


def _model_name_error(route: RouteMatch, ex: Exchange) -> Response | None:
    model = ex.model
    if route.surface == "compat":
        if not model or "/" not in model:
            return ex.answer(*envelopes.gateway_error(2019))
        prefix = model.split("/", 1)[0]
        if prefix not in COMPAT_PREFIXES and not is_custom_provider(prefix):
            return ex.answer(*envelopes.gateway_error(2008))
        ex.provider = prefix
    elif route.surface == "rest":
        if model and model.startswith("@cf/"):
            ex.provider = "workers-ai"
        elif model and "/" in model:
            ex.provider = model.split("/", 1)[0]
        else:
            return ex.answer(*envelopes.api_error(7003, f"Model not found: {model}", 400))
    return None


def _invalid(ex: Exchange, rest: bool, error: InvalidRequest) -> Response:
    if rest:
        return ex.answer(*envelopes.api_error(7003, f"User Input Error: {error.message}", 400))
    body = envelopes.openai_error(error.message, param=error.param, code=error.code)
    return ex.answer(400, body, cache_status="MISS")


def _history(state: EmulatorState, body: dict[str, Any]) -> list[Turn] | None:
    previous = body.get("previous_response_id")
    if previous is None:
        return None
    turns = state.stored_response(str(previous))
    if turns is None:
        raise InvalidRequest(f"Previous response with id '{previous}' not found.", "previous_response_id",
                             "previous_response_not_found")
    return turns


async def _apply_fault_start(ex: Exchange, fault: Fault) -> Response | None:
    """Wait the fault's delay (or time out like the gateway); answer its error status if any."""
    if fault.delay > 0:
        timeout_ms = _int_header(ex.headers.get("cf-aig-request-timeout"))
        if timeout_ms is not None and fault.delay * 1000 > timeout_ms:
            await asyncio.sleep(timeout_ms / 1000)
            return ex.answer(*envelopes.gateway_error(envelopes.REQUEST_TIMEOUT_CODE))
        await asyncio.sleep(fault.delay)
    if fault.status is None:
        return None
    if fault.body is not None:
        body: Any = fault.body
    elif fault.code is not None:
        body = envelopes.gateway_error(fault.code, fault.message, fault.status)[1]
    else:
        body = envelopes.provider_error(fault.status, fault.message)
    extra = dict(fault.headers)
    if fault.retry_after is not None:
        extra["retry-after"] = _seconds_text(fault.retry_after)
    cache_status = None if fault.code is not None else "MISS"
    return ex.answer(fault.status, body, cache_status=cache_status, extra=extra)


def _store(state: EmulatorState, cacheable: bool, key: str, ttl: int, body: dict[str, Any], model: str | None,
           tokens_in: int, tokens_out: int, fault: Fault | None) -> None:
    if not cacheable or (fault is not None and (fault.garbage or fault.cut_after is not None)):
        return
    state.cache.put(key, CachedReply(200, json_bytes(body), "application/json", state.clock.now() + ttl, model,
                                     {"tokens_in": tokens_in, "tokens_out": tokens_out}))


def scripted_output(request: ModelRequest, text: str | None, tool_calls: list[dict[str, Any]] | None,
                    seen: bool) -> ModelOutput:
    """A queued text / tool-call reply as model output, with usage counted like the model's."""
    calls = []
    for call in tool_calls or []:
        arguments = call.get("arguments", {})
        text_arguments = arguments if isinstance(arguments, str) else json.dumps(arguments, ensure_ascii=False)
        calls.append(ToolCallOut(str(call.get("id") or ids.tool_call_id()), str(call["name"]), text_arguments))
    output = ModelOutput(text=None if calls else (text or ""), tool_calls=calls,
                         finish_reason="tool_calls" if calls else "stop")
    output.prompt_tokens = prompt_tokens(request)
    output.cached_tokens = output.prompt_tokens if seen else 0
    output.completion_tokens = (sum(3 + max(1, len(c.arguments) // 4) for c in calls) if calls
                                else len(split_pieces(output.text or "")))
    return output


def _int_header(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return int(float(value))
    except ValueError:
        return None


def _seconds_text(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)
