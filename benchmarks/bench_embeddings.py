"""Benchmark: embedding 2,000 short texts in one call, ours against the frameworks' OpenAI classes.

Every client talks to the same loopback server, which runs in its own process and answers
``POST …/embeddings`` in OpenAI's shape, with each vector in the encoding the client asked for
(JSON floats, or base64 float32, which the openai SDK asks for by default). Replies are rendered
once per request shape and then served from memory, so the server's cost is the same for every
client and what is measured is the client side: request building, HTTP, parsing, framework
objects.

Compared, each in one call of ``BENCH_TEXTS`` texts (default 2,000) of 1536-dimensional vectors:

- LangChain: ``CloudflareAIGatewayEmbeddings.embed_documents`` vs
  ``OpenAIEmbeddings(base_url=..., check_embedding_ctx_length=False).embed_documents``;
- LlamaIndex: ``CloudflareAIGatewayEmbedding.get_text_embedding_batch`` vs
  ``OpenAIEmbedding(api_base=...).get_text_embedding_batch``;

ours once with the default ``encoding_format="float"`` (2.5 times the bytes of base64, and
text to parse) and once with ``encoding_format="base64"``, which the openai SDK behind both
OpenAI classes always asks for.

Two servers are measured: one that honours ``encoding_format`` (so the OpenAI classes get
base64 while ours gets floats), and one that answers JSON floats whatever was asked, as a
provider without base64 support does (3 rounds there: the OpenAI classes take seconds a call).

Run ``python benchmarks/bench_embeddings.py [--quick]`` (needs the ``bench`` extra; knobs, among
them ``BENCH_TEXTS``, in ``harness.py``). It prints, for each pair, the median of the per-round
ratios ours / theirs over interleaved rounds of one call each, with their spread (lowest and
highest round), and each side's time (lower is better). The replies are not streams, so this
server sends each as one ``content-length`` body, as an origin does.
"""

from __future__ import annotations

import asyncio
import base64
import json
import multiprocessing
import os
import random
import struct
import sys
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Row, Settings, interleave, print_rows, row, settings

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
    body = json.dumps(
        {
            "object": "list",
            "data": data,
            "model": MODEL,
            "usage": {"prompt_tokens": count * 4, "total_tokens": count * 4},
        }
    ).encode()
    head = [
        "HTTP/1.1 200 OK",
        "content-type: application/json",
        f"content-length: {len(body)}",
        *(f"{name}: {value}" for name, value in HEADERS.items()),
        "",
        "",
    ]
    return "\r\n".join(head).encode() + body


def _serve(port_queue: Any, counts: list[int]) -> None:
    # The shapes the clients will ask for, rendered before the port is published.
    rendered = {
        (count, DIMENSIONS, encoding): _reply(count, DIMENSIONS, encoding)
        for count in counts
        for encoding in ("float", "base64")
    }

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


def measure(s: Settings) -> list[Row]:
    port_queue: Any = multiprocessing.Queue()
    # Ours sends one batch; OpenAIEmbeddings batches of 1000, OpenAIEmbedding batches of 100.
    counts = sorted({s.texts, min(s.texts, 1000), min(s.texts, 100)})
    server = multiprocessing.Process(target=_serve, args=(port_queue, counts), daemon=True)
    server.start()
    port = port_queue.get(timeout=600)
    texts = [f"short text number {i} about a topic" for i in range(s.texts)]

    from langchain_openai import OpenAIEmbeddings
    from llama_index.embeddings.openai import OpenAIEmbedding

    from langchain_cf_ai_gateway import CloudflareAIGatewayEmbeddings
    from llama_index.embeddings.cf_ai_gateway import CloudflareAIGatewayEmbedding

    pairs = {}
    for mode in ("honours", "float-only"):
        prefix = "/float-only" if mode == "float-only" else ""
        base_url = f"http://127.0.0.1:{port}{prefix}/v1"
        provider_url = f"{base_url}/{ACCOUNT}/{GATEWAY}/openai"
        connection = {
            "account_id": ACCOUNT,
            "gateway_id": GATEWAY,
            "api_key": "sk-bench",
            "base_url": base_url,
            "max_retries": 0,
            "timeout": 600,
        }
        lc_theirs = OpenAIEmbeddings(
            model=MODEL,
            base_url=provider_url,
            api_key="sk-bench",  # type: ignore[arg-type]
            check_embedding_ctx_length=False,
            max_retries=0,
            request_timeout=600,
        ).embed_documents
        li_theirs = OpenAIEmbedding(
            model=MODEL, api_base=provider_url, api_key="sk-bench", max_retries=0, timeout=600
        ).get_text_embedding_batch
        # A float-only server answers base64 requests with floats too: one encoding suffices.
        for encoding in ("float", "base64") if mode == "honours" else ("float",):
            pairs[
                f"LangChain `embed_documents` ({encoding}) vs `OpenAIEmbeddings`, server {mode}"
            ] = (
                CloudflareAIGatewayEmbeddings(
                    model=MODEL, encoding_format=encoding, **connection
                ).embed_documents,
                lc_theirs,
            )
            pairs[
                f"LlamaIndex `get_text_embedding_batch` ({encoding}) vs `OpenAIEmbedding`, server {mode}"
            ] = (
                CloudflareAIGatewayEmbedding(
                    model=MODEL, encoding_format=encoding, **connection
                ).get_text_embedding_batch,
                li_theirs,
            )
    rows = []
    try:
        for name, (ours, theirs) in pairs.items():
            assert len(ours(texts)) == len(theirs(texts)) == len(texts)  # also warms up
            # Against the float-only server the OpenAI classes take many seconds a call: 3 rounds.
            float_only = name.endswith("float-only")
            samples = interleave(
                {"ours": lambda f=ours: f(texts), "theirs": lambda f=theirs: f(texts)},
                calls=1,
                rounds=3 if float_only else s.rounds,
                warmup=0,
            )
            rows.append(row(f"{name}, {s.texts:,} texts", samples, "ours", "theirs"))
    finally:
        server.terminate()
        server.join()
    return rows


def main() -> None:
    s = settings(__doc__)
    print_rows(
        f"Embeddings: {s.texts} texts, {DIMENSIONS} dimensions, one call "
        "(median of rounds, lowest-highest)",
        measure(s),
    )


if __name__ == "__main__":
    main()
