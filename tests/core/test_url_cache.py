"""Each endpoint's URL is parsed once per transport, not once per call.

Parsing a URL costs more than building the rest of a request; the transport keeps the parsed
``httpx.URL`` of each endpoint (a bounded number of them) and every call reuses it, on our own
clients and on a client the user passed in, sync and async.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from .testserver import Reply, TestServer


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    seen: list[str] = []
    original = httpx._urls.urlparse

    def counting(url: str = "", **kwargs: Any) -> Any:
        seen.append(url)
        return original(url, **kwargs)

    monkeypatch.setattr(httpx._urls, "urlparse", counting)
    return seen


@pytest.mark.parametrize("user_client", [False, True], ids=["own-client", "user-client"])
async def test_an_endpoint_url_is_parsed_once(
    make_gateway: Any, server: TestServer, parses: list[str], user_client: bool, wire: str
) -> None:
    kwargs: dict[str, Any] = {}
    if user_client:
        kwargs = {"http_client": httpx.Client(), "async_http_client": httpx.AsyncClient()}
    gw = make_gateway(**kwargs)
    url = gw.url("chat/completions")
    for _ in range(3):
        server.queue(Reply(body={"ok": 1}))
        assert gw.create("chat/completions", {"model": "m"}).body == {"ok": 1}
        server.queue(Reply(body={"ok": 2}))
        assert (await gw.acreate("chat/completions", {"model": "m"})).body == {"ok": 2}
    assert parses.count(url) == 1
    assert [r.path for r in server.requests] == [httpx.URL(url).raw_path.decode()] * 6
    if user_client:
        kwargs["http_client"].close()
        await kwargs["async_http_client"].aclose()


def test_the_kept_urls_are_bounded(make_gateway: Any) -> None:
    from cf_ai_gateway import transport

    gw = make_gateway()
    for i in range(transport._MAX_CACHED_URLS * 3):
        assert str(gw.transport.parsed_url(f"https://example.test/{i}")).endswith(f"/{i}")
    assert len(gw.transport._urls) <= transport._MAX_CACHED_URLS
