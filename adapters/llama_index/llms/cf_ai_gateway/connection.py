"""``GatewayConnectionFields``: the connection fields the LlamaIndex classes share.

The LLM and the embedding model both inherit this pydantic mixin. It declares the fields that say
how to reach the gateway (account, gateway, provider, secrets, auth mode, base URL, gateway
options, headers, timeout, retries, pool limits), builds the core :class:`cf_ai_gateway.Gateway`
from the constructor's arguments, whose resolved values (environment defaults included) it
stores, and builds it again after a connection field changes. Secrets are ``SecretStr`` fields
kept out of ``repr``, ``to_dict()`` and ``to_json()``; copies and pickles never share or carry an
HTTP client. ``Gateway`` loads when the first client is built, so importing a class that inherits
this mixin costs no HTTP stack.
"""

# Annotations are evaluated here, not postponed: pydantic then reads the field types as they
# are, instead of compiling each from a string, for this class and each class inheriting it.
import threading
from collections.abc import Collection, Mapping
from typing import TYPE_CHECKING, Any

from llama_index.core.bridge.pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    SecretStr,
    ValidationError,
)

from cf_ai_gateway import ConfigurationError
from cf_ai_gateway.config import DEFAULT_BASE_URL

from .settings import (
    CONNECTION_FIELDS,
    SECRET_FIELDS,
    check_base_url,
    secret_or_none,
    secret_value,
    stored_secret,
    unknown_arguments_message,
    validation_message,
)

if TYPE_CHECKING:
    from typing_extensions import Self

    from cf_ai_gateway import Gateway

__all__ = ["GatewayConnectionFields"]

# Guards the lazy creation of each model's client (rare, so one lock for all models): threads
# that ask at once share one client instead of each building one and leaving the others open.
_GATEWAY_LOCK = threading.Lock()


def _build_gateway(arguments: Mapping[str, Any]) -> "Gateway":
    """The core client from those ``arguments`` that are :data:`CONNECTION_FIELDS`."""
    from cf_ai_gateway import Gateway

    check_base_url(arguments.get("base_url"))
    return Gateway(**{name: arguments[name] for name in CONNECTION_FIELDS if name in arguments})


