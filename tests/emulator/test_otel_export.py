"""The emulator's own gateway span: trace-context headers, GenAI attributes, OTLP/HTTP JSON export.

Requests go over plain httpx (no client library involved); an OTLP collector is a small HTTP
server on 127.0.0.1.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from cf_ai_gateway.emulator import Emulator
from cf_ai_gateway.emulator.otel import GatewaySpan

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT_ID = "00f067aa0ba902b7"


def auth(emu: Emulator) -> dict[str, str]:
    env = emu.env()
    if "CF_AIG_TOKEN" in env:
        return {"cf-aig-authorization": f"Bearer {env['CF_AIG_TOKEN']}"}
    return {"authorization": f"Bearer {env['OPENAI_API_KEY']}"}


def post(emu: Emulator, headers: dict[str, str] | None = None, **body: Any) -> httpx.Response:
    payload = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "What is Cloudflare?"}], **body}
    return httpx.post(f"{emu.gateway_url()}/chat/completions", json=payload,
                      headers={**auth(emu), **(headers or {})}, timeout=30)


@pytest.fixture
def collected(make_emulator: Any) -> tuple[Emulator, list[GatewaySpan]]:
    spans: list[GatewaySpan] = []
    return make_emulator(otel_exporter=spans.append), spans


def test_the_gateway_span_joins_the_callers_trace(collected: tuple[Emulator, list[GatewaySpan]]) -> None:
    emu, spans = collected
    response = post(emu, {"cf-aig-otel-trace-id": TRACE_ID, "cf-aig-otel-parent-span-id": PARENT_ID,
                          "cf-aig-metadata": json.dumps({"user": "u-1", "gen_ai.skip": "x"})})
    (span,) = spans
    assert span.trace_id == TRACE_ID and span.parent_span_id == PARENT_ID and len(span.span_id) == 16
    attrs = span.attributes
    assert attrs["cloudflare.ai_gateway.log_id"] == response.headers["cf-aig-log-id"]
    assert attrs["gen_ai.request.model"] == "gpt-4o-mini" and attrs["gen_ai.model.provider"] == "openai"
    usage = response.json()["usage"]
    assert attrs["gen_ai.usage.input_tokens"] == usage["prompt_tokens"]
    assert attrs["gen_ai.usage.output_tokens"] == usage["completion_tokens"]
    assert isinstance(attrs["gen_ai.usage.cost"], float) and attrs["gen_ai.usage.cost"] > 0
    assert "What is Cloudflare?" in str(attrs["gen_ai.prompt_json"])
    assert json.loads(str(attrs["gen_ai.completion_json"]))["object"] == "chat.completion"
    assert attrs["user"] == "u-1" and "gen_ai.skip" not in attrs
    assert span.ok and span.end_time_ns >= span.start_time_ns


def test_the_propagation_headers_are_recorded(collected: tuple[Emulator, list[GatewaySpan]]) -> None:
    emu, _ = collected
    response = post(emu, {"cf-aig-otel-trace-id": TRACE_ID, "cf-aig-otel-parent-span-id": PARENT_ID})
    entry = emu.log(response.headers["cf-aig-log-id"])
    assert entry is not None
    assert entry.request_headers["cf-aig-otel-trace-id"] == TRACE_ID
    assert entry.request_headers["cf-aig-otel-parent-span-id"] == PARENT_ID
    assert emu.requests[-1].header("cf-aig-otel-trace-id") == TRACE_ID


@pytest.mark.parametrize("trace_id", [None, "not-hex", "0" * 32, TRACE_ID[:31]])
def test_without_a_valid_trace_id_the_gateway_starts_a_new_trace(
    trace_id: str | None, collected: tuple[Emulator, list[GatewaySpan]]
) -> None:
    emu, spans = collected
    headers = {"cf-aig-otel-parent-span-id": PARENT_ID}
    if trace_id is not None:
        headers["cf-aig-otel-trace-id"] = trace_id
    post(emu, headers)
    (span,) = spans
    assert span.trace_id != trace_id and len(span.trace_id) == 32 and span.parent_span_id is None


def test_failed_requests_and_streams_export_spans(collected: tuple[Emulator, list[GatewaySpan]]) -> None:
    emu, spans = collected
    emu.fault(500)
    assert post(emu).status_code == 500
    with httpx.stream("POST", f"{emu.gateway_url()}/chat/completions", timeout=30,
                      json={"model": "gpt-4o-mini", "stream": True, "messages": [{"role": "user", "content": "x"}]},
                      headers=auth(emu)) as response:
        response.read()
    assert [s.ok for s in spans] == [False, True]


def test_no_span_without_payload_collection_leaks_bodies(collected: tuple[Emulator, list[GatewaySpan]]) -> None:
    emu, spans = collected
    post(emu, {"cf-aig-collect-log-payload": "false"})
    assert "gen_ai.prompt_json" not in spans[0].attributes and "gen_ai.completion_json" not in spans[0].attributes


class _Collector:
    def __init__(self) -> None:
        self.bodies: list[Any] = []
        bodies = self.bodies

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("content-length", 0))
                bodies.append((self.path, self.headers.get("content-type"), json.loads(self.rfile.read(length))))
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.end_headers()
                self.wfile.write(b"{}")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1/traces"


@pytest.fixture
def collector() -> Iterator[_Collector]:
    server = _Collector()
    server.thread.start()
    yield server
    server.server.shutdown()
    server.server.server_close()


def test_otlp_http_json_export(collector: _Collector, make_emulator: Any) -> None:
    emu = make_emulator(otel_exporter=collector.url)
    response = post(emu, {"cf-aig-otel-trace-id": TRACE_ID, "cf-aig-otel-parent-span-id": PARENT_ID})
    ((path, content_type, body),) = collector.bodies
    assert path == "/v1/traces" and content_type == "application/json"
    (resource,) = body["resourceSpans"]
    (span,) = resource["scopeSpans"][0]["spans"]
    assert span["traceId"] == TRACE_ID and span["parentSpanId"] == PARENT_ID and span["kind"] == 2
    attrs = {a["key"]: a["value"] for a in span["attributes"]}
    assert attrs["cloudflare.ai_gateway.log_id"] == {"stringValue": response.headers["cf-aig-log-id"]}
    assert attrs["gen_ai.usage.input_tokens"]["intValue"].isdigit()
    assert int(span["endTimeUnixNano"]) >= int(span["startTimeUnixNano"])


def test_an_unreachable_collector_does_not_break_the_gateway(make_emulator: Any) -> None:
    emu = make_emulator(otel_exporter="http://127.0.0.1:9/v1/traces")
    assert post(emu).status_code == 200
    assert emu.errors == []
