"""Gateway-side retries: the upstream call, attempted up to ``cf-aig-max-attempts`` times.

The gateway's own retry policy (``retry_max_attempts``, ``retry_delay`` (ms), ``retry_backoff``)
applies to every request; the headers ``cf-aig-max-attempts`` (at most 5), ``cf-aig-retry-delay``
(milliseconds, at most 5000) and ``cf-aig-backoff`` (constant, linear, exponential) override it
per request. An upstream failure (a provider 429 or 5xx, or ``cf-aig-request-timeout`` passing)
is retried while attempts remain; the gateway's own errors are not. The wait between attempts is
spent on the emulator's clock, not in real time, so a test sees five-second backoffs at once; it
is added to the log entry's duration. Each attempt takes the next queued fault, so
``fault(503, times=2)`` fails two attempts and lets the third through.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from . import envelopes
from .exchange import Exchange
from .features import BACKOFFS, MAX_ATTEMPTS
from .scripting import Fault
from .state import EmulatorSettings

MAX_HEADER_RETRY_DELAY_MS = 5000


@dataclass(frozen=True)
class RetryPolicy:
    """How many upstream attempts a request gets, and the wait before each retry."""

    max_attempts: int = 1
    delay_ms: int = 0
    backoff: str = "constant"

    def wait_ms(self, retry: int) -> int:
        """The wait before retry number ``retry`` (1 for the second attempt)."""
        if self.backoff == "linear":
            return self.delay_ms * retry
        if self.backoff == "exponential":
            return int(self.delay_ms * 2 ** (retry - 1))
        return self.delay_ms


def retry_policy(headers: Mapping[str, str], settings: EmulatorSettings) -> RetryPolicy:
    """The gateway's retry defaults with the request's headers applied (clamped to their limits)."""
    attempts = _int(headers.get("cf-aig-max-attempts"))
    delay = _int(headers.get("cf-aig-retry-delay"))
    backoff = headers.get("cf-aig-backoff", "").strip().lower()
    return RetryPolicy(
        max_attempts=max(1, min(MAX_ATTEMPTS, attempts))
        if attempts is not None
        else settings.retry_max_attempts,
        delay_ms=max(0, min(MAX_HEADER_RETRY_DELAY_MS, delay))
        if delay is not None
        else settings.retry_delay,
        backoff=backoff if backoff in BACKOFFS else settings.retry_backoff,
    )


@dataclass
class Failure:
    """An upstream attempt that failed, and the answer the gateway would pass on."""

    status: int
    body: Any
    extra: dict[str, str] = field(default_factory=dict)
    cache_status: str | None = "MISS"
    retryable: bool = False


async def run_attempts(
    ex: Exchange,
    endpoint: str,
    model: str | None,
    policy: RetryPolicy,
    timeout_ms: int | None = None,
) -> tuple[Fault | None, Failure | None]:
    """Attempt the upstream call; returns the fault that shapes the delivery, or the final failure.

    ``timeout_ms`` (a dynamic route node's timeout) replaces ``cf-aig-request-timeout``.
    """
    for attempt in range(policy.max_attempts):
        ex.attempts += 1
        fault = ex.state.scripts.take_fault(endpoint, model)
        if fault is None:
            return None, None
        failure = await fault_failure(ex, fault, timeout_ms)
        if failure is None:
            return fault, None
        if not failure.retryable or attempt + 1 >= policy.max_attempts:
            return fault, failure
        wait_ms = policy.wait_ms(attempt + 1)
        ex.waited_ms += wait_ms
        ex.state.clock.advance(wait_ms / 1000)
    return None, None  # pragma: no cover - the loop always returns


async def fault_failure(
    ex: Exchange, fault: Fault, timeout_ms: int | None = None
) -> Failure | None:
    """Wait the fault's delay (or time out like the gateway); the error it answers, if any."""
    if fault.delay > 0:
        if timeout_ms is None:
            timeout_ms = _int(ex.headers.get("cf-aig-request-timeout"))
        if timeout_ms is not None and fault.delay * 1000 > timeout_ms:
            await asyncio.sleep(timeout_ms / 1000)
            status, envelope = envelopes.gateway_error(envelopes.REQUEST_TIMEOUT_CODE)
            return Failure(status, envelope, cache_status=None, retryable=True)
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
    upstream = fault.code is None
    retryable = upstream and (fault.status == 429 or fault.status >= 500)
    return Failure(fault.status, body, extra, "MISS" if upstream else None, retryable)


def _int(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return int(float(value))
    except (ValueError, OverflowError):
        return None


def _seconds_text(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)
