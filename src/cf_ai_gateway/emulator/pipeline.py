"""The gateway's request pipeline for the model routes (native, compat and REST).

In order: the gateway id (2001), the method and route (7001, 7000, 2008), the gateway's own
authentication (2009, or 10000 on the REST API), the body (OpenAI's 400s, compat's 2019/2008),
the cache (a HIT is served without counting against the rate limit), the rate limit (2003), the
provider credential (the provider's 401, passed through), then injected faults and queued
replies, and finally the deterministic model. Every answer carries the identity headers and is
logged; successful non-streamed answers are stored in the cache when the request opted in.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from starlette.responses import Response

from . import autorouter, envelopes, guardrails, ids, routing
from .auth import api_token_ok, gateway_token_ok
from .billing import rest_credential_failure, settle_credential
from .cache import CachedReply, cache_key, parse_cache_directive
from .conversation import (
    InvalidRequest,
    ModelRequest,
    Turn,
    read_chat_request,
)
from .deliver import deliver_model_output, deliver_reply, json_delivery
from .embeddings import embeddings_body
from .exchange import Exchange, Outcome, json_bytes
from .guardrails import output_text, request_text
from .model import (
    DeterministicModel,
    ModelOutput,
    ToolCallOut,
    prompt_fingerprint,
    prompt_tokens,
    split_pieces,
)
from .policies import apply_policies
from .responses_request import read_responses_request
from .retries import Failure, RetryPolicy, retry_policy, run_attempts
from .routes import (
    COMPAT_PREFIXES,
    MODEL_ENDPOINTS,
    OTHER_PROVIDERS,
    RouteMatch,
    is_custom_provider,
    is_known_provider,
)
from .routing import Candidate
from .scripting import Fault
from .state import EmulatorState

_BAD_JSON = (
    "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your "
    "HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON. "
    "If you have trouble figuring out how to fix this, please contact us through our help center at "
    "help.openai.com.)"
)


def _gateway_id(route: RouteMatch, headers: dict[str, str]) -> str:
    if route.surface == "rest":
        return headers.get("cf-aig-gateway-id") or "default"
    return route.gateway


async def handle_model_route(
    state: EmulatorState,
    route: RouteMatch,
    method: str,
    path: str,
    headers: dict[str, str],
    raw_body: bytes,
) -> Response:
    """Answer one request to a gateway model route."""
    gateway = _gateway_id(route, headers)
    provider = route.provider if route.surface == "native" else route.surface
    ex = Exchange(state, route, method, path, headers, raw_body, gateway, provider)
    rest = route.surface == "rest"
    settings = state.settings

    def gateway_error(
        code: int, message: str | None = None, status: int | None = None, log: bool = True
    ) -> Response:
        if rest:
            status_code, body = envelopes.api_error(
                code,
                message or envelopes.GATEWAY_CODES.get(code, (0, ""))[1],
                status or envelopes.GATEWAY_CODES.get(code, (400, ""))[0],
            )
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
        if not api_token_ok(headers, (settings.api_token,)):
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
    ex.request_type = {"responses": "responses", "embeddings": "embeddings"}.get(
        route.endpoint, "chat"
    )
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
            embeddings_body(body, ex.provider)  # validate now; answered below
    except InvalidRequest as exc:
        return _invalid(ex, rest, exc)
    stream = bool(request and request.stream)

    # The cache: a hit is served before the rate limit and the provider.
    directive = parse_cache_directive(headers, settings.cache_ttl)
    cacheable = directive.enabled and not directive.skip and not stream
    key = (
        cache_key(
            f"{route.account}/{gateway}",
            directive.key,
            provider=ex.provider,
            endpoint=route.endpoint,
            model=ex.model,
            provider_auth=headers.get("authorization"),
            body=raw_body,
        )
        if cacheable
        else ""
    )
    if cacheable:
        hit = state.cache.get(key, state.clock.now())
        if hit is not None:
            outcome = Outcome(
                hit.status,
                json.loads(hit.body),
                hit.model,
                hit.extra.get("tokens_in", 0),
                hit.extra.get("tokens_out", 0),
                cached=True,
            )
            return ex.answer(hit.status, hit.body, cache_status="HIT", outcome=outcome)

    refused = apply_policies(ex)
    if refused is not None:
        return refused

    if settings.rate_limit is not None and not state.limiter.allow(
        (route.account, gateway), settings.rate_limit, settings.rate_limit_window, state.clock.now()
    ):
        return gateway_error(2003)

    # Who pays for the provider call (the caller's key, a stored key, or Unified Billing).
    refused = settle_credential(ex, rest)
    if refused is not None:
        return refused

    # Guardrails and DLP on the prompt.
    if request is not None:
        refused = guardrails.check_prompt(ex, request_text(request))
        if refused is not None:
            return refused

    # The models to call: the request's own, a dynamic route's, or the Auto Router's choice.
    candidates = _candidates(ex, request)
    if isinstance(candidates, Response):
        return candidates
    endpoint = route.endpoint
    failure: Failure | None = None
    for index, candidate in enumerate(candidates):
        if candidate is not None:
            ex.provider, ex.model = candidate.provider, candidate.bare_model
            ex.feature_headers.update(candidate.headers or {})
            if candidate.headers is None:
                ex.feature_headers.update(
                    {"cf-aig-model": candidate.bare_model, "cf-aig-provider": candidate.provider}
                )
            if request is not None:
                request.model = candidate.bare_model
        policy = retry_policy(headers, settings)
        if candidate is not None and candidate.retries is not None:
            policy = RetryPolicy(
                1 + max(0, min(4, int(candidate.retries))), policy.delay_ms, policy.backoff
            )
        first_attempt = ex.attempts
        upstream_model = candidate.model if candidate is not None else ex.model
        fault, failure = await run_attempts(
            ex,
            endpoint,
            upstream_model,
            policy,
            candidate.timeout_ms if candidate is not None else None,
        )
        ex.step = index if candidate is not None else ex.attempts - 1 - first_attempt
        if failure is None:
            if candidate is not None and candidate.on_success is not None:
                candidate.on_success()
            return await _serve(ex, request, body, fault, cacheable, key, directive.ttl)
        if candidate is None:
            break
    if failure is None:  # a dynamic route that leads to no model for this request
        message = "The dynamic route has no model for this request"
        return ex.answer(
            *(
                envelopes.api_error(2019, message, 400)
                if rest
                else envelopes.gateway_error(2019, message)
            )
        )
    failure = rest_credential_failure(ex, failure)
    return ex.answer(
        failure.status, failure.body, cache_status=failure.cache_status, extra=failure.extra
    )


def _candidates(
    ex: Exchange, request: ModelRequest | None
) -> Response | Iterator[Candidate | None]:
    """The upstream models to try in order; ``None`` stands for the request's own model."""
    model = ex.model or ""
    if ex.route.surface in ("compat", "rest") and model.startswith("dynamic/"):
        return routing.plan(ex, model.split("/", 1)[1])
    if (
        ex.route.surface in ("compat", "rest")
        and model == autorouter.AUTO_MODEL
        and request is not None
    ):
        return autorouter.plan(ex, request)
    return iter([None])


