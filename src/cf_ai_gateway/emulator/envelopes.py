"""Error and success bodies exactly as Cloudflare AI Gateway, the Cloudflare API and OpenAI send them.

Three shapes exist on the wire: the gateway's own errors (``error`` singular array plus ``name``,
``httpCode``, ``internalCode`` and ``message``), the Cloudflare API envelope (``errors`` plural,
``result``, ``success``, ``messages``) used by the REST surface and the logs API, and the provider's
own errors that the gateway passes through unchanged (OpenAI's ``{"error": {...}}``). Every
function here returns ``(status, body)`` or a body dict; nothing is sent from this module.
"""

from __future__ import annotations

from typing import Any

# Documented codes: (HTTP status, message). Sources: the gateway reference, section 4.2.
GATEWAY_CODES: dict[int, tuple[int, str]] = {
    2001: (400, "Please configure AI Gateway in the Cloudflare dashboard"),
    2003: (429, "Rate limited"),
    2005: (502, "Failed to get response from provider"),
    2008: (400, "Invalid provider"),
    2009: (401, "Unauthorized"),
    2016: (400, "Prompt blocked due to security configurations"),
    2017: (400, "Response blocked due to security configurations"),
    2019: (400, "Chat completion bad format"),
    2021: (402, "Insufficient balance; add money to your gateway or use BYOK"),
    2029: (400, "Request content blocked due to DLP policy violations"),
    2030: (400, "Response content blocked due to DLP policy violations"),
    2040: (400, "Provider has no BYOK credential with that alias"),  # the real message names both
    2041: (429, "Spend limit exceeded"),
    2045: (429, "Spend limit exceeded"),
    3040: (429, "Capacity temporarily exceeded, please try again"),
    7000: (400, "No route for that URI"),
    7001: (405, "Method not supported for requested URI"),
    7003: (400, "User Input Error"),
}

# The gateway's answer when ``cf-aig-request-timeout`` passes before the first byte. Cloudflare
# does not document this body; the emulator answers 504 with the gateway envelope and this code.
REQUEST_TIMEOUT_CODE = 2015
REQUEST_TIMEOUT_MESSAGE = "Request timed out waiting for the provider (cf-aig-request-timeout)"

# Codes whose documented bodies carry only the four basic fields.
_MINIMAL_ENVELOPE_CODES = frozenset({2001})


def gateway_error(
    code: int, message: str | None = None, status: int | None = None
) -> tuple[int, dict[str, Any]]:
    """The gateway's own error envelope for ``code`` (``error`` singular), with its HTTP status."""
    default_status, default_message = GATEWAY_CODES.get(code, (500, "Internal gateway error"))
    if code == REQUEST_TIMEOUT_CODE:
        default_status, default_message = 504, REQUEST_TIMEOUT_MESSAGE
    http_status = status if status is not None else default_status
    text = message if message is not None else default_message
    body: dict[str, Any] = {
        "success": False,
        "result": [],
        "messages": [],
        "error": [{"code": code, "message": text}],
    }
    if code not in _MINIMAL_ENVELOPE_CODES:
        body.update(
            {
                "name": "AiGatewayError",
                "httpCode": http_status,
                "internalCode": code,
                "message": text,
            }
        )
    return http_status, body


def api_error(code: int, message: str, status: int) -> tuple[int, dict[str, Any]]:
    """The Cloudflare API error envelope (``errors`` plural), as the REST surface answers."""
    return status, {
        "result": None,
        "success": False,
        "errors": [{"code": code, "message": message}],
        "messages": [],
    }


def api_auth_error() -> tuple[int, dict[str, Any]]:
    """A missing or invalid Cloudflare API token: 401, code 10000."""
    return api_error(10000, "Authentication error", 401)


def api_success(result: Any, result_info: dict[str, Any] | None = None) -> dict[str, Any]:
    """The Cloudflare API success envelope."""
    body: dict[str, Any] = {"success": True, "result": result, "errors": [], "messages": []}
    if result_info is not None:
        body["result_info"] = result_info
    return body


def openai_error(
    message: str,
    *,
    type_: str = "invalid_request_error",
    param: str | None = None,
    code: str | None = None,
) -> dict[str, Any]:
    """An OpenAI-shaped error body, as a provider error passed through by the gateway."""
    return {"error": {"message": message, "type": type_, "param": param, "code": code}}


def missing_key_error() -> tuple[int, dict[str, Any]]:
    """OpenAI's 401 for a request without any API key."""
    return 401, openai_error(
        "You didn't provide an API key. You need to provide your API key in an Authorization header "
        "using Bearer auth (i.e. Authorization: Bearer YOUR_KEY), or as the password field (with "
        "blank username) if you're accessing the API from your browser and are prompted for a "
        "username and password. You can obtain an API key from https://platform.openai.com/account/api-keys."
    )


def invalid_key_error(key: str) -> tuple[int, dict[str, Any]]:
    """OpenAI's 401 for a wrong API key. The key is masked: only a short prefix is shown."""
    prefix = key.split("-", 1)[0] + "-" if "-" in key[:8] else ""
    return 401, openai_error(
        f"Incorrect API key provided: {prefix}***. You can find your API key at "
        "https://platform.openai.com/account/api-keys.",
        code="invalid_api_key",
    )


# Provider-style bodies for injected faults without a gateway code.
_PROVIDER_STATUS_MESSAGES: dict[int, tuple[str, str, str | None]] = {
    400: ("Bad request.", "invalid_request_error", None),
    401: ("Invalid authentication.", "invalid_request_error", "invalid_api_key"),
    403: ("You are not allowed to access this resource.", "invalid_request_error", None),
    404: (
        "The model does not exist or you do not have access to it.",
        "invalid_request_error",
        "model_not_found",
    ),
    408: ("Request timed out.", "server_error", None),
    429: (
        "Rate limit reached for requests. Please try again shortly.",
        "requests",
        "rate_limit_exceeded",
    ),
    500: (
        "The server had an error while processing your request. Sorry about that!",
        "server_error",
        None,
    ),
    502: ("Bad gateway.", "server_error", None),
    503: ("The engine is currently overloaded, please try again later.", "server_error", None),
    504: ("Gateway timeout.", "server_error", None),
}


def provider_error(status: int, message: str | None = None) -> dict[str, Any]:
    """An OpenAI-shaped error body for ``status``, as a passed-through provider failure."""
    default_message, type_, code = _PROVIDER_STATUS_MESSAGES.get(
        status,
        (
            f"Provider error (HTTP {status}).",
            "server_error" if status >= 500 else "invalid_request_error",
            None,
        ),
    )
    return openai_error(message or default_message, type_=type_, code=code)