class GatewayConnectionFields(BaseModel):
    """Connection fields and the core client built from them (a pydantic mixin)."""

    # Only the classes that inherit the fields are validated: this one builds no schema at import.
    model_config = ConfigDict(defer_build=True)

    account_id: str = Field(description="Cloudflare account id.")
    gateway_id: str = Field(default="default", description="AI Gateway id.")
    provider: str = Field(default="openai", description="Provider slug, e.g. 'openai', 'groq'.")
    api_key: SecretStr | None = Field(
        default=None, exclude=True, repr=False, description="Provider API key."
    )
    cf_aig_token: SecretStr | None = Field(
        default=None, exclude=True, repr=False, description="AI Gateway token."
    )
    auth_mode: str | None = Field(
        default=None, description="'authenticated', 'unauthenticated' or 'byok'; inferred if unset."
    )
    base_url: str = Field(default=DEFAULT_BASE_URL, description="AI Gateway API root.")
    allow_insecure_http: bool | None = Field(
        default=None,
        description="Allow a plain http:// base_url to another machine "
        "(None: CF_AIG_ALLOW_INSECURE_HTTP).",
    )
    gateway_options: dict[str, Any] | None = Field(
        default=None, description="Gateway options (cf-aig-* headers) for every call."
    )
    default_headers: dict[str, str] | None = Field(
        default=None, description="Extra HTTP headers for every request."
    )
    timeout: float | None = Field(default=60.0, description="Request timeout in seconds.")
    max_retries: int = Field(
        default=2, description="Retries after the first attempt (in the core)."
    )
    max_connections: int | None = Field(
        default=None,
        description="Connections per HTTP client pool; more concurrent calls wait their turn "
        "(None: CF_AIG_MAX_CONNECTIONS, else 100).",
    )
    max_keepalive: int | None = Field(
        default=None,
        description="Idle connections kept for reuse (None: CF_AIG_MAX_KEEPALIVE, else "
        "max_connections).",
    )

    _gateway: "Gateway | None" = PrivateAttr(default=None)

    if TYPE_CHECKING:

        @classmethod
        def class_name(cls) -> str: ...  # LlamaIndex's BaseComponent gives it

    # -- construction -----------------------------------------------------------------------

    def __init__(self, **values: Any) -> None:
        """Store the field values; a value pydantic refuses raises ``ConfigurationError``."""
        try:
            super().__init__(**values)
        except ValidationError as exc:
            raise ConfigurationError(validation_message(exc, self.class_name())) from None

    @classmethod
    def _check_arguments(cls, base_url: Any, names: Collection[str]) -> None:
        """Refuse a ``base_url`` that is not a string and arguments that name no field."""
        check_base_url(base_url)
        unknown = sorted(set(names) - set(cls.model_fields))
        if unknown:
            raise ConfigurationError(unknown_arguments_message(unknown, cls.class_name()))

    @staticmethod
    def _connect(arguments: Mapping[str, Any]) -> tuple["Gateway", dict[str, Any]]:
        """The core client built from the constructor's ``arguments``, and the values to store.

        The core resolves the connection and the environment, as for every other client; the
        stored values hold what it resolved (ids, secrets, base URL) and the gateway options as
        a dict. Secrets stay wrapped (``SecretStr``) until the auth header is built.
        """
        from cf_ai_gateway import GatewayOptions

        values = dict(arguments)
        values["gateway_options"] = (
            GatewayOptions.coerce(values.get("gateway_options")).to_dict() or None
        )
        for name in ("api_key", "cf_aig_token"):
            values[name] = secret_or_none(values.get(name), name)
        gateway = _build_gateway(values)
        config = gateway.config
        values.update(
            account_id=config.account_id,
            gateway_id=config.gateway_id,
            provider=config.provider,
            api_key=values["api_key"] or stored_secret(config.api_key),
            cf_aig_token=values["cf_aig_token"] or stored_secret(config.cf_aig_token),
            base_url=config.base_url,
        )
        return gateway, values

    # -- the client -------------------------------------------------------------------------

    def __setattr__(self, name: str, value: Any) -> None:
        if name in SECRET_FIELDS and value is not None and not isinstance(value, SecretStr):
            value = SecretStr(secret_value(value, name) or "")
        super().__setattr__(name, value)
        if name in CONNECTION_FIELDS:
            self._gateway = None

    def _new_gateway(self) -> "Gateway":
        fields = type(self).model_fields
        return _build_gateway(
            {name: getattr(self, name) for name in fields if name in CONNECTION_FIELDS}
        )

    @property
    def gateway(self) -> "Gateway":
        """The core client, created from the connection fields (again after they change)."""
        gateway = self._gateway
        if gateway is None:
            with _GATEWAY_LOCK:
                gateway = self._gateway
                if gateway is None:
                    gateway = self._gateway = self._new_gateway()
        return gateway

    def __getstate__(self) -> dict[Any, Any]:
        state = super().__getstate__()
        private = state.get("__pydantic_private__")
        if isinstance(private, dict):
            state["__pydantic_private__"] = {**private, "_gateway": None}
        return state

    def __deepcopy__(self, memo: dict[int, Any] | None = None) -> "Self":
        memo = {} if memo is None else memo
        if self._gateway is not None:
            memo[id(self._gateway)] = None  # the copy builds its own client
        return super().__deepcopy__(memo)

    def close(self) -> None:
        """Close the pooled HTTP connections (they reopen on the next call)."""
        if self._gateway is not None:
            self._gateway.close()

    async def aclose(self) -> None:
        """Close the pooled HTTP connections (they reopen on the next call)."""
        if self._gateway is not None:
            await self._gateway.aclose()
