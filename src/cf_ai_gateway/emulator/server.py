"""The :class:`Emulator`: a local Cloudflare AI Gateway on a real HTTP server, for tests and demos.

It runs uvicorn in a background thread on a free port (or the one given), starts in well under a
second and stops cleanly. Tests use it as a context manager, sync or async; the CLI serves it in
the foreground. The object is also the test's remote control: it shows the received requests and
the gateway logs, queues exact replies, injects faults, moves the clock, changes settings on the
fly, and resets everything between tests.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Callable, Iterable
from types import TracebackType
from typing import Any

import uvicorn

from .app import EmulatorApp
from .envelopes import GATEWAY_CODES, REQUEST_TIMEOUT_CODE
from .logs import LogEntry
from .scripting import Fault, Reply
from .state import (
    DEFAULT_ACCOUNT_ID,
    DEFAULT_MAX_ENTRIES,
    EmulatorSettings,
    EmulatorState,
    RecordedRequest,
)
from .streaming import install_log_filter

PLACEHOLDER_PROVIDER_KEY = "sk-emulator-placeholder"
PLACEHOLDER_API_TOKEN = "emulator-api-token"


class Emulator:
    """A local AI Gateway. ``with Emulator() as emu:`` serves it on ``emu.base_url``.

    Args:
        authenticated: whether the gateway requires its token, as every gateway created since
            2026-11-03 does (the default). ``cf-aig-authorization: Bearer <token>`` is then
            required (else 401, code 2009), and a request without a provider key is served with
            a stored key (BYOK); the provider SDK form with the token as its API key works too.
            ``authenticated=False`` is an older, unauthenticated gateway: no token, and a request
            without a provider key gets the provider's own 401.
        token: the gateway token of an authenticated gateway. When None, a random one is
            generated; read it from :attr:`token` or :meth:`env`.
        api_token: Cloudflare API token required by the logs/feedback API and the REST surface
            (``Authorization: Bearer <api_token>``). When None, the logs API needs no token and the
            REST surface accepts any bearer token (``env()`` hands over a placeholder).
        api_key: the provider key the emulated provider accepts. When None, any key is accepted;
            otherwise another key gets OpenAI's ``invalid_api_key`` 401.
        gateways: the gateway ids that exist. When None, every id exists; otherwise others get
            400, code 2001.
        rate_limit: requests allowed per ``rate_limit_window`` seconds per gateway; more get 429,
            code 2003 (cache hits are exempt).
        rate_limit_window: the rate-limit window in seconds (fixed windows, aligned to the clock).
        cache_ttl: the gateway's default cache TTL in seconds, which turns caching on for every
            request. When None (a new gateway: caching off), only requests that send
            ``cf-aig-cache-key`` are cached (for ``cf-aig-cache-ttl`` seconds, else five minutes).
        stored_keys: whether an authenticated gateway has stored provider keys (BYOK).
        stored_key_aliases: the aliases of those keys; a ``cf-aig-byok-alias`` naming another gets
            400, code 2040.
        collect_logs: the gateway's log setting (``cf-aig-collect-log`` overrides it per request).
        stream_chunks: make every text answer exactly this many words (one stream delta each).
        logs_api: False emulates an account on Logs powered by Workers Observability (created on
            or after 2026-09-24): the logs API answers 404, code 7000, for every logs URL.
        otel_exporter: where the gateway exports its own span per logged request: an OTLP/HTTP
            JSON collector URL, an OpenTelemetry SDK ``SpanExporter``, or a callable receiving a
            :class:`~cf_ai_gateway.emulator.otel.GatewaySpan` (see :mod:`.otel`).
        max_entries: the size of each store (recorded requests, logs, cache, stored responses);
            the oldest entries are evicted first.
        account_id: the account id that :meth:`env` and :attr:`gateway_url` use (any is accepted).
        host, port: where to listen; port 0 picks a free port.
        clock: a zero-argument callable returning epoch seconds; defaults to ``time.time``.
            :meth:`advance` moves the emulator's clock forward on top of it.
        log_level: uvicorn's log level.
        **features: the gateway-feature settings of :class:`EmulatorSettings`: retries
            (``retry_max_attempts``, ``retry_delay``, ``retry_backoff``), ``byok_only``,
            Unified Billing ``credits`` and ``unified_billing_rate_limit``, dynamic ``routes``,
            ``guardrails``, ``dlp``, ``policies``, ``spend_limits`` and ``auto_router_models`` (see
            docs/emulator.md, "Gateway features").
    """

    def __init__(
        self,
        *,
        authenticated: bool = True,
        token: str | None = None,
        api_token: str | None = None,
        api_key: str | None = None,
        gateways: Iterable[str] | None = None,
        rate_limit: int | None = None,
        rate_limit_window: float = 60.0,
        cache_ttl: int | None = None,
        stored_keys: bool = True,
        stored_key_aliases: Iterable[str] = ("default",),
        collect_logs: bool = True,
        stream_chunks: int | None = None,
        logs_api: bool = True,
        otel_exporter: Any = None,
        max_entries: int = DEFAULT_MAX_ENTRIES,
        account_id: str = DEFAULT_ACCOUNT_ID,
        host: str = "127.0.0.1",
        port: int = 0,
        clock: Callable[[], float] | None = None,
        log_level: str = "warning",
        **features: Any,
    ) -> None:
        settings = EmulatorSettings().replace(
            authenticated=authenticated,
            token=token,
            api_token=api_token,
            api_key=api_key,
            gateways=frozenset(gateways) if gateways is not None else None,
            rate_limit=rate_limit,
            rate_limit_window=rate_limit_window,
            cache_ttl=cache_ttl,
            stored_keys=stored_keys,
            stored_key_aliases=tuple(stored_key_aliases),
            collect_logs=collect_logs,
            stream_chunks=stream_chunks,
            max_entries=max_entries,
            logs_api=logs_api,
            otel_exporter=otel_exporter,
            **features,
        )
        self._state = EmulatorState(settings, account_id, clock)
        self._app = EmulatorApp(self._state)
        self.host = host
        self._requested_port = port
        self._port: int | None = None
        self._log_level = log_level
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None

    # -- lifecycle --

    def _bind(self) -> socket.socket:
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY on accepted connections only when the
        # socket says it is TCP (proto 0 does not), and accepted sockets inherit the listener's.
        # Without it, Nagle plus the client's delayed ACK add ~40 ms to every request.
        sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            sock.bind((self.host, self._requested_port))
        except OSError:
            sock.close()
            raise
        sock.set_inheritable(True)
        return sock

    def _make_server(self) -> uvicorn.Server:
        install_log_filter()
        config = uvicorn.Config(
            self._app.asgi,
            log_config=None,
            log_level=self._log_level,
            access_log=False,
            lifespan="off",
            loop="asyncio",
            http="h11",
            ws="none",
            timeout_graceful_shutdown=1,
            timeout_keep_alive=5,
        )
        return uvicorn.Server(config)

    def start(self) -> Emulator:
        """Start serving in a background thread; returns once the server accepts connections."""
        if self._thread is not None:
            return self
        self._socket = self._bind()
        self._port = self._socket.getsockname()[1]
        self._server = self._make_server()
        self._thread = threading.Thread(
            target=self._server.run,
            kwargs={"sockets": [self._socket]},
            name=f"cf-ai-gateway-emulator:{self._port}",
            daemon=True,
        )
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("the AI Gateway emulator failed to start")
            time.sleep(0.002)
        return self

    def stop(self) -> None:
        """Stop serving and release the port (idempotent)."""
        server, thread, sock = self._server, self._thread, self._socket
        self._server = self._thread = self._socket = None
        if server is not None:
            server.should_exit = True
            server.force_exit = True
        if thread is not None:
            thread.join(timeout=10)
        if sock is not None:
            sock.close()

    def serve_forever(self, on_ready: Callable[[], None] | None = None) -> None:
        """Serve in the calling thread until interrupted (Ctrl-C, SIGTERM); used by the CLI.

        ``on_ready`` runs once the port is bound (so :attr:`port` is known), before serving.
        """
        self._socket = self._bind()
        self._port = self._socket.getsockname()[1]
        if on_ready is not None:
            on_ready()
        server = self._make_server()
        self._server = server
        try:
            server.run(sockets=[self._socket])
        finally:
            self._socket.close()
            self._server = self._socket = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    async def __aenter__(self) -> Emulator:
        return await asyncio.to_thread(self.start)

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await asyncio.to_thread(self.stop)

    # -- addresses --

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("the emulator is not started")
        return self._port

    @property
    def root_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def base_url(self) -> str:
        """The gateway API root; requests go to ``{base_url}/{account}/{gateway}/{provider}/{endpoint}``."""
        return f"{self.root_url}/v1"

    @property
    def api_base_url(self) -> str:
        """The Cloudflare API root (``…/client/v4``): the REST surface and the logs API."""
        return f"{self.root_url}/client/v4"

    @property
    def account_id(self) -> str:
        return self._state.account_id

    def gateway_url(self, gateway_id: str = "default", provider: str = "openai") -> str:
        """The provider-native base URL, e.g. for an OpenAI SDK ``base_url``."""
        return f"{self.base_url}/{self.account_id}/{gateway_id}/{provider}"

    @property
    def token(self) -> str | None:
        """The gateway token (None for an unauthenticated gateway)."""
        return self._state.settings.token

    def env(self, gateway_id: str | None = None) -> dict[str, str]:
        """Environment variables that point the library (and its CLI) at this emulator.

        An authenticated gateway gets ``CF_AIG_TOKEN`` (and ``OPENAI_API_KEY`` only when
        ``api_key`` is set: otherwise the stored key pays); an unauthenticated one gets a
        provider key.
        """
        settings = self._state.settings
        values = {
            "CF_ACCOUNT_ID": self.account_id,
            "CF_AIG_BASE_URL": self.base_url,
            "CF_API_BASE_URL": self.api_base_url,
        }
        gateway = gateway_id or (sorted(settings.gateways)[0] if settings.gateways else None)
        if gateway:
            values["CF_AIG_GATEWAY_ID"] = gateway
        if settings.token is not None:
            values["CF_AIG_TOKEN"] = settings.token
            if settings.api_key is not None:
                values["OPENAI_API_KEY"] = settings.api_key
        else:
            values["OPENAI_API_KEY"] = settings.api_key or PLACEHOLDER_PROVIDER_KEY
        # The logs API accepts any Cloudflare API token unless one was set.
        values["CF_API_TOKEN"] = settings.api_token or PLACEHOLDER_API_TOKEN
        return values

    # -- what happened --

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request received, oldest first (headers with lower-case names)."""
        return self._state.requests()

    @property
    def last_request(self) -> RecordedRequest | None:
        received = self._state.requests()
        return received[-1] if received else None

    @property
    def logs(self) -> list[LogEntry]:
        """The gateway log entries, oldest first."""
        return self._state.logs.snapshot()

    def log(self, log_id: str) -> LogEntry | None:
        """The log entry with this id, if any."""
        return self._state.logs.find(log_id)

    @property
    def errors(self) -> list[str]:
        """Tracebacks of unexpected errors inside the emulator (should stay empty)."""
        return list(self._app.errors)

    # -- steering --

    def script(
        self,
        json: Any = None,
        *,
        sse: str | list[Any] | None = None,
        error: int | dict[str, Any] | None = None,
        text: str | None = None,
        tool_calls: list[dict[str, Any]] | None = None,
        status: int | None = None,
        headers: dict[str, str] | None = None,
        endpoint: str | None = None,
        times: int | None = 1,
    ) -> Reply:
        """Queue an exact reply for the next ``times`` model requests (None: until reset).

        Give one of: ``json`` (a body, sent with ``status``), ``sse`` (raw SSE text, or a list of
        events), ``error`` (a gateway error code like ``2009``, or ``{"code", "message",
        "status"}``), or ``text`` / ``tool_calls`` (``[{"name": ..., "arguments": {...}}]``), which
        are rendered for the endpoint, streamed or not. ``endpoint`` limits the reply to
        ``"chat/completions"``, ``"responses"`` or ``"embeddings"``.
        """
        given = [v for v in (json, sse, error) if v is not None] + (
            [True] if text is not None or tool_calls else []
        )
        if len(given) != 1:
            raise ValueError("script() takes exactly one of json, sse, error, or text/tool_calls")
        reply = Reply(
            json=json,
            sse=sse,
            error=error,
            text=text,
            tool_calls=tool_calls,
            status=status,
            headers=dict(headers or {}),
            endpoint=endpoint,
            times=times,
        )
        self._state.scripts.add_reply(reply)
        return reply

    def fault(
        self,
        status: int | None = None,
        *,
        code: int | None = None,
        message: str | None = None,
        body: Any = None,
        retry_after: float | None = None,
        headers: dict[str, str] | None = None,
        delay: float = 0.0,
        event_delay: float = 0.0,
        cut_after: int | None = None,
        abort: bool = True,
        garbage: bool = False,
        endpoint: str | None = None,
        times: int | None = 1,
        model: str | None = None,
    ) -> Fault:
        """Inject a fault into the next ``times`` model requests (None: until reset).

        ``status`` answers an error (with ``code``: the gateway's envelope for that code; without:
        an OpenAI-shaped provider error; ``body`` replaces either) and ``retry_after`` adds a
        ``Retry-After`` header. ``delay`` waits before the first byte (a smaller
        ``cf-aig-request-timeout`` gets the gateway's 504 instead). ``event_delay`` pauses between
        stream events. ``cut_after`` ends a stream after that many events without its terminal
        event (``abort=True`` drops the connection; ``False`` ends the body cleanly). ``garbage``
        sends bytes that parse as neither JSON nor SSE. ``model`` limits the fault to upstream
        calls for that model (a dynamic route's primary, say).

        Each upstream attempt takes one fault: with gateway retries (``cf-aig-max-attempts: 3``),
        ``fault(503, times=2)`` fails two attempts and the third succeeds.
        """
        if code is not None and status is None:
            status = _status_for_code(code)
        fault = Fault(
            status=status,
            code=code,
            message=message,
            body=body,
            retry_after=retry_after,
            headers=dict(headers or {}),
            delay=delay,
            event_delay=event_delay,
            cut_after=cut_after,
            abort=abort,
            garbage=garbage,
            endpoint=endpoint,
            times=times,
            model=model,
        )
        self._state.scripts.add_fault(fault)
        return fault

    def configure(self, **settings: Any) -> None:
        """Change settings while serving (same names as the constructor's gateway settings).

        ``authenticated=False`` drops the token; ``authenticated=True`` generates one if needed.
        :meth:`reset` restores the values the emulator was created with.
        """
        self._state.configure(**settings)

    @property
    def settings(self) -> EmulatorSettings:
        return self._state.settings

    @property
    def credits_remaining(self) -> float | None:
        """Unified Billing credits left (USD), or None when ``credits`` is not set."""
        settings = self._state.settings
        if settings.credits is None:
            return None
        return settings.credits - self._state.features.credits_spent

    def advance(self, seconds: float) -> None:
        """Move the emulator's clock forward (cache expiry, rate-limit windows)."""
        self._state.clock.advance(seconds)

    def now(self) -> float:
        """The emulator's current time, in epoch seconds."""
        return self._state.clock.now()

    def reset(self) -> None:
        """Clear requests, logs, cache, queued replies and faults, clock offset and setting changes."""
        self._state.reset()
        self._app.errors.clear()

    def __repr__(self) -> str:
        where = self.root_url if self._port is not None else "not started"
        return f"Emulator({where}, authenticated={self._state.settings.token is not None})"


def _status_for_code(code: int) -> int:
    if code == REQUEST_TIMEOUT_CODE:
        return 504
    return GATEWAY_CODES.get(code, (500, ""))[0]
