"""The gateway's log id in LangChain run metadata, where LangSmith and other tracers look for it.

A chat model's run starts before the gateway answers, so the metadata given at invoke time
cannot hold the log id. Once the gateway's headers arrive, :func:`record_gateway_metadata` adds
``cf_aig_log_id`` (and the cache status, event id and request id) to the run's metadata in every
tracer of the run (any ``BaseTracer``, LangSmith's ``LangChainTracer`` included), so it is saved
with the run when the run ends.
"""

from __future__ import annotations

from typing import Any

__all__ = ["gateway_run_metadata", "record_gateway_metadata"]


def gateway_run_metadata(info: Any) -> dict[str, Any]:
    """The run-metadata entries for a :class:`~cf_ai_gateway.GatewayInfo`."""
    fields = (
        ("cf_aig_log_id", "log_id"),
        ("cf_aig_cache_status", "cache_status"),
        ("cf_aig_event_id", "event_id"),
        ("cf_aig_request_id", "request_id"),
    )
    return {
        key: getattr(info, name) for key, name in fields if getattr(info, name, None) is not None
    }


def record_gateway_metadata(run_manager: Any, info: Any) -> None:
    """Add the gateway's ids to the metadata of ``run_manager``'s run in each of its tracers."""
    if run_manager is None or info is None:
        return
    metadata = gateway_run_metadata(info)
    if not metadata:
        return
    run_id = str(run_manager.run_id)
    for handler in getattr(run_manager, "handlers", ()):
        run_map = getattr(handler, "run_map", None)
        run = run_map.get(run_id) if isinstance(run_map, dict) else None
        extra = getattr(run, "extra", None)
        if isinstance(extra, dict):
            extra.setdefault("metadata", {}).update(metadata)
