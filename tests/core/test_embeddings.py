"""``Gateway.embed`` / ``aembed``: batches, order, auth modes, surfaces, caching and bad replies.

The calls go to the emulator (a real gateway on 127.0.0.1) or, for replies no provider should
send, to the scriptable test server; either way every request crosses a real socket.
"""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cf_ai_gateway import (
    ConfigurationError,
    EmbeddingResult,
    Gateway,
    GatewayError,
    ProviderError,
    StreamError,
)
from cf_ai_gateway.emulator import Emulator
from cf_ai_gateway.wire import embeddings as wire

from .testserver import Reply, TestServer

MODEL = "text-embedding-3-small"
TOKEN = "cfaig-embed-test-token-abcdef"
KEY = "sk-embed-test-key-0123456789"


def cosine(a: list[float], b: list[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    return dot / (math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b)))


def embed_requests(emu: Emulator) -> list[Any]:
    return [r for r in emu.requests if r.path.endswith("/embeddings")]


def gateway_for(emu: Emulator, **kwargs: Any) -> Gateway:
    kwargs.setdefault("account_id", emu.account_id)
    kwargs.setdefault("base_url", emu.base_url)
    if "api_key" not in kwargs and "cf_aig_token" not in kwargs and "cf_api_token" not in kwargs:
        kwargs["api_key"] = KEY
    return Gateway(**kwargs)


# -- against the emulator ----------------------------------------------------------------------


def test_embed_returns_vectors_in_order_with_usage_and_info(emulator: Emulator) -> None:
    texts = ["cats purr on the sofa", "dogs bark at night", "cats purr"]
    with gateway_for(emulator) as gw:
        result = gw.embed(texts, model=MODEL)
    assert isinstance(result, EmbeddingResult)
    assert len(result.vectors) == 3 and all(len(v) == 1536 for v in result.vectors)
    assert result.model == MODEL
    assert result.usage.input_tokens > 0 and result.usage.total_tokens == result.usage.input_tokens
    assert result.info.log_id and result.infos == [result.info]
    # Shared words give a higher cosine similarity than unrelated texts.
    assert cosine(result.vectors[0], result.vectors[2]) > cosine(result.vectors[1], result.vectors[2])
    sent = embed_requests(emulator)[0].json
    assert sent == {"model": MODEL, "input": texts, "encoding_format": "float"}


def test_batches_are_reassembled_in_order_with_each_batch_info(emulator: Emulator) -> None:
    texts = [f"document number {i} about topic {i % 7}" for i in range(23)]
    with gateway_for(emulator) as gw:
        whole = gw.embed(texts, model=MODEL, dimensions=32)
        batched = gw.embed(texts, model=MODEL, dimensions=32, batch_size=5, max_concurrency=3)
    assert batched.vectors == whole.vectors
    assert len(batched.infos) == 5 and len({i.log_id for i in batched.infos}) == 5
    assert batched.usage.input_tokens == whole.usage.input_tokens
    sizes = sorted(len(r.json["input"]) for r in embed_requests(emulator)[1:])
    assert sizes == [3, 5, 5, 5, 5]
    assert all(r.json["dimensions"] == 32 for r in embed_requests(emulator))


async def test_aembed_matches_embed(emulator: Emulator) -> None:
    texts = [f"text {i} shares some words" for i in range(12)]
    gw = gateway_for(emulator)
    try:
        sync = gw.embed(texts, model=MODEL, dimensions=16, batch_size=4)
        result = await gw.aembed(texts, model=MODEL, dimensions=16, batch_size=4, max_concurrency=2)
    finally:
        await gw.aclose()
    assert result.vectors == sync.vectors and len(result.infos) == 3


@pytest.mark.parametrize("use_async", [False, True])
async def test_content_cache_hits_every_batch_on_a_second_run(emulator: Emulator, use_async: bool) -> None:
    texts = [f"chunk {i} of the handbook" for i in range(10)]
    gw = gateway_for(emulator)
    try:
        runs = []
        for _ in range(2):
            call = gw.aembed if use_async else gw.embed
            outcome = call(texts, model=MODEL, batch_size=4, cache="content")
            runs.append(await outcome if use_async else outcome)  # type: ignore[misc]
    finally:
        await gw.aclose()
    first, second = runs
    assert [i.cache_status for i in first.infos] == ["MISS"] * 3
    assert [i.cache_status for i in second.infos] == ["HIT"] * 3 and second.cached
    assert second.vectors == first.vectors
    sent = embed_requests(emulator)
    keys = [r.header("cf-aig-cache-key") for r in sent]
    assert len(set(keys[:3])) == 3 and sorted(keys[:3]) == sorted(keys[3:])  # type: ignore[type-var]
    assert all(k and k.startswith("emb-") for k in keys)
    assert all(r.header("cf-aig-cache-ttl") == str(30 * 24 * 3600) for r in sent)


