"""Benchmark: ``ChatCloudflareAIGateway`` against ``langchain_openai.ChatOpenAI``, one run.

Both models talk to the same loopback server, which runs in its own process and answers every
request with the same pre-rendered bytes (a JSON reply, or a 200-delta SSE stream in the real
OpenAI shape, ``cf-aig-*`` headers included), so the server's cost is identical for both and
what is measured is the client side: request building, HTTP, parsing and LangChain objects.

Measured, on both endpoints (``chat/completions`` and ``responses``):

- ``invoke``: one short reply per call;
- ``stream``: a 200-chunk reply, ``stream_usage`` on for both models;
- ``import``: ``import langchain_cf_ai_gateway`` vs ``import langchain_openai``, each in a
  fresh interpreter.

Run ``python benchmarks/bench_langchain.py`` (needs the ``bench`` extra). It prints the median
time per call and the ratio ours / ChatOpenAI (lower is better).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

ACCOUNT = "0123456789abcdef0123456789abcdef"
GATEWAY = "bench"
MODEL = "gpt-4o-mini"
STREAM_CHUNKS = 200
HEADERS = {
    "cf-aig-log-id": "01JBENCHLOGID0000000000000",
    "cf-aig-cache-status": "MISS",
    "cf-aig-event-id": "bench-event",
}

# -- canned replies, in the shapes of the recorded OpenAI traffic ------------------------------


def _chat_json() -> dict[str, Any]:
    return {
        "id": "chatcmpl-bench",
        "object": "chat.completion",
        "created": 1748658747,
        "model": "gpt-4o-mini-2024-07-18",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "Hello! How can I help?",
                            "refusal": None, "annotations": []},
                "logprobs": None,
                "finish_reason": "stop",
            }
        ],
        "usage": {
            "prompt_tokens": 8, "completion_tokens": 7, "total_tokens": 15,
            "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
            "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0,
                                          "accepted_prediction_tokens": 0,
                                          "rejected_prediction_tokens": 0},
        },
        "service_tier": "default",
        "system_fingerprint": "fp_bench",
    }


def _chat_sse() -> str:
    base = {"id": "chatcmpl-bench", "object": "chat.completion.chunk", "created": 1748658747,
            "model": "gpt-4o-mini-2024-07-18", "service_tier": "default",
            "system_fingerprint": "fp_bench"}

    def chunk(delta: dict[str, Any], finish: str | None = None, usage: Any = None,
              choices: bool = True) -> str:
        body = dict(base)
        body["choices"] = (
            [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}]
            if choices else []
        )
        body["usage"] = usage
        return f"data: {json.dumps(body)}\n\n"

    events = [chunk({"role": "assistant", "content": "", "refusal": None})]
    events += [chunk({"content": f" tok{i}"}) for i in range(STREAM_CHUNKS)]
    events.append(chunk({}, finish="stop"))
    events.append(chunk({}, usage={
        "prompt_tokens": 8, "completion_tokens": STREAM_CHUNKS, "total_tokens": 8 + STREAM_CHUNKS,
        "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
        "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0,
                                      "accepted_prediction_tokens": 0,
                                      "rejected_prediction_tokens": 0},
    }, choices=False))
    events.append("data: [DONE]\n\n")
    return "".join(events)


def _response_object(status: str, text: str | None, usage: Any) -> dict[str, Any]:
    output = []
    if text is not None:
        output = [{"id": "msg_bench", "type": "message", "status": "completed", "role": "assistant",
                   "content": [{"type": "output_text", "annotations": [], "text": text}]}]
    return {
        "id": "resp_bench", "object": "response", "created_at": 1748658747, "status": status,
        "background": False, "error": None, "incomplete_details": None, "instructions": None,
        "max_output_tokens": None, "model": "gpt-4o-mini-2024-07-18", "output": output,
        "parallel_tool_calls": True, "previous_response_id": None,
        "reasoning": {"effort": None, "summary": None}, "service_tier": "default",
        "store": True, "temperature": 1.0, "text": {"format": {"type": "text"}},
        "tool_choice": "auto", "tools": [], "top_p": 1.0, "truncation": "disabled",
        "usage": usage, "user": None, "metadata": {},
    }


def _responses_usage(output_tokens: int) -> dict[str, Any]:
    return {"input_tokens": 8, "input_tokens_details": {"cached_tokens": 0},
            "output_tokens": output_tokens, "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": 8 + output_tokens}


def _responses_json() -> dict[str, Any]:
    return _response_object("completed", "Hello! How can I help?", _responses_usage(7))


def _responses_sse() -> str:
    seq = 0

    def event(body: dict[str, Any]) -> str:
        nonlocal seq
        body = {"type": body.pop("type"), "sequence_number": seq, **body}
        seq += 1
        return f"event: {body['type']}\ndata: {json.dumps(body)}\n\n"

    text = "".join(f" tok{i}" for i in range(STREAM_CHUNKS))
    item = {"id": "msg_bench", "type": "message", "status": "in_progress", "content": [],
            "role": "assistant"}
    where = {"item_id": "msg_bench", "output_index": 0, "content_index": 0}
    events = [
        event({"type": "response.created",
               "response": _response_object("in_progress", None, None)}),
        event({"type": "response.in_progress",
               "response": _response_object("in_progress", None, None)}),
        event({"type": "response.output_item.added", "output_index": 0, "item": item}),
        event({"type": "response.content_part.added", **where,
               "part": {"type": "output_text", "annotations": [], "text": ""}}),
    ]
    events += [
        event({"type": "response.output_text.delta", **where, "delta": f" tok{i}"})
        for i in range(STREAM_CHUNKS)
    ]
    done_item = {**item, "status": "completed",
                 "content": [{"type": "output_text", "annotations": [], "text": text}]}
    events += [
        event({"type": "response.output_text.done", **where, "text": text}),
        event({"type": "response.content_part.done", **where,
               "part": {"type": "output_text", "annotations": [], "text": text}}),
        event({"type": "response.output_item.done", "output_index": 0, "item": done_item}),
        event({"type": "response.completed",
               "response": _response_object("completed", text,
                                            _responses_usage(STREAM_CHUNKS))}),
    ]
    return "".join(events)


def _http(body: bytes, content_type: str) -> bytes:
    head = [
        "HTTP/1.1 200 OK",
        f"content-type: {content_type}",
        f"content-length: {len(body)}",
        *(f"{name}: {value}" for name, value in HEADERS.items()),
        "",
        "",
    ]
    return "\r\n".join(head).encode() + body


def _replies() -> dict[tuple[str, bool], bytes]:
    return {
        ("chat/completions", False): _http(json.dumps(_chat_json()).encode(), "application/json"),
        ("chat/completions", True): _http(_chat_sse().encode(), "text/event-stream"),
        ("responses", False): _http(json.dumps(_responses_json()).encode(), "application/json"),
        ("responses", True): _http(_responses_sse().encode(), "text/event-stream"),
    }


# -- the loopback server (its own process) -----------------------------------------------------


def _serve(port_queue: Any) -> None:
    replies = _replies()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                request_line, *header_lines = head.decode("latin-1").split("\r\n")
                path = request_line.split(" ")[1]
                length = 0
                for line in header_lines:
                    name, _, value = line.partition(":")
                    if name.strip().lower() == "content-length":
                        length = int(value)
                body = await reader.readexactly(length) if length else b""
                stream = bool(json.loads(body).get("stream")) if body else False
                endpoint = "responses" if path.endswith("/responses") else "chat/completions"
                writer.write(replies[(endpoint, stream)])
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def main() -> None:
        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        port_queue.put(server.sockets[0].getsockname()[1])
        async with server:
            await server.serve_forever()

    asyncio.run(main())


# -- measurement -------------------------------------------------------------------------------


def _compare(ours: Callable[[], Any], theirs: Callable[[], Any], calls: int,
             rounds: int) -> tuple[float, float]:
    """Median seconds per call of each, from interleaved rounds of ``calls`` calls.

    The two sides alternate round by round (and which goes first alternates too), so a change
    in machine load during the run hits both alike.
    """
    for _ in range(max(3, calls // 5)):  # warm up pools, caches and lazy imports
        ours()
        theirs()
    samples: dict[int, list[float]] = {0: [], 1: []}
    for number in range(rounds):
        order = ((0, ours), (1, theirs)) if number % 2 == 0 else ((1, theirs), (0, ours))
        for side, fn in order:
            start = time.perf_counter()
            for _ in range(calls):
                fn()
            samples[side].append((time.perf_counter() - start) / calls)
    return statistics.median(samples[0]), statistics.median(samples[1])


def _import_times(modules: tuple[str, str], runs: int) -> tuple[float, float]:
    """Median seconds to import each module in a fresh interpreter, the two interleaved."""
    samples: dict[str, list[float]] = {module: [] for module in modules}
    for _ in range(runs):
        for module in modules:
            code = (
                "import time; t = time.perf_counter(); import " + module +
                "; print(time.perf_counter() - t)"
            )
            done = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                                  text=True)
            samples[module].append(float(done.stdout))
    return statistics.median(samples[modules[0]]), statistics.median(samples[modules[1]])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=40, help="calls per round")
    parser.add_argument("--rounds", type=int, default=9, help="rounds (the median is kept)")
    parser.add_argument("--import-runs", type=int, default=9)
    args = parser.parse_args()

    port_queue: Any = multiprocessing.Queue()
    server = multiprocessing.Process(target=_serve, args=(port_queue,), daemon=True)
    server.start()
    port = port_queue.get(timeout=30)
    base_url = f"http://127.0.0.1:{port}/v1"

    from langchain_openai import ChatOpenAI

    from langchain_cf_ai_gateway import ChatCloudflareAIGateway

    rows = []
    try:
        for api in ("chat", "responses"):
            ours = ChatCloudflareAIGateway(
                model=MODEL, account_id=ACCOUNT, gateway_id=GATEWAY, api_key="sk-bench",
                base_url=base_url, api=api, stream_usage=True, max_retries=0,
            )
            theirs = ChatOpenAI(
                model=MODEL, api_key="sk-bench",  # type: ignore[arg-type]
                base_url=f"{base_url}/{ACCOUNT}/{GATEWAY}/openai", stream_usage=True,
                use_responses_api=api == "responses", max_retries=0,
            )
            for name, ours_fn, theirs_fn in (
                ("invoke", lambda m=ours: m.invoke("Hello"), lambda m=theirs: m.invoke("Hello")),
                ("stream", lambda m=ours: _drain(m), lambda m=theirs: _drain(m)),
            ):
                ours_s, theirs_s = _compare(ours_fn, theirs_fn, args.calls, args.rounds)
                rows.append((f"{name} ({api})", ours_s, theirs_s))
    finally:
        server.terminate()
        server.join()

    ours_import, theirs_import = _import_times(
        ("langchain_cf_ai_gateway", "langchain_openai"), args.import_runs
    )
    rows.append(("import", ours_import, theirs_import))

    print(f"{'measure':<22}{'ours (ms)':>12}{'ChatOpenAI (ms)':>18}{'ratio':>9}")
    for name, ours_s, theirs_s in rows:
        print(f"{name:<22}{ours_s * 1e3:>12.3f}{theirs_s * 1e3:>18.3f}{ours_s / theirs_s:>9.2f}")
    print(f"(stream = one {STREAM_CHUNKS}-chunk reply; medians of {args.rounds} interleaved "
          f"rounds of {args.calls} calls; import = median of {args.import_runs} fresh "
          "interpreters each)")


def _drain(model: Any) -> None:
    for _ in model.stream("Write a story about a cat."):
        pass


if __name__ == "__main__":
    main()
