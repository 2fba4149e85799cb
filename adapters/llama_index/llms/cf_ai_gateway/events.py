"""Gateway info from LlamaIndex's instrumentation events, for agents and query engines.

A ``FunctionAgent`` run or a query engine's ``Response`` does not carry the LLM's
``additional_kwargs``, so the gateway's log id of each LLM call is lost there. Every call of
:class:`~llama_index.llms.cf_ai_gateway.CloudflareAIGatewayLLM` does emit an ``LLMChatEndEvent``
(or ``LLMCompletionEndEvent``) whose response carries ``additional_kwargs["gateway"]``.
:class:`GatewayInfoCollector` is an event handler that keeps those, with the span the call ran
in; :func:`collect_gateway_info` attaches one to the root dispatcher for a block::

    with collect_gateway_info() as calls:
        response = query_engine.query("...")
    calls.log_ids      # the log id of each LLM call the query made, in order
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import Any

from llama_index.core.instrumentation import get_dispatcher  # type: ignore[attr-defined]
from llama_index.core.instrumentation.event_handlers import BaseEventHandler
from llama_index.core.instrumentation.events import BaseEvent
from llama_index.core.instrumentation.events.llm import LLMChatEndEvent, LLMCompletionEndEvent
from pydantic import PrivateAttr

__all__ = ["GatewayInfoCollector", "collect_gateway_info"]


class GatewayInfoCollector(BaseEventHandler):
    """Keeps the gateway info (``log_id``, ``cache_status``, ...) of every LLM call that ends."""

    _calls: list[dict[str, Any]] = PrivateAttr(default_factory=list)
    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    @classmethod
    def class_name(cls) -> str:
        return "GatewayInfoCollector"

    def handle(self, event: BaseEvent, **kwargs: Any) -> None:
        if (
            not isinstance(event, (LLMChatEndEvent, LLMCompletionEndEvent))
            or event.response is None
        ):
            return
        gateway = event.response.additional_kwargs.get("gateway")
        if isinstance(gateway, dict) and gateway:
            with self._lock:
                self._calls.append({**gateway, "span_id": event.span_id})

    @property
    def calls(self) -> list[dict[str, Any]]:
        """The gateway info of each call, oldest first, with the instrumentation ``span_id``."""
        with self._lock:
            return [dict(call) for call in self._calls]

    @property
    def log_ids(self) -> list[str]:
        """The gateway log id of each call, oldest first."""
        return [str(call["log_id"]) for call in self.calls if call.get("log_id")]

    def clear(self) -> None:
        with self._lock:
            self._calls.clear()


@contextlib.contextmanager
def collect_gateway_info() -> Iterator[GatewayInfoCollector]:
    """A :class:`GatewayInfoCollector` on the root dispatcher for the ``with`` block."""
    dispatcher = get_dispatcher()
    collector = GatewayInfoCollector()
    dispatcher.add_event_handler(collector)
    try:
        yield collector
    finally:
        with contextlib.suppress(ValueError):
            dispatcher.event_handlers.remove(collector)