async def test_base64_encoding_gives_the_same_vectors(emulator: Emulator) -> None:
    texts = ["base64 on the wire", "float on the wire"]
    gw = gateway_for(emulator)
    try:
        floats = gw.embed(texts, model=MODEL, dimensions=48)
        packed = await gw.aembed(texts, model=MODEL, dimensions=48, encoding_format="base64")
    finally:
        await gw.aclose()
    assert [r.json["encoding_format"] for r in embed_requests(emulator)] == ["float", "base64"]
    for a, b in zip(floats.vectors, packed.vectors, strict=True):
        assert max(abs(x - y) for x, y in zip(a, b, strict=True)) < 1e-6


def test_content_cache_key_depends_on_model_dimensions_and_text() -> None:
    key = wire.content_cache_key("openai", MODEL, None, ["a", "b"])
    assert key == wire.content_cache_key("openai", MODEL, None, ["a", "b"])
    others = {
        wire.content_cache_key("openai", MODEL, 64, ["a", "b"]),
        wire.content_cache_key("openai", "text-embedding-3-large", None, ["a", "b"]),
        wire.content_cache_key("openai", MODEL, None, ["ab"]),
        wire.content_cache_key("openai", MODEL, None, ["b", "a"]),
        wire.content_cache_key("workers-ai", MODEL, None, ["a", "b"]),
    }
    assert key not in others and len(others) == 5


def test_without_content_cache_no_cache_key_is_sent(emulator: Emulator) -> None:
    with gateway_for(emulator) as gw:
        gw.embed(["one"], model=MODEL)
        second = gw.embed(["one"], model=MODEL)
    assert all(r.header("cf-aig-cache-key") is None for r in embed_requests(emulator))
    assert not second.cached


def test_byok_sends_no_authorization(make_emulator: Any) -> None:
    emu = make_emulator(token=TOKEN)
    with gateway_for(emu, cf_aig_token=TOKEN) as gw:
        result = gw.embed(["stored key"], model=MODEL)
    request = embed_requests(emu)[0]
    assert request.header("authorization") is None
    assert request.header("cf-aig-authorization") == f"Bearer {TOKEN}"
    assert len(result.vectors) == 1


def test_authenticated_sends_both_headers(make_emulator: Any) -> None:
    emu = make_emulator(token=TOKEN)
    with gateway_for(emu, api_key=KEY, cf_aig_token=TOKEN) as gw:
        gw.embed(["both"], model=MODEL)
    request = embed_requests(emu)[0]
    assert request.header("authorization") == f"Bearer {KEY}"
    assert request.header("cf-aig-authorization") == f"Bearer {TOKEN}"


def test_compat_route_needs_a_provider_prefix(emulator: Emulator) -> None:
    with gateway_for(emulator, provider="compat") as gw:
        result = gw.embed(["compat text"], model=f"openai/{MODEL}", dimensions=8)
        with pytest.raises(ConfigurationError, match="provider"):
            gw.embed(["compat text"], model=MODEL)
    assert len(result.vectors[0]) == 8
    assert [r.path for r in embed_requests(emulator)] == [f"/v1/{emulator.account_id}/default/compat/embeddings"]


def test_rest_surface(emulator: Emulator) -> None:
    emulator.configure(api_token="cf-api-token-0123456789")
    gw = Gateway(account_id=emulator.account_id, cf_api_token="cf-api-token-0123456789",
                 base_url=emulator.api_base_url, surface="rest")
    with gw:
        result = gw.embed(["rest text", "more"], model="@cf/baai/bge-base-en-v1.5")
    request = embed_requests(emulator)[0]
    assert request.path == f"/client/v4/accounts/{emulator.account_id}/ai/v1/embeddings"
    assert request.header("authorization") == "Bearer cf-api-token-0123456789"
    assert len(result.vectors) == 2 and len(result.vectors[0]) == 768


