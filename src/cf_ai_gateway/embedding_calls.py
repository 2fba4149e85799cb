"""The embeddings calls of :class:`~cf_ai_gateway.Gateway`: ``embed`` and ``aembed``.

An :class:`~cf_ai_gateway.embedding_plan.EmbeddingPlan` checks the inputs and splits them into
batches; this module sends the batches through the gateway's transport, several at once (threads
for ``embed``, tasks for ``aembed``), stops at the first failure and joins the vectors in input
order. ``Gateway`` inherits the calls from :class:`EmbeddingCalls`, which holds no state of its own.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import httpx

if TYPE_CHECKING:
    from .client import Gateway, OptionsLike
    from .embedding_plan import EmbeddingPlan
    from .wire.embeddings import EmbeddingResult

__all__ = ["EmbeddingCalls"]


class EmbeddingCalls:
    """The embeddings calls, mixed into :class:`~cf_ai_gateway.Gateway`.

    Each method's ``self`` is typed as the ``Gateway`` it runs on (hence the ``misc`` ignores).
    """

    # -- embeddings ---------------------------------------------------------------------------
    def embed(  # type: ignore[misc]
        self: Gateway,
        inputs: Sequence[str],
        *,
        model: str,
        dimensions: int | None = None,
        batch_size: int | None = None,
        max_concurrency: int | None = None,
        cache: str | None = None,
        encoding_format: str = "float",
        options: OptionsLike = None,
        timeout: float | None = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> EmbeddingResult:
        """Embed ``inputs`` (a list of non-empty strings) with ``model``; vectors in input order.

        Inputs go in batches of at most ``batch_size`` (default: the provider's largest batch,
        2048 on OpenAI and 100 on Workers AI), up to ``max_concurrency`` (default 4) at once;
        each batch's :class:`GatewayInfo` is kept in ``result.infos``. ``cache="content"`` sends
        each batch with a ``cf-aig-cache-key`` hashed from its model, dimensions and texts and a
        one-month TTL, so re-embedding unchanged texts is a gateway cache hit. Vectors come as
        JSON floats, which every provider sends; ``encoding_format="base64"`` asks for smaller,
        faster float32 replies where the provider supports it (OpenAI). ``timeout`` (default:
        the gateway's) is one deadline for every batch together. Bad input raises
        :class:`ConfigurationError` before anything is sent.
        """
        plan = self._embedding_plan(
            inputs,
            model,
            dimensions,
            batch_size,
            max_concurrency,
            cache,
            encoding_format,
            options,
            timeout,
            extra_headers,
        )
        client = self.transport.client
        batches = plan.batches
        if len(batches) == 1:
            return plan.result([self._embed_batch(client, plan, 0)])
        from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait

        workers = min(plan.concurrency, len(batches))
        pool = ThreadPoolExecutor(workers, thread_name_prefix="cf-aig-embed")
        futures = [
            pool.submit(self._embed_batch, client, plan, number) for number in range(len(batches))
        ]
        try:
            wait(futures, return_when=FIRST_EXCEPTION)
        finally:
            # On the first failure, batches not started are dropped and the call raises at
            # once: batches already in flight end by the call's deadline and close their
            # responses themselves, in the background.
            pool.shutdown(wait=False, cancel_futures=True)
        for future in futures:
            if future.done() and not future.cancelled() and future.exception() is not None:
                raise future.exception()  # type: ignore[misc]
        return plan.result([future.result() for future in futures])

    async def aembed(  # type: ignore[misc]
        self: Gateway,
        inputs: Sequence[str],
        *,
        model: str,
        dimensions: int | None = None,
        batch_size: int | None = None,
        max_concurrency: int | None = None,
        cache: str | None = None,
        encoding_format: str = "float",
        options: OptionsLike = None,
        timeout: float | None = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> EmbeddingResult:
        """Async twin of :meth:`embed`: batches run as tasks, ``max_concurrency`` at once."""
        import asyncio

        plan = self._embedding_plan(
            inputs,
            model,
            dimensions,
            batch_size,
            max_concurrency,
            cache,
            encoding_format,
            options,
            timeout,
            extra_headers,
            asynchronous=True,
        )
        client = self.transport.aclient
        count = len(plan.batches)
        if count == 1:
            return plan.result([await self._aembed_batch(client, plan, 0)])
        gate = asyncio.Semaphore(plan.concurrency)

        async def run(number: int) -> Any:
            async with gate:
                return await self._aembed_batch(client, plan, number)

        tasks = [asyncio.ensure_future(run(number)) for number in range(count)]
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
        finally:
            for task in tasks:
                if not task.done():
                    task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        for task in tasks:
            if not task.cancelled() and task.exception() is not None:
                raise task.exception()  # type: ignore[misc]
        return plan.result([task.result() for task in tasks])

    def _embedding_plan(  # type: ignore[misc]
        self: Gateway,
        inputs: Any,
        model: Any,
        dimensions: Any,
        batch_size: Any,
        max_concurrency: Any,
        cache: Any,
        encoding_format: Any,
        options: OptionsLike,
        timeout: Any,
        extra_headers: Mapping[str, str] | None,
        *,
        asynchronous: bool = False,
    ) -> EmbeddingPlan:
        from .embedding_plan import EmbeddingPlan

        return EmbeddingPlan.build(
            self,
            inputs,
            model,
            dimensions,
            batch_size,
            max_concurrency,
            cache,
            encoding_format,
            self._headers(options, extra_headers),
            timeout,
            asynchronous=asynchronous,
        )

    def _embed_batch(self: Gateway, client: httpx.Client, plan: EmbeddingPlan, number: int) -> Any:  # type: ignore[misc]
        url, body, headers, timeout = plan.request(number)
        response = self.transport.send(
            lambda: self.transport.build_request(client, "POST", url, body, headers, stream=False),
            timeout=timeout,
        )
        return plan.parse(number, response, self.transport.secrets)

    async def _aembed_batch(  # type: ignore[misc]
        self: Gateway, client: httpx.AsyncClient, plan: EmbeddingPlan, number: int
    ) -> Any:
        url, body, headers, timeout = plan.request(number)
        response = await self.transport.asend(
            lambda: self.transport.build_request(client, "POST", url, body, headers, stream=False),
            timeout=timeout,
        )
        return plan.parse(number, response, self.transport.secrets)
