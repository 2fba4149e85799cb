"""``GatewayAuth``: an ``httpx.Auth`` that applies one of the gateway's auth modes.

- ``authenticated``: ``cf-aig-authorization: Bearer <token>`` and ``Authorization: Bearer <key>``;
- ``unauthenticated``: ``Authorization: Bearer <key>`` only;
- ``byok`` (stored keys or Unified Billing): ``cf-aig-authorization`` only, and any
  ``Authorization`` header that another layer (an OpenAI SDK, say) added is removed, so the
  gateway uses the stored key or credits instead of forwarding a placeholder upstream;
- ``rest``: ``Authorization: Bearer <Cloudflare API token>`` and ``cf-aig-gateway-id``.

Because it is a plain ``httpx.Auth``, it also serves httpx clients handed to other SDKs.
"""

from __future__ import annotations

from collections.abc import Generator

import httpx

from .config import GatewayConfig

__all__ = ["GatewayAuth"]


class GatewayAuth(httpx.Auth):
    """Sets the auth headers of ``config.auth_mode`` on every request it signs."""

    def __init__(self, config: GatewayConfig) -> None:
        self._set: dict[str, str] = {}
        self._remove: tuple[str, ...] = ()
        mode = config.auth_mode
        if mode == "rest":
            assert config.cf_api_token is not None
            self._set["Authorization"] = f"Bearer {config.cf_api_token.get_secret_value()}"
            self._set["cf-aig-gateway-id"] = config.gateway_id
            self._remove = ("cf-aig-authorization",)
        else:
            if mode in ("authenticated", "byok"):
                assert config.cf_aig_token is not None
                self._set["cf-aig-authorization"] = (
                    f"Bearer {config.cf_aig_token.get_secret_value()}"
                )
            else:
                self._remove = ("cf-aig-authorization",)
            if mode in ("authenticated", "unauthenticated"):
                assert config.api_key is not None
                self._set["Authorization"] = f"Bearer {config.api_key.get_secret_value()}"
            else:
                self._remove = ("authorization",)
        self.mode = mode

    def apply(self, headers: httpx.Headers) -> None:
        """Set and remove this mode's headers in place."""
        for name in self._remove:
            if name in headers:
                del headers[name]
        headers.update(self._set)

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        self.apply(request.headers)
        yield request

    def header_names(self) -> tuple[str, ...]:
        """The names of the headers this mode sends (values withheld)."""
        return tuple(self._set)

    def __repr__(self) -> str:
        return f"GatewayAuth(mode={self.mode!r})"