def test_workers_ai_batches_default_to_100(emulator: Emulator) -> None:
    texts = [f"w{i}" for i in range(250)]
    with gateway_for(emulator, provider="workers-ai", api_key="cf-token-0123456789") as gw:
        result = gw.embed(texts, model="@cf/baai/bge-small-en-v1.5")
        with pytest.raises(ConfigurationError, match="batch_size"):
            gw.embed(texts, model="@cf/baai/bge-small-en-v1.5", batch_size=101)
    assert len(result.vectors) == 250 and len(result.infos) == 3
    sent = embed_requests(emulator)
    assert sorted(len(r.json["input"]) for r in sent) == [50, 100, 100]
    assert all(r.path.endswith("/workers-ai/v1/embeddings") for r in sent)


@pytest.mark.parametrize(
    ("provider", "model", "count"),
    [("openai", MODEL, 2049), ("workers-ai", "@cf/baai/bge-base-en-v1.5", 101)],
)
def test_emulator_refuses_batches_over_the_provider_limit(
    emulator: Emulator, provider: str, model: str, count: int
) -> None:
    with gateway_for(emulator, provider=provider) as gw:
        accepted = gw.create("embeddings", {"model": model, "input": ["x y"] * (count - 1)})
        with pytest.raises(ProviderError) as caught:
            gw.create("embeddings", {"model": model, "input": ["x y"] * count})
    assert len(accepted.body["data"]) == count - 1
    assert caught.value.status_code == 400


def test_a_failed_batch_raises(emulator: Emulator) -> None:
    emulator.fault(400, message="bad batch", times=1, endpoint="embeddings")
    with gateway_for(emulator, max_retries=0) as gw, pytest.raises(GatewayError) as caught:
        gw.embed([f"t{i}" for i in range(6)], model=MODEL, batch_size=2, max_concurrency=1)
    assert caught.value.status_code == 400


# -- bad input: refused before sending ---------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({"inputs": []}, "inputs"),
        ({"inputs": "one text"}, "inputs"),
        ({"inputs": ["ok", ""]}, r"inputs\[1\]"),
        ({"inputs": ["ok", 3]}, r"inputs\[1\]"),
        ({"inputs": ["ok", None]}, r"inputs\[1\]"),
        ({"inputs": None}, "inputs"),
        ({"dimensions": 0}, "dimensions"),
        ({"dimensions": -3}, "dimensions"),
        ({"dimensions": 1.5}, "dimensions"),
        ({"dimensions": True}, "dimensions"),
        ({"batch_size": 0}, "batch_size"),
        ({"batch_size": 2049}, "batch_size"),
        ({"batch_size": "10"}, "batch_size"),
        ({"max_concurrency": 0}, "max_concurrency"),
        ({"model": ""}, "model"),
        ({"model": None}, "model"),
        ({"model": "text-embedding\n-3"}, "model"),
        ({"model": " padded "}, "model"),
        ({"cache": "yes"}, "cache"),
        ({"encoding_format": "binary"}, "encoding_format"),
        ({"cache": "content", "options": {"cache_key": "mine"}}, "cache_key"),
        ({"options": {"cache_ttl": 5}}, "cache_ttl"),
        ({"timeout": -1}, "timeout"),
    ],
)
@pytest.mark.parametrize("use_async", [False, True])
async def test_bad_input_is_refused_before_sending(
    make_gateway: Any, server: TestServer, kwargs: dict[str, Any], argument: str, use_async: bool
) -> None:
    gw = make_gateway()
    call: dict[str, Any] = {"inputs": ["hello"], "model": MODEL, **kwargs}
    inputs = call.pop("inputs")
    with pytest.raises(ConfigurationError, match=argument):
        if use_async:
            await gw.aembed(inputs, **call)
        else:
            gw.embed(inputs, **call)
    assert server.requests == []


# -- replies of the wrong shape ----------------------------------------------------------------


def _reply(data: Any, **extra: Any) -> dict[str, Any]:
    return {"object": "list", "data": data, "model": MODEL, **extra}


