"""Turn a model answer or a queued reply into the HTTP answer, applying any stream fault.

Non-streamed answers are JSON bodies; streamed ones are SSE in the endpoint's real shape. A fault
can pause between events, cut the stream after N events, or replace the rest with garbage; a cut
or garbled answer is logged as the failure the client will see. Responses replies are remembered
(unless ``store: false``) so that ``previous_response_id`` can continue the conversation.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from starlette.responses import Response

from . import envelopes
from .conversation import CallRecord, ModelRequest, Turn
from .exchange import JSON_TYPE, Exchange, Outcome, json_bytes
from .model import ModelOutput
from .render_chat import chat_body, chat_stream, encode_data
from .render_responses import ResponseDraft, encode_event, responses_stream
from .scripting import Fault, Reply
from .streaming import DeliveryResponse, single_body

SSE_TYPE = "text/event-stream; charset=utf-8"


def _faulty(fault: Fault | None) -> bool:
    return fault is not None and (
        fault.garbage or fault.cut_after is not None or fault.event_delay > 0
    )


def json_delivery(
    ex: Exchange,
    body: dict[str, Any],
    fault: Fault | None,
    outcome: Outcome,
    extra: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    """A JSON answer, cut or garbled when the fault says so."""
    if not _faulty(fault):
        return ex.answer(status, body, cache_status="MISS", outcome=outcome, extra=extra)
    assert fault is not None
    ex.write_log(
        Outcome(
            502 if fault.garbage or fault.cut_after is not None else status,
            None,
            outcome.model,
            outcome.tokens_in,
            outcome.tokens_out,
        )
    )
    return DeliveryResponse(
        single_body(json_bytes(body)),
        status=status,
        media_type=JSON_TYPE,
        headers={**ex.identity_headers("MISS"), **(extra or {})},
        piece_delay=fault.event_delay,
        cut_after=fault.cut_after,
        abort=fault.abort,
        garbage=fault.garbage,
    )


def _sse_delivery(
    ex: Exchange,
    events: Iterator[bytes],
    fault: Fault | None,
    outcome: Outcome,
    status: int = 200,
    extra: dict[str, str] | None = None,
) -> Response:
    """A streamed answer; its log entry is completed when the stream ends."""
    sent: list[bytes] = []
    entry = ex.write_log(outcome)

    def tee() -> Iterator[bytes]:
        for event in events:
            sent.append(event)
            yield event

    def finish(how: str) -> None:
        if entry is None:
            return
        entry.duration_ms = ex.elapsed_ms()
        if entry.payload_collected:
            entry.response_body = b"".join(sent).decode("utf-8", "replace")
        if how != "complete":
            entry.success = False

    return DeliveryResponse(
        tee(),
        status=status,
        media_type=SSE_TYPE,
        headers={**ex.identity_headers("MISS"), **(extra or {})},
        piece_delay=fault.event_delay if fault else 0.0,
        cut_after=fault.cut_after if fault else None,
        abort=fault.abort if fault else True,
        garbage=fault.garbage if fault else False,
        on_finish=finish,
    )


def deliver_reply(ex: Exchange, reply: Reply, fault: Fault | None) -> Response:
    """A queued exact reply: a JSON body, raw SSE, or a gateway error envelope."""
    extra = dict(reply.headers)
    if reply.error is not None:
        spec = reply.error if isinstance(reply.error, dict) else {"code": reply.error}
        message = spec.get("message")
        status, body = envelopes.gateway_error(
            int(spec["code"]),
            str(message) if message is not None else None,
            spec.get("status") or reply.status,
        )
        return ex.answer(status, body, extra=extra)
    if reply.sse is not None:
        events = (
            [_sse_piece(item) for item in reply.sse]
            if isinstance(reply.sse, list)
            else [reply.sse.encode()]
        )
        outcome = Outcome(reply.status or 200, None, ex.model, stream=True)
        return _sse_delivery(
            ex, iter(events), fault, outcome, status=reply.status or 200, extra=extra
        )
    status = reply.status or 200
    usage = reply.json.get("usage") if isinstance(reply.json, dict) else None
    tokens_in, tokens_out = _usage_tokens(usage)
    outcome = Outcome(
        status, reply.json, ex.model, tokens_in, tokens_out, cache_read_tokens=_cached_tokens(usage)
    )
    if isinstance(reply.json, dict):
        return json_delivery(ex, reply.json, fault, outcome, extra=extra, status=status)
    return ex.answer(status, reply.json, cache_status="MISS", outcome=outcome, extra=extra)


def _sse_piece(item: Any) -> bytes:
    if isinstance(item, bytes):
        return item
    if isinstance(item, dict):
        return (
            encode_event(item)
            if isinstance(item.get("type"), str) and "." in item["type"]
            else encode_data(item)
        )
    return encode_data(str(item))


def _usage_tokens(usage: Any) -> tuple[int, int]:
    if not isinstance(usage, dict):
        return 0, 0
    tokens_in = usage.get("prompt_tokens", usage.get("input_tokens", 0))
    tokens_out = usage.get("completion_tokens", usage.get("output_tokens", 0))
    return (
        tokens_in if isinstance(tokens_in, int) else 0,
        tokens_out if isinstance(tokens_out, int) else 0,
    )


def _cached_tokens(usage: Any) -> int:
    details = (
        usage.get("prompt_tokens_details", usage.get("input_tokens_details"))
        if isinstance(usage, dict)
        else None
    )
    cached = details.get("cached_tokens") if isinstance(details, dict) else None
    return cached if isinstance(cached, int) and not isinstance(cached, bool) and cached >= 0 else 0


def deliver_model_output(
    ex: Exchange, request: ModelRequest, output: ModelOutput, fault: Fault | None
) -> tuple[Response, dict[str, Any] | None]:
    """The model's answer for the request's endpoint; returns the answer and the JSON body (if any)."""
    outcome = Outcome(
        200,
        None,
        request.model,
        output.prompt_tokens,
        output.completion_tokens,
        stream=request.stream,
        cache_read_tokens=output.cached_tokens,
    )
    if request.endpoint == "chat/completions":
        if request.stream:
            return _sse_delivery(ex, chat_stream(request, output), fault, outcome), None
        body = chat_body(request, output)
        outcome.body = body
        return json_delivery(ex, body, fault, outcome), body
    draft = ResponseDraft(request, output)
    if request.store:
        ex.state.store_response(draft.id, [*request.turns, _assistant_turn(output)])
    if request.stream:
        return _sse_delivery(ex, responses_stream(draft), fault, outcome), None
    body = draft.body()
    outcome.body = body
    return json_delivery(ex, body, fault, outcome), body


def _assistant_turn(output: ModelOutput) -> Turn:
    calls = [CallRecord(c.id, c.name, c.arguments) for c in output.tool_calls]
    return Turn("assistant", output.text or "", tool_calls=calls)
