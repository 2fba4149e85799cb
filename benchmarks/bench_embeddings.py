"""Benchmark: embedding 2,000 short texts in one call, ours against the frameworks' OpenAI classes.

Every client talks to the same loopback server, which runs in its own process and answers
``POST …/embeddings`` in OpenAI's shape, with each vector in the encoding the client asked for
(JSON floats, or base64 float32, which the openai SDK asks for by default). Replies are rendered
once per request shape and then served from memory, so the server's cost is the same for every
client and what is measured is the client side: request building, HTTP, parsing, framework
objects.

Compared, each in one call of ``--texts`` texts (default 2,000) of 1536-dimensional vectors:

- LangChain: ``CloudflareAIGatewayEmbeddings.embed_documents`` vs
  ``OpenAIEmbeddings(base_url=..., check_embedding_ctx_length=False).embed_documents``;
- LlamaIndex: ``CloudflareAIGatewayEmbedding.get_text_embedding_batch`` vs
  ``OpenAIEmbedding(api_base=...).get_text_embedding_batch``;

ours once with the default ``encoding_format="float"`` (2.5 times the bytes of base64, and
text to parse) and once with ``encoding_format="base64"``, which the openai SDK behind both
OpenAI classes always asks for.

Two servers are measured: one that honours ``encoding_format`` (so the OpenAI classes get
base64 while ours gets floats), and one that answers JSON floats whatever was asked, as a
provider without base64 support does (``--server`` picks one; both by default).

Run ``python benchmarks/bench_embeddings.py`` (needs the ``bench`` extra). It prints, for each
pair, the median seconds per call over ``--rounds`` interleaved rounds, the spread (lowest and
highest round) and the ratio of the medians, ours / theirs (lower is better).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import multiprocessing
import random
import statistics
import struct
import time
from collections.abc import Callable
from typing import Any

ACCOUNT = "0123456789abcdef0123456789abcdef"
GATEWAY = "bench"
MODEL = "text-embedding-3-small"
DIMENSIONS = 1536
HEADERS = {"cf-aig-log-id": "01JBENCHLOGID0000000000000", "cf-aig-cache-status": "MISS"}


# -- the loopback server (its own process) -----------------------------------------------------


def _vectors(count: int, dimensions: int) -> list[list[float]]:
    rng = random.Random(count * 7919 + dimensions)
    # Ten significant digits, as OpenAI's float replies carry.
    return [[float(f"{rng.gauss(0, 0.03):.10f}") for _ in range(dimensions)] for _ in range(count)]


def _reply(count: int, dimensions: int, encoding: str) -> bytes:
    data = []
    for index, vector in enumerate(_vectors(count, dimensions)):
        embedding: Any = vector
        if encoding == "base64":
            embedding = base64.b64encode(struct.pack(f"<{dimensions}f", *vector)).decode()
        data.append({"object": "embedding", "index": index, "embedding": embedding})
    body = json.dumps({
        "object": "list", "data": data, "model": MODEL,
        "usage": {"prompt_tokens": count * 4, "total_tokens": count * 4},
    }).encode()
    head = ["HTTP/1.1 200 OK", "content-type: application/json", f"content-length: {len(body)}",
            *(f"{name}: {value}" for name, value in HEADERS.items()), "", ""]
    return "\r\n".join(head).encode() + body


def _serve(port_queue: Any, counts: list[int]) -> None:
    # The shapes the clients will ask for, rendered before the port is published.
    rendered = {(count, DIMENSIONS, encoding): _reply(count, DIMENSIONS, encoding)
                for count in counts for encoding in ("float", "base64")}

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.decode("latin-1").split("\r\n")[1:]:
                    name, _, value = line.partition(":")
                    if name.strip().lower() == "content-length":
                        length = int(value)
                request = json.loads(await reader.readexactly(length))
                raw_input = request["input"]
                count = len(raw_input) if isinstance(raw_input, list) else 1
                # Under /float-only/ the server answers floats whatever was asked, as a
                # provider without base64 support does; elsewhere it honours encoding_format.
                asked = request.get("encoding_format") or "float"
                encoding = "float" if head.startswith(b"POST /float-only/") else asked
                shape = (count, request.get("dimensions") or DIMENSIONS, encoding)
                if shape not in rendered:
                    rendered[shape] = _reply(*shape)
                writer.write(rendered[shape])
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


def _compare(ours: Callable[[], Any], theirs: Callable[[], Any], rounds: int,
             warmups: int = 2) -> tuple[list[float], list[float]]:
    """Seconds per call of each, one call per round, the two sides alternating who goes first."""
    for _ in range(warmups):  # warm up pools, lazy imports and the server's rendered replies
        ours()
        theirs()
    samples: tuple[list[float], list[float]] = ([], [])
    for number in range(rounds):
        order = ((0, ours), (1, theirs)) if number % 2 == 0 else ((1, theirs), (0, ours))
        for side, fn in order:
            start = time.perf_counter()
            fn()
            samples[side].append(time.perf_counter() - start)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=int, default=2000, help="texts per call")
    parser.add_argument("--rounds", type=int, default=9, help="interleaved rounds (median kept)")
    parser.add_argument("--server", choices=("honours", "float-only", "both"), default="both",
                        help="whether the server honours encoding_format or always sends floats")
    parser.add_argument("--float-only-rounds", type=int, default=3,
                        help="rounds against the float-only server, where the OpenAI classes are slow")
    args = parser.parse_args()

    port_queue: Any = multiprocessing.Queue()
    # Ours sends one batch; OpenAIEmbeddings batches of 1000, OpenAIEmbedding batches of 100.
    counts = sorted({args.texts, min(args.texts, 1000), min(args.texts, 100)})
    server = multiprocessing.Process(target=_serve, args=(port_queue, counts), daemon=True)
    server.start()
    port = port_queue.get(timeout=600)
    texts = [f"short text number {i} about a topic" for i in range(args.texts)]

    from langchain_openai import OpenAIEmbeddings
    from llama_index.embeddings.openai import OpenAIEmbedding

    from langchain_cf_ai_gateway import CloudflareAIGatewayEmbeddings
    from llama_index.embeddings.cf_ai_gateway import CloudflareAIGatewayEmbedding

    servers = ("honours", "float-only") if args.server == "both" else (args.server,)
    pairs = {}
    for mode in servers:
        prefix = "/float-only" if mode == "float-only" else ""
        base_url = f"http://127.0.0.1:{port}{prefix}/v1"
        provider_url = f"{base_url}/{ACCOUNT}/{GATEWAY}/openai"
        connection = {"account_id": ACCOUNT, "gateway_id": GATEWAY, "api_key": "sk-bench",
                      "base_url": base_url, "max_retries": 0, "timeout": 600}
        lc_theirs = OpenAIEmbeddings(model=MODEL, base_url=provider_url, api_key="sk-bench",  # type: ignore[arg-type]
                                     check_embedding_ctx_length=False, max_retries=0,
                                     request_timeout=600).embed_documents
        li_theirs = OpenAIEmbedding(model=MODEL, api_base=provider_url, api_key="sk-bench",
                                    max_retries=0, timeout=600).get_text_embedding_batch
        # A float-only server answers base64 requests with floats too: one encoding suffices.
        for encoding in ("float", "base64") if mode == "honours" else ("float",):
            pairs[f"[server {mode}] LangChain embed_documents ({encoding}) vs OpenAIEmbeddings"] = (
                CloudflareAIGatewayEmbeddings(model=MODEL, encoding_format=encoding, **connection).embed_documents,
                lc_theirs,
            )
            pairs[f"[server {mode}] LlamaIndex get_text_embedding_batch ({encoding}) vs OpenAIEmbedding"] = (
                CloudflareAIGatewayEmbedding(model=MODEL, encoding_format=encoding,
                                             **connection).get_text_embedding_batch,
                li_theirs,
            )
    rows = []
    try:
        for name, (ours, theirs) in pairs.items():
            assert len(ours(texts)) == len(theirs(texts)) == len(texts)
            rounds = args.rounds if "float-only" not in name else min(args.rounds, args.float_only_rounds)
            warmups = 2 if "float-only" not in name else 0  # the length check above warmed up
            ours_s, theirs_s = _compare(lambda f=ours: f(texts), lambda f=theirs: f(texts), rounds, warmups)
            rows.append((name, ours_s, theirs_s))
    finally:
        server.terminate()
        server.join()

    print(f"{args.texts} texts, {DIMENSIONS} dimensions, one call; median (lowest-highest) of "
          f"{args.rounds} interleaved rounds")
    for name, ours_s, theirs_s in rows:
        print(f"({len(ours_s)} rounds)", end=" ")
        ours_m, theirs_m = statistics.median(ours_s), statistics.median(theirs_s)
        print(f"{name}:\n  ours   {ours_m * 1e3:8.1f} ms ({min(ours_s) * 1e3:.1f}-{max(ours_s) * 1e3:.1f})"
              f"\n  theirs {theirs_m * 1e3:8.1f} ms ({min(theirs_s) * 1e3:.1f}-{max(theirs_s) * 1e3:.1f})"
              f"\n  ratio  {ours_m / theirs_m:8.2f}x")


if __name__ == "__main__":
    main()