def _item(index: int, embedding: Any) -> dict[str, Any]:
    return {"object": "embedding", "index": index, "embedding": embedding}


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[1, 2]",
        json.dumps({"data": "nope"}).encode(),
        json.dumps(_reply([_item(0, [0.1])])).encode(),  # one vector for two inputs
        json.dumps(_reply([_item(0, [0.1]), _item(0, [0.2])])).encode(),  # repeated index
        json.dumps(_reply([_item(0, [0.1]), _item(5, [0.2])])).encode(),  # out of range
        json.dumps(_reply([_item(0, [0.1]), _item(1, ["x"])])).encode(),
        json.dumps(_reply([_item(0, [0.1]), _item(1, [True])])).encode(),
        json.dumps(_reply([_item(0, [0.1]), _item(1, [])])).encode(),
        json.dumps(_reply([_item(0, [0.1]), _item(1, [0.1, 0.2])])).encode(),  # unequal widths
        json.dumps(_reply([_item(0, [0.1]), _item(1, "!!notbase64")])).encode(),
        json.dumps(_reply([_item(0, [0.1]), _item(1, None)])).encode(),
        json.dumps(_reply([_item(0, [0.1]), "item"])).encode(),
        b'{"data": [{"index": 0, "embedding": [NaN]}, {"index": 1, "embedding": [1.0]}]}',
        b'{"data": [{"index": 0, "embedding": [1e999]}, {"index": 1, "embedding": [1.0]}]}',
        b'{"data": [{"index": 0, "embedding": [1' + b"0" * 400 + b']}, {"index": 1, "embedding": [1]}]}',
        b"[" * 100_000 + b"]" * 100_000,
    ],
)
@pytest.mark.parametrize("parser", ["fast", "stdlib"])
def test_bad_replies_raise_stream_error(
    make_gateway: Any, server: TestServer, body: bytes, parser: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if parser == "stdlib":
        from cf_ai_gateway import jsontext

        monkeypatch.setattr(jsontext, "_fast", None)
    server.replies.put(Reply(body=body, headers={"content-type": "application/json", "cf-aig-log-id": "log-1"}))
    gw = make_gateway()
    with pytest.raises(StreamError) as caught:
        gw.embed(["one", "two"], model=MODEL)
    assert caught.value.log_id == "log-1"
    assert len(server.requests) == 1  # a reply that arrived is never sent again


def test_requested_dimensions_must_match_the_reply(make_gateway: Any, server: TestServer) -> None:
    server.replies.put(Reply(body=_reply([_item(0, [0.1, 0.2, 0.3])])))
    with pytest.raises(StreamError, match="dimensions"):
        make_gateway().embed(["one"], model=MODEL, dimensions=2)


def test_base64_replies_are_decoded_and_indices_reordered(make_gateway: Any, server: TestServer) -> None:
    import base64
    import struct

    first = base64.b64encode(struct.pack("<3f", 0.5, -0.25, 1.0)).decode()
    server.replies.put(Reply(body=_reply([_item(1, [1, 2, 3]), _item(0, first)],
                                         usage={"prompt_tokens": 4, "total_tokens": 4})))
    result = make_gateway().embed(["a", "b"], model=MODEL)
    assert result.vectors == [[0.5, -0.25, 1.0], [1.0, 2.0, 3.0]]
    assert result.usage.input_tokens == 4


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=200, deadline=None)
@given(
    st.one_of(
        _JSON.map(lambda v: json.dumps(v).encode()),
        st.lists(st.one_of(_JSON, st.lists(st.floats(allow_nan=False), max_size=3)), max_size=3).map(
            lambda items: json.dumps(
                {"data": [{"index": i, "embedding": e} for i, e in enumerate(items)]}
            ).encode()
        ),
        st.binary(max_size=64),
    ),
    st.integers(min_value=1, max_value=3),
)
def test_any_reply_parses_or_raises_stream_error(content: bytes, count: int) -> None:
    try:
        vectors, _, usage = wire.parse_reply(content, count)
    except StreamError:
        return
    assert len(vectors) == count and usage.input_tokens >= 0
    assert len({len(v) for v in vectors}) == 1
    assert all(type(x) in (int, float) and math.isfinite(x) for v in vectors for x in v)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.text(min_size=1, max_size=20), min_size=1, max_size=30), st.integers(1, 30))
def test_split_keeps_every_text_in_order(texts: list[str], size: int) -> None:
    batches = wire.split(texts, size)
    assert [t for b in batches for t in b] == texts
    assert all(1 <= len(b) <= size for b in batches)


def test_an_error_envelope_in_a_2xx_reply_raises_its_typed_error(
    make_gateway: Any, server: TestServer
) -> None:
    from cf_ai_gateway import MalformedResponseError

    server.replies.put(Reply(body={"success": False, "name": "AiGatewayError", "internalCode": 2003,
                                   "error": [{"code": 2003, "message": "Rate limited"}]}))
    with pytest.raises(GatewayError) as caught:
        make_gateway(max_retries=0).embed(["one"], model=MODEL)
    assert not isinstance(caught.value, MalformedResponseError)
    assert caught.value.code == 2003
