"""Sockets that keep a whole request within its budget, for the HTTP wire's sync pool.

httpx's timeouts apply to each socket operation, so a server that dribbles its answer one byte
at a time could hold a request for ever. The network backend here clamps every connect, read
and write to what is left of the request's `Budget`, and reads in short slices so that a budget
`stop()` cuts short ends a read already waiting.
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import httpx

if TYPE_CHECKING:
    import httpcore

    from mosaicstack_telemetry._wire import Budget

#: The budget of the request this thread is sending, if any (set by the HTTP wire).
current = threading.local()
#: A read waits at most this long at a time, so a budget cut short by `stop()` is noticed.
READ_SLICE = 0.1


def _left(timeout: float | None) -> float | None:
    """What is left of this thread's request budget, within `timeout`; raises when spent."""
    budget: Budget | None = getattr(current, "budget", None)
    if budget is None:
        return timeout
    left = budget.end - time.monotonic()
    if left <= 0:
        import httpcore

        raise httpcore.ReadTimeout("the request's budget is spent")
    return left if timeout is None else min(timeout, left)


def _sliced_read(inner: Any, max_bytes: int, timeout: float | None) -> bytes:
    """Read in slices of `READ_SLICE`, re-checking the budget between them. A read that times
    out on a socket consumed nothing, so it can be tried again."""
    import httpcore

    end = None if timeout is None else time.monotonic() + timeout
    while True:
        left = _left(None if end is None else end - time.monotonic())
        if left is not None and left <= 0:
            raise httpcore.ReadTimeout("timed out")
        try:
            data: bytes = inner.read(
                max_bytes, READ_SLICE if left is None else min(left, READ_SLICE)
            )
        except httpcore.ReadTimeout:
            continue
        return data


@functools.cache
def _deadline_backend_class() -> type[httpcore.NetworkBackend]:
    """The deadline-aware network backend, defined on first use (httpcore loads lazily)."""
    import httpcore

    class _DeadlineStream(httpcore.NetworkStream):
        """A socket whose every read and write is bounded by the whole request's deadline.

        httpx's timeouts apply to each socket operation: a server that dribbles its answer one
        byte at a time could hold a request for ever. Clamping each operation to what is left
        of the request's budget bounds the request as a whole, headers included; reads wait in
        short slices, so a budget that `stop()` cuts short ends a read already waiting.
        """

        def __init__(self, inner: httpcore.NetworkStream) -> None:
            self._inner = inner

        def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
            return _sliced_read(self._inner, max_bytes, timeout)

        def write(self, buffer: bytes, timeout: float | None = None) -> None:
            self._inner.write(buffer, _left(timeout))

        def close(self) -> None:
            self._inner.close()

        def start_tls(
            self,
            ssl_context: Any,
            server_hostname: str | None = None,
            timeout: float | None = None,
        ) -> httpcore.NetworkStream:
            inner = self._inner.start_tls(ssl_context, server_hostname, _left(timeout))
            return _DeadlineStream(inner)

        def get_extra_info(self, info: str) -> Any:
            return self._inner.get_extra_info(info)

    class _DeadlineBackend(httpcore.NetworkBackend):
        def __init__(self) -> None:
            self._inner = httpcore.SyncBackend()

        def connect_tcp(
            self,
            host: str,
            port: int,
            timeout: float | None = None,
            local_address: str | None = None,
            socket_options: Iterable[Any] | None = None,
        ) -> httpcore.NetworkStream:
            stream = self._inner.connect_tcp(
                host, port, _left(timeout), local_address, socket_options
            )
            return _DeadlineStream(stream)

        def connect_unix_socket(
            self,
            path: str,
            timeout: float | None = None,
            socket_options: Iterable[Any] | None = None,
        ) -> httpcore.NetworkStream:  # pragma: no cover  # the SDK never uses unix sockets
            return _DeadlineStream(
                self._inner.connect_unix_socket(path, _left(timeout), socket_options)
            )

        def sleep(self, seconds: float) -> None:  # pragma: no cover
            self._inner.sleep(seconds)

    return _DeadlineBackend


def sync_transport() -> httpx.HTTPTransport:
    """An httpx transport whose connections honour the thread's request budget."""
    transport = httpx.HTTPTransport()  # TLS verified; SSL_CERT_FILE / SSL_CERT_DIR honoured
    # httpx takes no network backend; its pool creates connections lazily, so swapping the
    # backend before the first request is enough. Pinned by httpx<1 / httpcore 1.x.
    transport._pool._network_backend = _deadline_backend_class()()
    return transport
