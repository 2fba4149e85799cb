"""The emulator's ASGI application: records each request, then routes it to its surface.

Model routes go through :mod:`.pipeline`, the logs API through :mod:`.logs_api`, and anything
else gets the gateway's "No route for that URI" (code 7000) in the envelope of the root it was
sent to. Gateway-root answers (the ones a model route did not build) still carry the identity
headers: the gateway returns ``cf-aig-log-id`` and ``cf-aig-event-id`` on every response, failed
ones included. An unexpected exception inside the emulator is answered as a 500 in the gateway's
envelope and kept in :attr:`EmulatorApp.errors`, so a test can see what went wrong. A client that
disconnects before its request body has arrived is simply forgotten (no traceback).
"""

from __future__ import annotations

import json
import traceback
from typing import Any

from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from . import envelopes, ids
from .logs_api import handle_logs_api
from .pipeline import handle_model_route
from .routes import match_path
from .state import EmulatorState, RecordedRequest

_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]


class EmulatorApp:
    """The Starlette app of one emulator."""

    def __init__(self, state: EmulatorState) -> None:
        self.state = state
        self.errors: list[str] = []
        self.asgi = Starlette(routes=[Route("/{path:path}", self.dispatch, methods=_METHODS)])

    async def dispatch(self, request: Request) -> Response:
        try:
            raw_body = await request.body()
        except ClientDisconnect:
            return Response(status_code=499)  # nobody is left to read it
        headers = {k.lower(): v for k, v in request.headers.items()}
        path = request.url.path
        query = dict(request.query_params)
        self.state.record(
            RecordedRequest(request.method, path, headers, raw_body, _parse_json(raw_body), query)
        )
        route = match_path(path)
        try:
            if route.surface == "logs":
                return handle_logs_api(self.state, route, request.method, headers, query, raw_body)
            if route.surface == "unknown":
                if route.api_root:
                    status, body = envelopes.api_error(7000, "No route for that URI", 404)
                    return JSONResponse(body, status_code=status)
                status, body = envelopes.gateway_error(7000)
                return JSONResponse(body, status_code=status, headers=_identity_headers(headers))
            return await handle_model_route(
                self.state, route, request.method, path, headers, raw_body
            )
        except Exception:
            self.errors.append(traceback.format_exc())
            status, body = envelopes.gateway_error(
                5000, "Internal error in the AI Gateway emulator", 500
            )
            extra = {} if route.api_root else _identity_headers(headers)
            return JSONResponse(body, status_code=status, headers=extra)


def _identity_headers(headers: dict[str, str]) -> dict[str, str]:
    """Log, request and event id for an answer the gateway gave without a model route."""
    log_id = ids.uuid7()
    event_id = headers.get("cf-aig-event-id", "").strip() or log_id
    return {
        "cf-aig-log-id": log_id,
        "cf-aig-request-id": log_id,
        "cf-aig-event-id": event_id,
        "cf-aig-step": "0",
    }


def _parse_json(raw: bytes) -> Any:
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return None
