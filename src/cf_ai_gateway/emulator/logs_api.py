"""The logs and feedback API, shaped like Cloudflare's ``…/ai-gateway/gateways/{gw}/logs`` endpoints.

``GET …/logs`` lists entries (filters, order and paging as the real API takes them, with the
documented ``result_info`` statistics), ``DELETE …/logs`` removes the entries its filters match, ``GET
…/logs/{id}`` returns one, ``GET …/logs/{id}/request`` and ``…/response`` return the stored bodies,
and ``PATCH …/logs/{id}`` records ``feedback`` (-1, 0 or 1), ``score`` (0 to 100) and ``metadata``
and answers with an empty ``result``, as the API reference shows. Answers use the Cloudflare API
envelope. When the emulator has an API token, ``Authorization:
Bearer <token>`` is required (401, code 10000, otherwise).
"""

from __future__ import annotations

import json
from typing import Any

from starlette.responses import JSONResponse, Response

from . import envelopes
from .auth import api_token_ok
from .logs import (
    DELETE_FILTER_KEYS,
    DELETE_ORDER_BY,
    FilterError,
    LogEntry,
    apply_filters,
    parse_filters,
    select_logs,
)
from .routes import RouteMatch
from .state import EmulatorState

LOG_NOT_FOUND_CODE = 7002  # the emulator's choice: Cloudflare does not document this code


def _json(status_and_body: tuple[int, dict[str, Any]]) -> Response:
    status, body = status_and_body
    return JSONResponse(body, status_code=status)


def handle_logs_api(
    state: EmulatorState,
    route: RouteMatch,
    method: str,
    headers: dict[str, str],
    query: dict[str, str],
    raw_body: bytes,
) -> Response:
    """Answer one logs-API request."""
    settings = state.settings
    if not settings.logs_api:  # an account on Logs powered by Workers Observability
        return _json(envelopes.api_error(7000, "No route for that URI", 404))
    if settings.api_token is not None and not api_token_ok(headers, (settings.api_token,)):
        return _json(envelopes.api_auth_error())
    if route.log_id is None:
        if method == "DELETE":
            return _delete(state, route, query)
        if method != "GET":
            return _json(
                envelopes.api_error(7001, f"{method} not supported for requested URI", 405)
            )
        entries = [
            e
            for e in state.logs.snapshot()
            if e.account_id == route.account and e.gateway_id == route.gateway
        ]
        try:
            selected, info = select_logs(entries, query)
        except FilterError as exc:
            return _json(envelopes.api_error(7001, str(exc), 400))
        return JSONResponse(envelopes.api_success([e.to_api() for e in selected], info))
    entry = state.logs.get(route.account, route.gateway, route.log_id)
    if entry is None:
        return _json(envelopes.api_error(LOG_NOT_FOUND_CODE, "Log not found", 404))
    if route.log_part is not None:
        if method != "GET":
            return _json(
                envelopes.api_error(7001, f"{method} not supported for requested URI", 405)
            )
        payload = entry.request_body if route.log_part == "request" else entry.response_body
        return JSONResponse(envelopes.api_success(payload))
    if method == "GET":
        return JSONResponse(envelopes.api_success(entry.to_api()))
    if method == "PATCH":
        return _patch(entry, raw_body)
    return _json(envelopes.api_error(7001, f"{method} not supported for requested URI", 405))


def _delete(state: EmulatorState, route: RouteMatch, query: dict[str, str]) -> Response:
    """``DELETE …/logs``: remove the entries the filters match (ordered, at most ``limit``)."""
    entries = [
        e
        for e in state.logs.snapshot()
        if e.account_id == route.account and e.gateway_id == route.gateway
    ]
    try:
        selected = apply_filters(entries, parse_filters(query.get("filters"), DELETE_FILTER_KEYS))
        order_by = query.get("order_by", "created_at")
        if order_by not in DELETE_ORDER_BY:
            raise FilterError(
                f"Invalid enum value for order_by. Expected one of: {', '.join(DELETE_ORDER_BY)}"
            )
        direction = query.get("order_by_direction", "asc").lower()
        if direction not in ("asc", "desc"):
            raise FilterError(
                "Invalid enum value for order_by_direction. Expected one of: asc, desc"
            )
        limit = int(query["limit"]) if "limit" in query else None
        if limit is not None and limit < 1:
            raise FilterError("limit must be a positive integer")
    except ValueError as exc:
        message = str(exc) if isinstance(exc, FilterError) else "limit must be a positive integer"
        return _json(envelopes.api_error(7001, message, 400))
    selected.sort(key=lambda e: (_order_value(e, order_by), e.id), reverse=direction == "desc")
    state.logs.remove(selected[:limit] if limit is not None else selected)
    return JSONResponse({"success": True})


def _order_value(entry: LogEntry, order_by: str) -> Any:
    value = {"duration": entry.duration_ms, "model_type": entry.request_type}.get(
        order_by, getattr(entry, order_by, None)
    )
    return (0, value, "") if isinstance(value, (int, float)) else (1, 0, str(value))


def _patch(entry: LogEntry, raw_body: bytes) -> Response:
    try:
        body = json.loads(raw_body or b"{}")
    except ValueError:
        return _json(envelopes.api_error(7001, "Request body is not valid JSON", 400))
    if not isinstance(body, dict):
        return _json(envelopes.api_error(7001, "Request body must be a JSON object", 400))
    problem = _check_patch(body)
    if problem:
        return _json(envelopes.api_error(7001, problem, 400))
    if "feedback" in body:
        entry.feedback = int(body["feedback"]) if body["feedback"] is not None else 0
    if "score" in body:
        entry.score = body["score"]
    if isinstance(body.get("metadata"), dict):
        entry.metadata = {**entry.metadata, **body["metadata"]}
    # The API reference answers with an empty result, not the entry (read it back with GET).
    return JSONResponse(envelopes.api_success({}))


def _check_patch(body: dict[str, Any]) -> str | None:
    unknown = set(body) - {"feedback", "score", "metadata"}
    if unknown:
        return f"Unrecognized key(s) in object: {', '.join(sorted(unknown))}"
    feedback = body.get("feedback")
    if (
        "feedback" in body
        and feedback is not None
        and (
            isinstance(feedback, bool)
            or not isinstance(feedback, (int, float))
            or feedback not in (-1, 0, 1)
        )
    ):
        return "Invalid enum value for feedback: expected -1, 0 or 1"
    score = body.get("score")
    if (
        "score" in body
        and score is not None
        and (
            isinstance(score, bool) or not isinstance(score, (int, float)) or not 0 <= score <= 100
        )
    ):
        return "score must be a number between 0 and 100"
    metadata = body.get("metadata")
    if (
        "metadata" in body
        and metadata is not None
        and (
            not isinstance(metadata, dict)
            or not all(isinstance(v, (str, int, float, bool)) for v in metadata.values())
        )
    ):
        return "metadata must be an object of string, number or boolean values"
    return None
