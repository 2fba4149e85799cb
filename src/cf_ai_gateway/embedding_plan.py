"""``EmbeddingPlan``: one ``Gateway.embed`` call, checked and cut into batches before sending.

Building a plan checks every argument (inputs, model, dimensions, batch size, concurrency,
cache mode, encoding, headers, timeout) and raises :class:`~cf_ai_gateway.ConfigurationError` before any
request exists. The plan then hands out each batch's URL, body, headers and remaining time,
parses each batch's reply, and joins the batches into one
:class:`~cf_ai_gateway.wire.embeddings.EmbeddingResult` in input order. The client does the I/O.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import httpx

from .errors import (
    ConfigurationError,
    GatewayTimeoutError,
    error_from_response,
    is_error_reply,
)
from .info import GatewayInfo
from .records import record
from .transport import check_timeout
from .wire import embeddings as wire
from .wire.types import ChatRequest, Usage

if TYPE_CHECKING:
    from .client import Gateway

__all__ = ["BatchReply", "EmbeddingPlan"]

_CACHE_KEY_HEADER = "cf-aig-cache-key"
_CACHE_TTL_HEADER = "cf-aig-cache-ttl"


@record(frozen=True, slots=True)
class BatchReply:
    """One batch's parsed reply."""

    vectors: list[list[float]]
    model: str | None
    usage: Usage
    info: GatewayInfo


@record(frozen=True, slots=True)
class EmbeddingPlan:
    """The checked batches, headers and deadline of one embeddings call."""

    url: str
    model: str
    dimensions: int | None
    encoding: str
    batches: list[list[str]]
    headers: list[Mapping[str, str]]
    concurrency: int
    timeout: httpx.Timeout | None
    deadline: float | None

    @classmethod
    def build(
        cls,
        gateway: Gateway,
        inputs: Any,
        model: Any,
        dimensions: Any,
        batch_size: Any,
        max_concurrency: Any,
        cache: Any,
        encoding: Any,
        headers: Mapping[str, str],
        timeout: Any,
        *,
        asynchronous: bool = False,
    ) -> EmbeddingPlan:
        config = gateway.config
        texts = wire.check_inputs(inputs)
        model = wire.check_model(model)
        gateway._check_model(ChatRequest(model=model, messages=[]))  # compat needs provider/model
        dims = wire.check_dimensions(dimensions)
        limit = wire.batch_limit(config.provider, model, config.surface)
        size = wire.check_batch_size(batch_size, limit)
        concurrency = wire.check_max_concurrency(max_concurrency)
        mode = wire.check_cache(cache)
        encoding = wire.check_encoding(encoding)
        call_timeout = check_timeout(timeout)
        batches = wire.split(texts, size)
        if mode == "content":
            if _CACHE_KEY_HEADER in headers:
                raise ConfigurationError(
                    "cache='content' computes each batch's cf-aig-cache-key itself; do not also "
                    "set gateway_options.cache_key"
                )
            base = dict(headers)
            base.setdefault(_CACHE_TTL_HEADER, str(wire.CONTENT_CACHE_TTL))
            provider = "rest" if config.surface == "rest" else config.provider
            per_batch: list[Mapping[str, str]] = [
                {**base, _CACHE_KEY_HEADER: wire.content_cache_key(provider, model, dims, batch)}
                for batch in batches
            ]
        else:
            per_batch = [headers] * len(batches)
        # One deadline for every batch: the call's ``timeout`` (a number or an httpx.Timeout),
        # else the client's, as for every other call.
        seconds = gateway.transport.call_seconds(call_timeout, asynchronous=asynchronous)
        deadline = None if seconds is None else time.monotonic() + seconds
        return cls(
            url=config.url("embeddings"),
            model=model,
            dimensions=dims,
            encoding=encoding,
            batches=batches,
            headers=per_batch,
            concurrency=concurrency,
            timeout=call_timeout,
            deadline=deadline,
        )

    def request(
        self, number: int
    ) -> tuple[str, dict[str, Any], Mapping[str, str], httpx.Timeout | float | None]:
        """URL, body, headers and timeout of batch ``number`` (the time left, with a deadline)."""
        timeout: httpx.Timeout | float | None = self.timeout
        if self.deadline is not None:
            left = self.deadline - time.monotonic()
            if left <= 0:
                raise GatewayTimeoutError(
                    f"the embeddings call ran out of time before batch {number + 1} of "
                    f"{len(self.batches)} was sent"
                )
            timeout = left
        body = wire.build_body(self.model, self.batches[number], self.dimensions, self.encoding)
        return self.url, body, self.headers[number], timeout

    def parse(
        self, number: int, response: httpx.Response, secrets: tuple[str, ...] = ()
    ) -> BatchReply:
        """Batch ``number``'s reply, checked: one vector per input, in input order.

        A 2xx reply holding an error envelope raises the typed error it names.
        """
        info = GatewayInfo.from_headers(response.headers, response.status_code)

        def refuse_error_reply(body: Any) -> None:
            if is_error_reply(body):
                raise error_from_response(
                    response.status_code,
                    response.headers,
                    response.content,
                    info=info,
                    secrets=secrets,
                )

        vectors, model, usage = wire.parse_reply(
            response.content,
            len(self.batches[number]),
            self.dimensions,
            status_code=response.status_code,
            info=info,
            on_body=refuse_error_reply,
        )
        return BatchReply(vectors, model, usage, info)

    def result(self, replies: list[BatchReply]) -> wire.EmbeddingResult:
        """The batches joined in input order."""
        if len(replies) == 1:
            vectors = replies[0].vectors
        else:
            vectors = [vector for reply in replies for vector in reply.vectors]
        width = len(vectors[0])
        for reply in replies:
            if len(reply.vectors[0]) != width:
                raise wire.inconsistent_widths(reply.info)
        infos = [reply.info for reply in replies]
        return wire.EmbeddingResult(
            vectors=vectors,
            model=replies[0].model or self.model,
            usage=wire.merge_usage([reply.usage for reply in replies]),
            info=infos[0],
            infos=infos,
        )
