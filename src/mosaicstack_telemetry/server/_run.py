"""Running the app with uvicorn: in a background thread for tests, or in the foreground (CLI).

A custom h11 protocol gives the app a way to reset its connection (the `drop` fault) and
implements `set_down`: while down, every new connection and every request on a kept-alive one
is reset (RST, via SO_LINGER 0), so clients see a network error rather than an HTTP status.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import socket
import struct
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import uvicorn
from starlette.applications import Starlette
from uvicorn.protocols.http.h11_impl import H11Protocol

from mosaicstack_telemetry.server._app import ABORT_EXTENSION, BODY_LIMIT, create_app
from mosaicstack_telemetry.server._faults import FaultConfig
from mosaicstack_telemetry.server._requestlog import RequestRecord
from mosaicstack_telemetry.server._state import ServerState

logger = logging.getLogger("mosaicstack_telemetry.server")
_LINGER_RESET = struct.pack("ii", 1, 0)


class NetworkControl:
    """Shared by every connection of one server: whether it is "down"."""

    def __init__(self) -> None:
        self.down = False


def protocol_class(control: NetworkControl) -> type[asyncio.Protocol]:
    """An H11Protocol bound to `control` (uvicorn instantiates the class itself)."""

    class ResettableH11Protocol(H11Protocol):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            inner = self.app

            async def app(scope: Any, receive: Any, send: Any) -> None:
                scope.setdefault("extensions", {})[ABORT_EXTENSION] = self.reset
                await inner(scope, receive, send)

            self.app = app

        def reset(self) -> None:
            """Close the socket with RST: the peer gets a connection reset, not an answer."""
            sock = self.transport.get_extra_info("socket")
            if sock is not None:
                with contextlib.suppress(OSError):  # already closed
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_RESET)
            self.transport.abort()

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            if control.down:
                self.reset()

        def data_received(self, data: bytes) -> None:
            if control.down:
                self.reset()
                return
            super().data_received(data)

    return ResettableH11Protocol


class _InProcessConfig(uvicorn.Config):
    """uvicorn's config minus its `configure_logging()`, which sets levels on the `uvicorn.*`
    loggers and detaches `uvicorn.access` even without a log config: in-process the host's
    logging (a user's pytest caplog included) stays as the host set it."""

    def configure_logging(self) -> None:
        pass


def make_config(
    app: Starlette,
    control: NetworkControl,
    log_level: str = "warning",
    *,
    own_logging: bool = False,
) -> uvicorn.Config:
    """`own_logging`: let uvicorn configure its loggers (the CLI); in-process it must not touch
    the host's logging, so its records just propagate."""
    config_class = uvicorn.Config if own_logging else _InProcessConfig
    return config_class(
        app,
        http=protocol_class(control),
        lifespan="off",
        log_level=log_level,
        log_config=uvicorn.config.LOGGING_CONFIG if own_logging else None,
        access_log=own_logging,
        timeout_graceful_shutdown=2,
        ws="none",
    )


def bind(host: str, port: int) -> socket.socket:
    """Bind the listening socket ourselves: port 0 picks a free port known before serving."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY on accepted sockets only when `proto` says
    # TCP, and without it every answer written in two parts waits ~40 ms for a delayed ACK.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.setblocking(False)
    return sock


def url_of(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def page_url(sock: socket.socket) -> str:
    """The live page's address: on a wildcard bind, the loopback one of the same family."""
    host, port = sock.getsockname()[:2]
    if host in ("0.0.0.0", "::"):  # noqa: S104  # recognizing the wildcard, not binding it
        host = "127.0.0.1" if host == "0.0.0.0" else "::1"  # noqa: S104
    return (f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}") + "/"


def exposure_warning(sock: socket.socket) -> str | None:
    """What to tell the user when the server listens beyond loopback; None when it does not."""
    host = sock.getsockname()[0]
    try:
        if ipaddress.ip_address(host.split("%", 1)[0]).is_loopback:
            return None
    except ValueError:
        pass
    return (
        f"the server listens on {host}, not only on loopback: anyone who can reach this port "
        "can read the page at / (every stored event of every instance and the request log; "
        "it needs no key) and query predictions. Use --host 127.0.0.1 (the default) unless "
        "other machines must reach it."
    )


class RunningServer:
    """A server running in a background thread; see `start_server`."""

    def __init__(self, app: Starlette, sock: socket.socket, control: NetworkControl) -> None:
        self.app = app
        self.url = url_of(sock)
        self._control = control
        self._state: ServerState = app.state.telemetry
        self._sock = sock
        self._server = uvicorn.Server(make_config(app, control))
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, name="mosaic-server", daemon=True
        )

    def _start(self, timeout: float = 10.0) -> None:
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the telemetry server did not start")
            time.sleep(0.002)

    def _stop(self, timeout: float = 5.0) -> None:
        self._control.down = False
        self._server.should_exit = True
        self._thread.join(timeout)
        if self._thread.is_alive():
            self._server.force_exit = True
            self._thread.join(timeout)
        self._sock.close()
        self._state.store.close()

    def set_down(self, down: bool) -> None:
        """While down, connections are reset at the network level (no HTTP answer)."""
        self._control.down = down

    @property
    def requests(self) -> list[RequestRecord]:
        return self._state.requests

    def deliveries(self) -> dict[str, int]:
        """How many authenticated event requests carried each event id."""
        return self._state.deliveries

    def stored_events(self) -> list[dict[str, Any]]:
        return self._state.store.events()

    def event_count(self) -> int:
        return self._state.store.count()


@contextmanager
def start_server(
    keys: Mapping[str, str] | None = None,
    *,
    faults: FaultConfig | None = None,
    db: str = ":memory:",
    host: str = "127.0.0.1",
    port: int = 0,
    body_limit: int = BODY_LIMIT,
) -> Iterator[RunningServer]:
    """Serve in a daemon thread (no signal handlers) until the block ends; port 0 = free port."""
    app = create_app(keys, db=db, faults=faults, body_limit=body_limit)
    try:
        sock = bind(host, port)
    except BaseException:
        app.state.telemetry.store.close()
        raise
    warning = exposure_warning(sock)
    if warning is not None:
        logger.warning(warning)
    server = RunningServer(app, sock, NetworkControl())
    try:
        server._start()
        yield server
    finally:
        server._stop()


def serve_forever(
    app: Starlette, host: str, port: int, log_level: str = "info", ready: Any = None
) -> None:
    """Run in the foreground with uvicorn's signal handling (the CLI). Says where the live
    page is, and warns on stderr when the server listens beyond loopback. Ctrl-C ends it
    gracefully and then raises `KeyboardInterrupt` (uvicorn passes the signal on)."""
    control = NetworkControl()
    sock = bind(host, port)
    warning = exposure_warning(sock)
    if warning is not None:
        print(f"warning: {warning}", file=sys.stderr, flush=True)
    if ready is not None:
        ready(url_of(sock))
    print(f"live page: {page_url(sock)} (read-only, needs no key)", flush=True)
    try:
        uvicorn.Server(make_config(app, control, log_level, own_logging=True)).run(sockets=[sock])
    finally:
        sock.close()
        app.state.telemetry.store.close()
