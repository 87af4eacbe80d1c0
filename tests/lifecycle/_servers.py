"""The servers of the lifecycle tests: the real local server (`start_server`) with the time
each request arrived, shared by many tests with a key each, and one that never answers."""

from __future__ import annotations

import secrets
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any


class _Arrivals:
    """ASGI middleware (outermost): when each request reached the server, on the shared clock,
    and with which API key (so tests sharing a server see only their own requests)."""

    def __init__(self, app: Any, log: list[tuple[float, str, str]]) -> None:
        self.app, self.log = app, log

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            auth = dict(scope["headers"]).get(b"authorization", b"").decode("latin-1")
            self.log.append((time.monotonic(), scope["path"], auth.rpartition(" ")[2]))
        await self.app(scope, receive, send)


@dataclass
class LocalServer:
    """The real local server (`start_server`) as one API key and its instance see it: the
    events stored for that instance, and when each request with that key arrived."""

    running: Any
    key: str
    instance: str
    _arrivals: list[tuple[float, str, str]]

    @property
    def url(self) -> str:
        return str(self.running.url)

    def stored_ids(self) -> list[str]:
        return [
            e["event_id"]
            for e in self.running.stored_events()
            if str(e["instance_id"]).lower() == self.instance
        ]

    def event_count(self) -> int:
        return len(self.stored_ids())

    def deliveries(self, ids: list[str]) -> dict[str, int]:
        """How many authenticated requests carried each of `ids`."""
        counts = self.running.deliveries()
        return {i: counts.get(i, 0) for i in ids}

    @property
    def requests(self) -> list[Any]:
        return list(self.running.requests)

    def set_down(self, down: bool) -> None:
        self.running.set_down(down)

    @property
    def arrivals(self) -> list[tuple[float, str]]:
        return self.arrivals_of(self.key)

    def arrivals_of(self, key: str) -> list[tuple[float, str]]:
        """The requests that carried `key`, with when they arrived."""
        return [(t, path) for t, path, k in list(self._arrivals) if k == key]

    def arrived_after(self, t: float) -> list[tuple[float, str]]:
        return [a for a in self.arrivals if a[0] > t]


class SharedServer:
    """One server for many tests: each test gets a key and an instance of its own."""

    def __init__(self, running: Any, pairs: list[tuple[str, str]], arrivals: list[Any]) -> None:
        self._running, self._pairs, self._arrivals = running, pairs, arrivals

    def view(self) -> LocalServer:
        assert self._pairs, "the shared server ran out of keys"
        key, instance = self._pairs.pop()
        return LocalServer(self._running, key, instance, self._arrivals)


@contextmanager
def shared_server(keys: int) -> Iterator[SharedServer]:
    pairs = [(secrets.token_hex(32), str(uuid.uuid4())) for _ in range(keys)]
    with _start(dict(pairs)) as (running, arrivals):
        yield SharedServer(running, pairs, arrivals)


@contextmanager
def local_server(faults: Any = None, *, body_limit: int | None = None) -> Iterator[LocalServer]:
    """A server of its own, for a test that injects faults or takes it down."""
    key, instance = secrets.token_hex(32), str(uuid.uuid4())
    with _start({key: instance}, faults, body_limit) as (running, arrivals):
        yield LocalServer(running, key, instance, arrivals)


@contextmanager
def _start(
    keys: dict[str, str], faults: Any = None, body_limit: int | None = None
) -> Iterator[tuple[Any, list[tuple[float, str, str]]]]:
    from mosaicstack_telemetry.server import start_server

    extra: dict[str, Any] = {} if body_limit is None else {"body_limit": body_limit}
    with start_server(keys=keys, faults=faults, **extra) as running:
        arrivals: list[tuple[float, str, str]] = []
        # Starlette builds its middleware stack on the first request: none has arrived yet.
        running.app.add_middleware(_Arrivals, log=arrivals)
        yield running, arrivals


class SilentServer:
    """Accepts connections and reads requests, but never answers; records each request's start."""

    def __init__(self) -> None:
        self.key = secrets.token_hex(32)
        self.instance = str(uuid.uuid4())
        self.arrivals: list[tuple[float, str]] = []
        self._listener = socket.socket()
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(64)
        self._listener.settimeout(0.05)
        self._done = threading.Event()
        self._conns: list[socket.socket] = []
        self._threads = [threading.Thread(target=self._accept, daemon=True)]
        self._threads[0].start()
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"

    def _accept(self) -> None:
        while not self._done.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self._conns.append(conn)
            thread = threading.Thread(target=self._read, args=(conn,), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _read(self, conn: socket.socket) -> None:
        conn.settimeout(0.05)
        while not self._done.is_set():
            try:
                data = conn.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                return
            if not data:
                return
            if data.startswith((b"POST ", b"GET ")):
                self.arrivals.append((time.monotonic(), data.split(b" ", 2)[1].decode()))

    def arrived_after(self, t: float) -> list[tuple[float, str]]:
        return [a for a in list(self.arrivals) if a[0] > t]

    def close(self) -> None:
        self._done.set()
        for thread in self._threads:
            thread.join(5)
        for conn in self._conns:
            conn.close()
        self._listener.close()
