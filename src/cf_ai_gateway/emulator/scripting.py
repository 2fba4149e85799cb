"""Queued replies and injected faults: how tests make the emulator answer exactly what they need.

A :class:`Reply` replaces the model's answer for the next matching requests: a JSON body with a
status and headers, raw SSE text, a gateway error envelope, or plain text / tool calls that the
emulator renders in the endpoint's real shape (streamed or not). A :class:`Fault` disturbs the
delivery: an error status with an envelope (optionally with ``Retry-After``), a delay before the
first byte, a pause between stream events, a stream cut after N events, or garbage bytes. Both
are consumed in order, once per request, and both can be limited to one endpoint.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any, TypeVar

GARBAGE_BYTES = b'\x00\xff<html>upstream garbage {"unterminated'


@dataclass
class Reply:
    """One queued reply. Exactly one of ``json``, ``sse``, ``error``, ``text``/``tool_calls`` is set.

    - ``json``: the reply body, sent with ``status`` and ``headers`` as is.
    - ``sse``: raw SSE text (sent byte for byte) or a list of events (dicts become ``data:``
      lines, strings are sent as ``data: <string>``); sent with status 200 unless ``status``.
    - ``error``: a gateway error code (e.g. ``2009``) answered with the gateway's real envelope,
      or a dict ``{"code": ..., "message": ..., "status": ...}``.
    - ``text`` / ``tool_calls``: the model says this (tool calls as ``{"name", "arguments"}``
      dicts); the emulator renders it for the endpoint, streamed or not, with usage.
    """

    json: Any = None
    sse: str | list[Any] | None = None
    error: int | dict[str, Any] | None = None
    text: str | None = None
    tool_calls: list[dict[str, Any]] | None = None
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    endpoint: str | None = None
    times: int | None = 1

    @property
    def renders_model_output(self) -> bool:
        return self.json is None and self.sse is None and self.error is None


@dataclass
class Fault:
    """One injected fault; its fields combine (a delay and then a cut stream, say).

    - ``status`` (+ ``code``, ``message``, ``body``): answer this error instead of the model.
      With ``code`` the body is the gateway's envelope for that code; without, an OpenAI-shaped
      provider error for the status. ``body`` replaces either.
    - ``retry_after``: add a ``Retry-After`` header (seconds) to that error.
    - ``delay``: seconds to wait before the first byte. If the request sent a smaller
      ``cf-aig-request-timeout``, the gateway's timeout error (504) is answered instead.
    - ``event_delay``: seconds to wait between stream events.
    - ``cut_after``: close a stream after this many events, before its terminal event.
      ``abort=True`` drops the connection mid-body; ``False`` ends the body cleanly.
    - ``garbage``: answer bytes that are neither JSON nor SSE (after ``cut_after`` events on a
      stream, when both are set).
    - ``model``: only upstream calls for this model (``"gpt-4o-mini"`` or ``"openai/gpt-4o-mini"``)
      take the fault, so a dynamic route's primary model can fail while its fallback answers.

    Faults are taken once per upstream attempt: with gateway retries (``cf-aig-max-attempts``), a
    fault with ``times=2`` fails the first two attempts and the third reaches the model.
    """

    status: int | None = None
    code: int | None = None
    message: str | None = None
    body: Any = None
    retry_after: float | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    event_delay: float = 0.0
    cut_after: int | None = None
    abort: bool = True
    garbage: bool = False
    endpoint: str | None = None
    times: int | None = 1
    model: str | None = None


_Item = TypeVar("_Item", Reply, Fault)


class ScriptQueue:
    """FIFO queues of replies and faults, consumed per request (thread-safe)."""

    def __init__(self) -> None:
        self._replies: list[Reply] = []
        self._faults: list[Fault] = []
        self._lock = threading.Lock()

    def add_reply(self, reply: Reply) -> None:
        with self._lock:
            self._replies.append(reply)

    def add_fault(self, fault: Fault) -> None:
        with self._lock:
            self._faults.append(fault)

    def take_reply(self, endpoint: str) -> Reply | None:
        with self._lock:
            return _take(self._replies, endpoint)

    def take_fault(self, endpoint: str, model: str | None = None) -> Fault | None:
        """The next fault for one upstream attempt at ``endpoint`` with ``model``."""
        with self._lock:
            return _take(self._faults, endpoint, model)

    def pending(self) -> tuple[int, int]:
        """How many replies and faults are still queued."""
        with self._lock:
            return len(self._replies), len(self._faults)

    def clear(self) -> None:
        with self._lock:
            self._replies.clear()
            self._faults.clear()


def _take(items: list[_Item], endpoint: str, model: str | None = None) -> _Item | None:
    for index, item in enumerate(items):
        if item.endpoint is not None and item.endpoint.strip("/") != endpoint:
            continue
        wanted = getattr(item, "model", None)
        if wanted is not None and not _same_model(wanted, model):
            continue
        if item.times is not None:
            item.times -= 1
            if item.times <= 0:
                del items[index]
        return item
    return None


def _same_model(wanted: str, model: str | None) -> bool:
    """Whether a fault for ``wanted`` applies to ``model`` (``provider/`` prefixes optional)."""
    if model is None:
        return False
    return wanted == model or model.split("/", 1)[-1] == wanted or wanted.split("/", 1)[-1] == model