async def _serve(
    ex: Exchange,
    request: ModelRequest | None,
    body: dict[str, Any],
    fault: Fault | None,
    cacheable: bool,
    key: str,
    ttl: int,
) -> Response:
    """The upstream answered: a queued reply, the embeddings, or the model's answer."""
    state, endpoint = ex.state, ex.route.endpoint
    reply = state.scripts.take_reply(endpoint)
    if reply is not None and not reply.renders_model_output:
        return deliver_reply(ex, reply, fault)

    if request is None:  # embeddings
        vectors, tokens = embeddings_body(body, ex.provider)
        response = json_delivery(ex, vectors, fault, Outcome(200, vectors, ex.model, tokens, 0))
        _store(state, cacheable, key, ttl, vectors, ex.model, tokens, 0, fault)
        return response

    seen = state.remember_prompt(prompt_fingerprint(request))
    if reply is not None:
        output = scripted_output(request, reply.text, reply.tool_calls, seen)
    else:
        output = DeterministicModel(state.settings.stream_chunks).respond(
            request, prompt_seen_before=seen
        )
    refused = guardrails.check_response(ex, output_text(output), request.stream)
    if refused is not None:
        return refused
    if request.stream and guardrails.buffers_streams(ex):
        request.stream = False  # guardrails buffer the answer and send it as one JSON body
    response, reply_body = deliver_model_output(ex, request, output, fault)
    if not request.stream and reply_body is not None:
        _store(
            state,
            cacheable,
            key,
            ttl,
            reply_body,
            request.model,
            output.prompt_tokens,
            output.completion_tokens,
            fault,
        )
    return response


def _routing_error(route: RouteMatch) -> tuple[int, str | None] | None:
    if route.surface == "native":
        if not is_known_provider(route.provider):
            return 2008, None
        if route.provider in OTHER_PROVIDERS:
            return (
                7000,
                f"No route for that URI (the emulator does not speak the {route.provider} API)",
            )
        if route.endpoint not in MODEL_ENDPOINTS or (
            route.provider == "workers-ai" and route.endpoint == "responses"
        ):
            return 7000, None
    elif route.endpoint not in MODEL_ENDPOINTS:
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
            if not ex.headers.get("cf-aig-gateway-id", "").strip():
                return ex.answer(
                    *envelopes.api_error(
                        7003,
                        "Workers AI models (@cf/...) on the REST API require the cf-aig-gateway-id header",
                        400,
                    )
                )
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
        raise InvalidRequest(
            f"Previous response with id '{previous}' not found.",
            "previous_response_id",
            "previous_response_not_found",
        )
    return turns


def _store(
    state: EmulatorState,
    cacheable: bool,
    key: str,
    ttl: int,
    body: dict[str, Any],
    model: str | None,
    tokens_in: int,
    tokens_out: int,
    fault: Fault | None,
) -> None:
    if not cacheable or (fault is not None and (fault.garbage or fault.cut_after is not None)):
        return
    state.cache.put(
        key,
        CachedReply(
            200,
            json_bytes(body),
            "application/json",
            state.clock.now() + ttl,
            model,
            {"tokens_in": tokens_in, "tokens_out": tokens_out},
        ),
    )


def scripted_output(
    request: ModelRequest, text: str | None, tool_calls: list[dict[str, Any]] | None, seen: bool
) -> ModelOutput:
    """A queued text / tool-call reply as model output, with usage counted like the model's."""
    calls = []
    for call in tool_calls or []:
        arguments = call.get("arguments", {})
        text_arguments = (
            arguments if isinstance(arguments, str) else json.dumps(arguments, ensure_ascii=False)
        )
        calls.append(
            ToolCallOut(
                str(call.get("id") or ids.tool_call_id()), str(call["name"]), text_arguments
            )
        )
    output = ModelOutput(
        text=None if calls else (text or ""),
        tool_calls=calls,
        finish_reason="tool_calls" if calls else "stop",
    )
    output.prompt_tokens = prompt_tokens(request)
    output.cached_tokens = output.prompt_tokens if seen else 0
    output.completion_tokens = (
        sum(3 + max(1, len(c.arguments) // 4) for c in calls)
        if calls
        else len(split_pieces(output.text or ""))
    )
    return output
