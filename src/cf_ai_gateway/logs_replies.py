"""Reading the logs API's replies: one entry, a delete, a feedback PATCH, a ``find`` page.

Each reader turns a reply (already through :func:`~cf_ai_gateway.cfapi.read_envelope`, which
raises the typed error of an error envelope) into what :class:`~cf_ai_gateway.logs.Logs` returns,
and a reply that cannot be that into a :class:`~cf_ai_gateway.StreamError`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from .cfapi import read_envelope
from .errors import StreamError
from .logs_query import GatewayLog, LogPage, Scalar, parse_log

__all__ = ["entry_of_event", "patched_entry", "read_deleted", "read_entry"]


def entry_of_event(page: LogPage, event_id: str | None) -> GatewayLog | None:
    """The first entry of ``page`` that may belong to ``event_id``: an entry naming another
    event (a server that ignored the filter) is not the one looked for."""
    for entry in page.entries:
        if entry.event_id is None or entry.event_id == event_id:
            return entry
    return None


def patched_entry(
    raw: dict[str, Any],
    log_id: str,
    score: float | None,
    feedback: int | None,
    metadata: Mapping[str, Scalar] | None,
) -> GatewayLog:
    """The entry a feedback PATCH answered with; the API documents ``"result": {}``, and then
    the entry holds the log id and the values just recorded (other fields are None)."""
    if raw.get("id") is not None:
        return parse_log(raw)
    return GatewayLog(
        id=log_id,
        feedback=feedback,
        score=None if score is None else float(score),
        metadata=dict(metadata or {}),
        raw=raw,
    )


def read_entry(response: httpx.Response) -> GatewayLog:
    """The one entry of a ``GET .../logs/{id}`` reply."""
    result, _ = read_envelope(response)
    return parse_log(result, response.status_code)


def read_deleted(response: httpx.Response) -> bool:
    """True for a delete the API reports done; a StreamError when it says it failed (as
    ``{"success": false}`` or a bare ``false`` result)."""
    result, _ = read_envelope(response)
    success = result.get("success") if isinstance(result, dict) else result
    if success is False:
        raise StreamError(
            "the logs API reported that the delete failed",
            status_code=response.status_code,
            body=result,
        )
    return True
