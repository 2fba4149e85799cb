"""OpenTelemetry tracing: spans of the core, both adapters and the OpenAI client, joined to the gateway's.

The OpenTelemetry SDK's in-memory exporter collects the application's spans, the client's spans
and (through ``Emulator(otel_exporter=...)``) the emulated gateway's own span, so one test can
show one trace: application span, client span, gateway span.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF
from opentelemetry.trace import SpanKind, StatusCode

from cf_ai_gateway import ConfigurationError, Gateway, GatewayRateLimitError, StreamError, otel
from cf_ai_gateway.emulator import Emulator
from cf_ai_gateway.wire.types import ChatRequest, Message

from .testserver import Reply, TestServer

REQUEST = ChatRequest(model="gpt-4o-mini", messages=[Message("user", "What is Cloudflare?")], max_tokens=50)
EXPORTER = InMemorySpanExporter()
PROVIDER = TracerProvider()
PROVIDER.add_span_processor(SimpleSpanProcessor(EXPORTER))
APP = PROVIDER.get_tracer("application")


@pytest.fixture(scope="module", autouse=True)
def _global_provider() -> None:
    # Gateway(tracing=True) uses the global provider; set it once for the process.
    if not isinstance(trace.get_tracer_provider(), TracerProvider):
        trace.set_tracer_provider(PROVIDER)


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    EXPORTER.clear()
    yield EXPORTER
    otel.uninstrument()
    EXPORTER.clear()


@pytest.fixture
def instrumented(spans: InMemorySpanExporter) -> InMemorySpanExporter:
    otel.instrument(tracer_provider=PROVIDER)
    return spans


def gateway(emu: Emulator, **kwargs: Any) -> Gateway:
    env = emu.env()
    kwargs.setdefault("max_retries", 0)
    return Gateway(account_id=env["CF_ACCOUNT_ID"], base_url=env["CF_AIG_BASE_URL"],
                   api_key=env.get("OPENAI_API_KEY"), cf_aig_token=env.get("CF_AIG_TOKEN"), **kwargs)


def client_spans(exporter: InMemorySpanExporter) -> list[ReadableSpan]:
    return [s for s in exporter.get_finished_spans() if s.kind is SpanKind.CLIENT]


def only_client_span(exporter: InMemorySpanExporter) -> ReadableSpan:
    found = client_spans(exporter)
    assert len(found) == 1, [s.name for s in found]
    return found[0]


def hex_ids(span: ReadableSpan) -> tuple[str, str]:
    return format(span.context.trace_id, "032x"), format(span.context.span_id, "016x")


def test_a_chat_call_opens_a_client_span_with_genai_and_gateway_attributes(
    instrumented: InMemorySpanExporter, emulator: Emulator
) -> None:
    with gateway(emulator, gateway_options={"event_id": "ev-otel"}) as gw:
        result = gw.chat(REQUEST)
    span = only_client_span(instrumented)
    assert span.name == "chat gpt-4o-mini" and span.kind is SpanKind.CLIENT
    attrs = dict(span.attributes or {})
    assert attrs["gen_ai.operation.name"] == "chat"
    assert attrs["gen_ai.provider.name"] == "openai"
    assert attrs["gen_ai.request.model"] == "gpt-4o-mini"
    assert attrs["gen_ai.request.max_tokens"] == 50
    assert attrs["gen_ai.response.model"] == result.model
    assert result.usage is not None
    assert attrs["gen_ai.usage.input_tokens"] == result.usage.input_tokens
    assert attrs["gen_ai.usage.output_tokens"] == result.usage.output_tokens
    assert attrs["gen_ai.response.finish_reasons"] == ("stop",)
    assert attrs["cloudflare.ai_gateway.log_id"] == result.info.log_id
    assert attrs["cloudflare.ai_gateway.cache_status"] == "MISS"
    assert attrs["cloudflare.ai_gateway.step"] == 0
    assert attrs["cloudflare.ai_gateway.event_id"] == "ev-otel"
    assert attrs["cloudflare.ai_gateway.gateway_id"] == "default"
    assert "gen_ai.input.messages" not in attrs and "gen_ai.output.messages" not in attrs
    assert span.status.status_code is not StatusCode.ERROR


def test_the_span_context_reaches_the_gateway_and_nests_under_the_application(
    instrumented: InMemorySpanExporter, emulator: Emulator
) -> None:
    with APP.start_as_current_span("handle request") as app, gateway(emulator) as gw:
        result = gw.chat(REQUEST, api="responses")
    span = only_client_span(instrumented)
    assert span.parent is not None and span.parent.span_id == app.get_span_context().span_id
    trace_id, span_id = hex_ids(span)
    sent = emulator.requests[-1].headers
    assert sent["cf-aig-otel-trace-id"] == trace_id and re.fullmatch(r"[0-9a-f]{32}", trace_id)
    assert sent["cf-aig-otel-parent-span-id"] == span_id and re.fullmatch(r"[0-9a-f]{16}", span_id)
    entry = emulator.log(str(result.info.log_id))
    assert entry is not None and entry.request_headers["cf-aig-otel-trace-id"] == trace_id


def test_nothing_is_sent_when_no_span_records(spans: InMemorySpanExporter, emulator: Emulator) -> None:
    with gateway(emulator) as gw:
        gw.chat(REQUEST)
        otel.instrument(tracer_provider=TracerProvider(sampler=ALWAYS_OFF))
        gw.chat(REQUEST)
        with gw.chat_stream(REQUEST) as stream:
            list(stream)
    assert all("cf-aig-otel-trace-id" not in r.headers for r in emulator.requests)
    assert all("cf-aig-otel-parent-span-id" not in r.headers for r in emulator.requests)
    assert spans.get_finished_spans() == ()


def test_a_failed_call_marks_the_span_as_an_error(instrumented: InMemorySpanExporter, emulator: Emulator) -> None:
    emulator.fault(429, code=2003)
    with gateway(emulator) as gw, pytest.raises(GatewayRateLimitError) as err:
        gw.chat(REQUEST)
    span = only_client_span(instrumented)
    assert span.status.status_code is StatusCode.ERROR
    attrs = dict(span.attributes or {})
    assert attrs["error.type"] == "GatewayRateLimitError"
    assert attrs["cloudflare.ai_gateway.log_id"] == err.value.log_id


@pytest.mark.parametrize("api", ["chat", "responses"])
def test_a_stream_span_ends_on_the_terminal_event(api: str, instrumented: InMemorySpanExporter,
                                                  emulator: Emulator) -> None:
    with gateway(emulator) as gw, gw.chat_stream(REQUEST, api=api) as stream:  # type: ignore[arg-type]
        first = next(iter(stream))
        assert first is not None and client_spans(instrumented) == []
        list(stream)
        result = stream.result()
    span = only_client_span(instrumented)
    attrs = dict(span.attributes or {})
    assert attrs["gen_ai.response.time_to_first_chunk"] >= 0
    assert [e.name for e in span.events] == ["gen_ai.first_chunk"]
    assert attrs["cloudflare.ai_gateway.log_id"] == stream.info.log_id
    assert result.usage is not None and attrs["gen_ai.usage.output_tokens"] == result.usage.output_tokens
    assert attrs["gen_ai.response.finish_reasons"] == ("stop",)
    assert "cloudflare.ai_gateway.stream_closed_early" not in attrs


def test_a_stream_that_breaks_off_ends_its_span_with_the_error(instrumented: InMemorySpanExporter,
                                                               emulator: Emulator) -> None:
    emulator.fault(cut_after=2)
    with gateway(emulator) as gw, pytest.raises(StreamError), gw.chat_stream(REQUEST) as stream:
        list(stream)
    span = only_client_span(instrumented)
    assert span.status.status_code is StatusCode.ERROR
    assert dict(span.attributes or {})["error.type"] == "StreamError"


def test_a_stream_closed_early_still_ends_its_span(instrumented: InMemorySpanExporter, emulator: Emulator) -> None:
    with gateway(emulator) as gw:
        stream = gw.stream("chat/completions", {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "x"}]})
        stream.close()
    span = only_client_span(instrumented)
    assert dict(span.attributes or {})["cloudflare.ai_gateway.stream_closed_early"] is True


async def test_async_calls_and_streams(instrumented: InMemorySpanExporter, emulator: Emulator) -> None:
    gw = gateway(emulator)
    with APP.start_as_current_span("async app") as app:
        result = await gw.achat(REQUEST)
        async with gw.achat_stream(REQUEST, api="responses") as stream:
            async for _ in stream:
                pass
    await gw.aclose()
    found = client_spans(instrumented)
    assert len(found) == 2
    assert all(s.parent is not None and s.parent.span_id == app.get_span_context().span_id for s in found)
    assert dict(found[0].attributes or {})["cloudflare.ai_gateway.log_id"] == result.info.log_id
    assert "gen_ai.response.time_to_first_chunk" in dict(found[1].attributes or {})
    assert emulator.requests[-1].headers["cf-aig-otel-parent-span-id"] == hex_ids(found[1])[1]


def test_content_is_recorded_only_when_opted_in(spans: InMemorySpanExporter, emulator: Emulator) -> None:
    otel.instrument(tracer_provider=PROVIDER, capture_content=True)
    with gateway(emulator) as gw:
        result = gw.chat(REQUEST)
    attrs = dict(only_client_span(spans).attributes or {})
    assert "What is Cloudflare?" in str(attrs["gen_ai.input.messages"])
    assert result.text[:20] in str(attrs["gen_ai.output.messages"])


def test_tracing_true_traces_one_client_only(spans: InMemorySpanExporter, emulator: Emulator) -> None:
    with gateway(emulator, tracing=True) as traced, gateway(emulator) as plain:
        traced.chat(REQUEST)
        plain.chat(REQUEST)
    assert len(client_spans(spans)) == 1
    assert "cf-aig-otel-trace-id" in emulator.requests[0].headers
    assert "cf-aig-otel-trace-id" not in emulator.requests[1].headers
    with pytest.raises(ConfigurationError, match="tracing"):
        gateway(emulator, tracing="yes")


def test_uninstrument_stops_tracing(instrumented: InMemorySpanExporter, emulator: Emulator) -> None:
    otel.uninstrument()
    assert not otel.is_instrumented()
    with gateway(emulator) as gw:
        gw.chat(REQUEST)
    assert client_spans(instrumented) == []


def test_openai_client_calls_are_traced(instrumented: InMemorySpanExporter, emulator: Emulator) -> None:
    with gateway(emulator) as gw, APP.start_as_current_span("app") as app:
        client = gw.openai_client()
        completion = client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
        chunks = list(client.chat.completions.create(model="gpt-4o-mini", stream=True,
                                                     messages=[{"role": "user", "content": "hi"}],
                                                     stream_options={"include_usage": True}))
        assert chunks
    found = client_spans(instrumented)
    assert [s.name for s in found] == ["chat gpt-4o-mini", "chat gpt-4o-mini"]
    assert all(s.parent is not None and s.parent.span_id == app.get_span_context().span_id for s in found)
    plain, streamed = (dict(s.attributes or {}) for s in found)
    assert plain["gen_ai.response.id"] == completion.id
    assert completion.usage is not None and plain["gen_ai.usage.output_tokens"] == completion.usage.completion_tokens
    assert streamed["gen_ai.response.finish_reasons"] == ("stop",) and "gen_ai.response.time_to_first_chunk" in streamed
    assert "cloudflare.ai_gateway.stream_closed_early" not in streamed
    for request, span in zip([r for r in emulator.requests if r.method == "POST"], found, strict=True):
        assert request.headers["cf-aig-otel-parent-span-id"] == hex_ids(span)[1]


def test_openai_client_errors_are_recorded(instrumented: InMemorySpanExporter, emulator: Emulator) -> None:
    import openai

    emulator.fault(429, code=2003)
    with gateway(emulator) as gw:
        client = gw.openai_client(max_retries=0)
        with pytest.raises(openai.RateLimitError):
            client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
    span = only_client_span(instrumented)
    assert span.status.status_code is StatusCode.ERROR
    assert dict(span.attributes or {})["error.type"] == "GatewayRateLimitError"


_CHUNK = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, "model": "gpt-4o-mini",
          "choices": [{"index": 0, "delta": {"content": "a"}, "finish_reason": None}]}
_BAD_STREAM = [b'data: ' + json.dumps(_CHUNK).encode() + b'\n\n', b'data: {"x": "\xff"}\n\n']


@pytest.mark.parametrize("one_read", [True, False], ids=["one read", "two reads"])
def test_an_openai_client_stream_with_bad_bytes_ends_its_span_with_the_error(
    instrumented: InMemorySpanExporter, make_gateway: Any, server: TestServer, one_read: bool
) -> None:
    """The span of a stream that fails on bad bytes records the events ahead of them, however
    the reads cut the bytes, and the error the caller got."""
    server.queue(Reply(chunks=[b"".join(_BAD_STREAM)] if one_read else _BAD_STREAM))
    client = make_gateway(max_retries=0).openai_client(max_retries=0)
    got = []
    with pytest.raises(StreamError):
        for chunk in client.chat.completions.create(model="m", messages=[{"role": "user", "content": "hi"}],
                                                    stream=True):
            got.append(chunk)
    assert len(got) == 1
    span = only_client_span(instrumented)
    attrs = dict(span.attributes or {})
    assert [e.name for e in span.events] == ["gen_ai.first_chunk"]
    assert span.status.status_code is StatusCode.ERROR and attrs["error.type"] == "StreamError"


def test_bytes_after_the_end_of_an_openai_client_stream_mark_no_error(
    instrumented: InMemorySpanExporter, make_gateway: Any, server: TestServer
) -> None:
    done = b'data: ' + json.dumps(_CHUNK).encode() + b'\n\ndata: [DONE]\n\n'
    server.queue(Reply(chunks=[done + b"\xff"]))
    client = make_gateway(max_retries=0).openai_client(max_retries=0)
    got = list(client.chat.completions.create(model="m", messages=[{"role": "user", "content": "hi"}],
                                              stream=True))
    assert len(got) == 1
    span = only_client_span(instrumented)
    assert span.status.status_code is not StatusCode.ERROR


def test_the_gateway_span_nests_under_the_client_span(instrumented: InMemorySpanExporter,
                                                      make_emulator: Any) -> None:
    emu = make_emulator(otel_exporter=EXPORTER)
    with APP.start_as_current_span("agent step") as app, gateway(emu) as gw:
        result = gw.chat(REQUEST)
    finished = {s.kind: s for s in instrumented.get_finished_spans()}
    client, server, root = finished[SpanKind.CLIENT], finished[SpanKind.SERVER], finished[SpanKind.INTERNAL]
    assert root.context.span_id == app.get_span_context().span_id
    assert client.parent is not None and client.parent.span_id == root.context.span_id
    assert server.parent is not None and server.parent.span_id == client.context.span_id
    assert server.context.trace_id == client.context.trace_id == root.context.trace_id
    attrs = dict(server.attributes or {})
    assert attrs["cloudflare.ai_gateway.log_id"] == result.info.log_id
    assert attrs["gen_ai.request.model"] == "gpt-4o-mini" and attrs["gen_ai.model.provider"] == "openai"
    assert result.usage is not None and attrs["gen_ai.usage.output_tokens"] == result.usage.output_tokens


def test_langchain_calls_are_traced(instrumented: InMemorySpanExporter, emulator: Emulator) -> None:
    from langchain_cf_ai_gateway import ChatCloudflareAIGateway

    env = emulator.env()
    model = ChatCloudflareAIGateway(model="gpt-4o-mini", account_id=env["CF_ACCOUNT_ID"],
                                    base_url=env["CF_AIG_BASE_URL"], api_key=env.get("OPENAI_API_KEY"), cf_aig_token=env.get("CF_AIG_TOKEN"))
    with APP.start_as_current_span("chain") as app:
        message = model.invoke("What is Cloudflare?")
        streamed = list(model.stream("What is Cloudflare?"))
    assert streamed
    found = client_spans(instrumented)
    assert len(found) == 2 and all(s.parent and s.parent.span_id == app.get_span_context().span_id for s in found)
    assert dict(found[0].attributes or {})["cloudflare.ai_gateway.log_id"] == message.response_metadata["gateway"]["log_id"]


def test_llamaindex_calls_are_traced(instrumented: InMemorySpanExporter, emulator: Emulator) -> None:
    from llama_index.core.llms import ChatMessage
    from llama_index.llms.cf_ai_gateway import CloudflareAIGatewayLLM

    env = emulator.env()
    llm = CloudflareAIGatewayLLM(model="gpt-4o-mini", account_id=env["CF_ACCOUNT_ID"],
                                 base_url=env["CF_AIG_BASE_URL"], api_key=env.get("OPENAI_API_KEY"), cf_aig_token=env.get("CF_AIG_TOKEN"))
    with APP.start_as_current_span("query"):
        llm.chat([ChatMessage(role="user", content="What is Cloudflare?")])
        list(llm.stream_chat([ChatMessage(role="user", content="What is Cloudflare?")]))
    found = client_spans(instrumented)
    assert len(found) == 2 and all(dict(s.attributes or {})["gen_ai.request.model"] == "gpt-4o-mini" for s in found)


def test_adapters_trace_one_model_with_tracing_true(spans: InMemorySpanExporter, emulator: Emulator) -> None:
    from llama_index.core.llms import ChatMessage
    from llama_index.llms.cf_ai_gateway import CloudflareAIGatewayLLM

    from langchain_cf_ai_gateway import ChatCloudflareAIGateway

    env = emulator.env()
    where = {"account_id": env["CF_ACCOUNT_ID"], "base_url": env["CF_AIG_BASE_URL"],
             "api_key": env.get("OPENAI_API_KEY"), "cf_aig_token": env.get("CF_AIG_TOKEN")}
    ChatCloudflareAIGateway(model="gpt-4o-mini", tracing=True, **where).invoke("hi")
    ChatCloudflareAIGateway(model="gpt-4o-mini", **where).invoke("hi")
    CloudflareAIGatewayLLM(model="gpt-4o-mini", tracing=True, **where).chat([ChatMessage(role="user", content="hi")])
    assert len(client_spans(spans)) == 2


def test_spans_never_hold_credentials(instrumented: InMemorySpanExporter, make_emulator: Any) -> None:
    import openai

    wrong = "sk-wrong-secret-key-0123456789abcdef"
    emu = make_emulator(token=None, api_key="sk-the-right-key-0123456789")
    env = emu.env()
    with Gateway(account_id=env["CF_ACCOUNT_ID"], base_url=env["CF_AIG_BASE_URL"], api_key=wrong,
                 max_retries=0) as gw:
        with pytest.raises(Exception):  # noqa: B017
            gw.chat(REQUEST)
        with pytest.raises(openai.AuthenticationError):
            gw.openai_client(max_retries=0).chat.completions.create(
                model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
    found = client_spans(instrumented)
    assert len(found) == 2 and all(s.status.status_code is StatusCode.ERROR for s in found)
    for span in found:
        text = str(dict(span.attributes or {})) + str(span.status.description) + str(span.events)
        assert wrong not in text and wrong[3:] not in text


@pytest.mark.parametrize(
    ("field", "value"),
    [("otel_trace_id", "XYZ"), ("otel_trace_id", "0" * 32), ("otel_trace_id", "A" * 32),
     ("otel_parent_span_id", "abc"), ("otel_parent_span_id", "g" * 16)],
)
def test_trace_context_options_are_checked(field: str, value: str) -> None:
    from cf_ai_gateway import GatewayOptions

    with pytest.raises(ConfigurationError, match=field):
        GatewayOptions(**{field: value})
    headers = GatewayOptions(otel_trace_id="4bf92f3577b34da6a3ce929d0e0e4736",
                             otel_parent_span_id="00f067aa0ba902b7").to_headers()
    assert headers == {"cf-aig-otel-trace-id": "4bf92f3577b34da6a3ce929d0e0e4736",
                       "cf-aig-otel-parent-span-id": "00f067aa0ba902b7"}
