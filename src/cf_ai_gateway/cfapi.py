"""Requests to the Cloudflare API's logs endpoints, shared by feedback and the logs API.

Everything under ``{api_base_url}/accounts/{account}/ai-gateway/gateways/{gateway}/logs`` is
authenticated with ``Authorization: Bearer <Cloudflare API token>`` (``cf_api_token`` /
``CF_API_TOKEN``; the gateway token is not accepted there) and answers in the Cloudflare API
envelope ``{"success", "errors", "messages", "result", "result_info"}``. :class:`ApiCall` is one
checked request (the token stays out of its repr) and :func:`read_envelope` reads a reply into
its ``result`` and ``result_info``, turning bytes that are not the envelope into a
:class:`~cf_ai_gateway.MalformedResponseError` (a ``StreamError``) and an error envelope
into the typed error it names.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from . import jsontext
from .config import GatewayConfig
from .errors import ConfigurationError, MalformedResponseError, error_from_response, is_error_reply
from .transport import encode_body

__all__ = ["ApiCall", "api_headers", "read_envelope"]

_USER_AGENT = "cf-ai-gateway-python/0.1.0"


def api_headers(config: GatewayConfig, purpose: str, permission: str = "Edit") -> dict[str, str]:
    """The headers of a Cloudflare API call; a clear error when no API token is configured."""
    if config.cf_api_token is None:
        raise ConfigurationError(
            f"{purpose} needs a Cloudflare API token with AI Gateway {permission} permission: pass "
            "cf_api_token=... or set the CF_API_TOKEN environment variable (the gateway "
            "token, cf_aig_token / CF_AIG_TOKEN, is not accepted by the Cloudflare API)"
        )
    return {
        "authorization": f"Bearer {config.cf_api_token.get_secret_value()}",
        "accept": "application/json",
        "user-agent": _USER_AGENT,
    }


class ApiCall:
    """One checked Cloudflare API request: method, URL, query, JSON body and headers."""

    __slots__ = ("_headers", "body", "method", "params", "timeout", "url")

    def __init__(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        *,
        params: Mapping[str, str] | None = None,
        body: Any = None,
        timeout: float | None = None,
    ) -> None:
        self.method = method
        self.url = url
        self.params = dict(params or {})
        self.body = body
        self.timeout = timeout
        self._headers = dict(headers)
        if body is not None:
            self._headers["content-type"] = "application/json"

    def build(self, client: httpx.Client | httpx.AsyncClient) -> httpx.Request:
        content = encode_body(self.body) if self.body is not None else None
        extensions = (
            {"timeout": httpx.Timeout(self.timeout).as_dict()} if self.timeout is not None else None
        )
        return client.build_request(
            self.method,
            self.url,
            params=self.params or None,
            content=content,
            headers=self._headers,
            extensions=extensions,
        )

    def __repr__(self) -> str:
        return f"ApiCall({self.method} {self.url!r}, params={self.params!r}, body={self.body!r})"


def read_envelope(response: httpx.Response) -> tuple[Any, dict[str, Any]]:
    """The ``result`` and ``result_info`` of a Cloudflare API reply.

    A reply that is not JSON (or nests too deeply) raises :class:`MalformedResponseError`; a
    successful status carrying an error envelope raises the typed error it names; a reply
    without the envelope is returned whole as the result.
    """
    try:
        body = jsontext.loads(response.content) if response.content else {}
    except ValueError as exc:
        raise MalformedResponseError(
            "the Cloudflare API's reply is not valid JSON", status_code=response.status_code
        ) from exc
    if is_error_reply(body):
        raise error_from_response(response.status_code, response.headers, response.content)
    if isinstance(body, dict) and "result" in body:
        info = body.get("result_info")
        return body["result"], info if isinstance(info, dict) else {}
    return body, {}
