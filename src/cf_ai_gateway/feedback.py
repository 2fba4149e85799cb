"""Human feedback on a gateway log entry, through the Cloudflare API's logs endpoint.

``PATCH {api_base_url}/accounts/{account}/ai-gateway/gateways/{gateway}/logs/{log_id}`` with a
JSON body of ``feedback`` (-1 negative, 0 not evaluated, 1 positive), ``score`` (0 to 100) and
``metadata`` (string, number or boolean values), authenticated with
``Authorization: Bearer <Cloudflare API token>`` (``cf_api_token`` / ``CF_API_TOKEN``, an
account token with AI Gateway Edit permission; the gateway token is not accepted there). Input is
checked before anything is sent. A log written by a streamed call can take a moment to appear,
so a 404 is retried once after a short delay, within the one deadline of the call (the client's
timeout). The transport's retries (429, 5xx, connection errors) and typed errors apply as for
every other call. The API reference answers ``{"result": {}, "success": true}``; a server that
sends the updated entry as ``result`` is read as well.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from typing import Any

import httpx

from .cfapi import ApiCall, api_headers, read_envelope
from .checks import is_finite_number
from .config import GatewayConfig
from .errors import ConfigurationError, GatewayError
from .transport import Transport

__all__ = ["LOG_NOT_FOUND_DELAY_FACTOR", "FeedbackRequest", "asend_feedback", "send_feedback"]

# The one retry of a 404 waits this many times the transport's retry base delay (0.5 s by
# default, so 0.75 s): a streamed call's log was seen to appear ~0.5 s after the stream ended.
LOG_NOT_FOUND_DELAY_FACTOR = 1.5
FEEDBACK_VALUES = (-1, 0, 1)
MIN_SCORE, MAX_SCORE = 0, 100


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _check_feedback(value: Any) -> int:
    if not _is_number(value) or value not in FEEDBACK_VALUES:
        raise ConfigurationError(
            f"feedback must be -1 (negative), 0 (not evaluated) or 1 (positive); got {value!r}"
        )
    return int(value)


def _check_score(value: Any) -> int | float:
    if not is_finite_number(value) or not MIN_SCORE <= value <= MAX_SCORE:
        raise ConfigurationError(
            f"score must be a number from {MIN_SCORE} to {MAX_SCORE}; got {value!r}"
        )
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _check_metadata(value: Any) -> dict[str, str | int | float | bool]:
    if not isinstance(value, Mapping) or not value:
        raise ConfigurationError(
            f"metadata must be a non-empty dict of str, number or bool values; got {value!r}"
        )
    out: dict[str, str | int | float | bool] = {}
    for key, item in value.items():
        if not isinstance(key, str) or not key:
            raise ConfigurationError(f"metadata keys must be non-empty strings; got {key!r}")
        if item is None or not isinstance(item, (str, int, float, bool)):
            raise ConfigurationError(
                f"metadata[{key!r}] must be a str, int, float or bool, not {type(item).__name__}"
            )
        if _is_number(item) and not is_finite_number(item):
            raise ConfigurationError(f"metadata[{key!r}] must be a finite number")
        out[key] = item
    return out


class FeedbackRequest(ApiCall):
    """A checked feedback PATCH: its URL, JSON body and headers (the token stays out of repr)."""

    __slots__ = ()

    def __init__(
        self,
        config: GatewayConfig,
        log_id: Any,
        *,
        score: Any = None,
        feedback: Any = None,
        metadata: Any = None,
    ) -> None:
        body: dict[str, Any] = {}
        if feedback is not None:
            body["feedback"] = _check_feedback(feedback)
        if score is not None:
            body["score"] = _check_score(score)
        if metadata is not None:
            body["metadata"] = _check_metadata(metadata)
        if not body:
            raise ConfigurationError("feedback() needs at least one of feedback, score or metadata")
        if not isinstance(log_id, str) or not log_id:
            raise ConfigurationError(
                f"log_id must be the non-empty cf-aig-log-id of a request; got {log_id!r}"
            )
        url = config.logs_url(log_id)
        super().__init__("PATCH", url, api_headers(config, "feedback"), body=body)

    def __repr__(self) -> str:
        return f"FeedbackRequest(url={self.url!r}, body={self.body!r})"


def _result(response: httpx.Response) -> dict[str, Any]:
    result, _ = read_envelope(response)
    return result if isinstance(result, dict) else {"result": result}


def _not_found_delay(transport: Transport, delay: float | None) -> float:
    return delay if delay is not None else transport.retry_base_delay * LOG_NOT_FOUND_DELAY_FACTOR


class _Deadline:
    """One deadline (the client's timeout) for the PATCH and its retry after a 404."""

    def __init__(self, transport: Transport, *, asynchronous: bool) -> None:
        seconds = transport.call_seconds(None, asynchronous=asynchronous)
        self.end = None if seconds is None else time.monotonic() + seconds

    def left(self) -> float | None:
        """The timeout of the next request: what remains (None: the client's own)."""
        if self.end is None:
            return None
        return max(self.end - time.monotonic(), 0.001)

    def allows(self, delay: float) -> bool:
        """Whether a retry after ``delay`` seconds still fits in the deadline."""
        return self.end is None or time.monotonic() + delay < self.end


def _retry_404(exc: GatewayError, attempt: int) -> bool:
    return exc.status_code == 404 and attempt == 0


def send_feedback(
    transport: Transport,
    log_id: str,
    *,
    score: float | None = None,
    feedback: int | None = None,
    metadata: Mapping[str, str | int | float | bool] | None = None,
    not_found_retry_delay: float | None = None,
) -> dict[str, Any]:
    """Send the feedback PATCH; return the API's ``result`` (``{}`` as documented, or the
    updated entry when a server sends it)."""
    request = FeedbackRequest(
        transport.config, log_id, score=score, feedback=feedback, metadata=metadata
    )
    client = transport.client
    delay = _not_found_delay(transport, not_found_retry_delay)
    deadline = _Deadline(transport, asynchronous=False)
    for attempt in (0, 1):
        try:
            response = transport.send(lambda: request.build(client), timeout=deadline.left())
        except GatewayError as exc:
            if not _retry_404(exc, attempt) or not deadline.allows(delay):
                raise
            time.sleep(delay)
            continue
        return _result(response)
    raise AssertionError("unreachable")  # pragma: no cover


async def asend_feedback(
    transport: Transport,
    log_id: str,
    *,
    score: float | None = None,
    feedback: int | None = None,
    metadata: Mapping[str, str | int | float | bool] | None = None,
    not_found_retry_delay: float | None = None,
) -> dict[str, Any]:
    """Async twin of :func:`send_feedback`."""
    request = FeedbackRequest(
        transport.config, log_id, score=score, feedback=feedback, metadata=metadata
    )
    client = transport.aclient
    delay = _not_found_delay(transport, not_found_retry_delay)
    deadline = _Deadline(transport, asynchronous=True)
    for attempt in (0, 1):
        try:
            response = await transport.asend(lambda: request.build(client), timeout=deadline.left())
        except GatewayError as exc:
            if not _retry_404(exc, attempt) or not deadline.allows(delay):
                raise
            await asyncio.sleep(delay)
            continue
        return _result(response)
    raise AssertionError("unreachable")  # pragma: no cover
