"""HTTP on the generated low-level client: one connection pool per client, reused.

The generated code owns the base URL, the bearer header, each operation's method and path, and
response parsing. Events go out as bytes serialized straight from pydantic, through the
generated client's own httpx client: no pydantic -> attrs -> dict detour on the hot path.
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING, Any

import httpx

from mosaicstack_telemetry._config import TelemetryConfig

if TYPE_CHECKING:
    # Both imported where used: httpx loads httpcore only when a transport is made, and a
    # sync-only program never needs asyncio (together about 40 ms of import time).
    import asyncio

    import httpcore

# No valid answer is anywhere near this; a bigger one is not read, so it cannot eat memory.
MAX_RESPONSE_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True)
class RawResponse:
    status: int
    headers: httpx.Headers
    content: bytes | None  # None: the body was too large to read
    elapsed: float


class TotalTimeout(httpx.TimeoutException):
    """The request as a whole took longer than `request_timeout_seconds`."""


# The deadline of the request this thread is sending, if any (see _DeadlineStream).
_deadline = threading.local()


def _clamp(timeout: float | None) -> float | None:
    end: float | None = getattr(_deadline, "end", None)
    if end is None:
        return timeout
    left = end - time.monotonic()
    if left <= 0:
        import httpcore

        raise httpcore.ReadTimeout("request_timeout_seconds exceeded")
    return left if timeout is None else min(timeout, left)


@functools.cache
def _deadline_backend_class() -> type[httpcore.NetworkBackend]:
    """The deadline-aware network backend, defined on first use (httpcore loads lazily)."""
    import httpcore

    class _DeadlineStream(httpcore.NetworkStream):
        """A socket whose every read and write is bounded by the whole request's deadline.

        httpx's timeouts apply to each socket operation: a server that dribbles its answer one
        byte at a time could hold a request for ever. Clamping each operation to what is left
        of the request's budget bounds the request as a whole, headers included.
        """

        def __init__(self, inner: httpcore.NetworkStream) -> None:
            self._inner = inner

        def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
            return self._inner.read(max_bytes, _clamp(timeout))

        def write(self, buffer: bytes, timeout: float | None = None) -> None:
            self._inner.write(buffer, _clamp(timeout))

        def close(self) -> None:
            self._inner.close()

        def start_tls(
            self,
            ssl_context: Any,
            server_hostname: str | None = None,
            timeout: float | None = None,
        ) -> httpcore.NetworkStream:
            inner = self._inner.start_tls(ssl_context, server_hostname, _clamp(timeout))
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
                host, port, _clamp(timeout), local_address, socket_options
            )
            return _DeadlineStream(stream)

        def connect_unix_socket(
            self,
            path: str,
            timeout: float | None = None,
            socket_options: Iterable[Any] | None = None,
        ) -> httpcore.NetworkStream:  # pragma: no cover  # the SDK never uses unix sockets
            return _DeadlineStream(
                self._inner.connect_unix_socket(path, _clamp(timeout), socket_options)
            )

        def sleep(self, seconds: float) -> None:  # pragma: no cover
            self._inner.sleep(seconds)

    return _DeadlineBackend


def _sync_transport() -> httpx.HTTPTransport:
    transport = httpx.HTTPTransport()  # TLS verified; SSL_CERT_FILE / SSL_CERT_DIR honoured
    # httpx takes no network backend; its pool creates connections lazily, so swapping the
    # backend before the first request is enough. Pinned by httpx<1 / httpcore 1.x.
    transport._pool._network_backend = _deadline_backend_class()()
    return transport


def _generated() -> tuple[ModuleType, ModuleType, Any]:
    # Imported lazily: the attrs client is only needed once something is sent.
    from _mosaicstack_telemetry_generated.client import AuthenticatedClient
    from _mosaicstack_telemetry_generated.client.api.events import submit_events_batch
    from _mosaicstack_telemetry_generated.client.api.predictions import query_predictions_batch

    return submit_events_batch, query_predictions_batch, AuthenticatedClient


class Transport:
    """Sync and async HTTP for one `TelemetryClient`.

    The sync pool serves every thread; an async pool belongs to the event loop that created it
    and is replaced, never reused, when called from another loop.
    """

    def __init__(self, config: TelemetryConfig) -> None:
        self._config = config
        self._timeout = float(config.request_timeout_seconds)
        self._lock = threading.Lock()
        self._sync: Any = None
        self._async: Any = None
        self._async_loop: asyncio.AbstractEventLoop | None = None
        self.events_api, self.predictions_api, self._client_cls = _generated()
        # Method and path of the events operation, taken from the generated code once.
        kwargs = self.events_api._get_kwargs(body=_empty_events_body())
        self.events_method: str = kwargs["method"]
        self.events_url: str = kwargs["url"]

    def _new_client(self, sync: bool = True) -> Any:
        return self._client_cls(
            base_url=self._config.server_url,
            token=self._config.api_key,
            timeout=httpx.Timeout(self._timeout),
            headers={"User-Agent": self._config.user_agent},
            raise_on_unexpected_status=False,
            httpx_args={"transport": _sync_transport()} if sync else {},
        )

    @property
    def generated_client(self) -> Any:
        """The generated client, for the endpoints' response parsers."""
        with self._lock:
            if self._sync is None:
                self._sync = self._new_client()
            return self._sync

    def events_request(self, body: bytes) -> dict[str, Any]:
        return {
            "method": self.events_method,
            "url": self.events_url,
            "content": body,
            "headers": {"Content-Type": "application/json"},
        }

    def _budget(self, start: float, deadline: float | None) -> float:
        """When this request must be over: its timeout, or the caller's deadline if sooner."""
        end = start + self._timeout
        return end if deadline is None else min(end, deadline)

    def send(self, request: dict[str, Any], deadline: float | None = None) -> RawResponse:
        """One request, bounded as a whole (connect to last byte) by the request timeout."""
        client = self.generated_client.get_httpx_client()
        start = time.monotonic()
        _deadline.end = self._budget(start, deadline)
        try:
            with client.stream(**request) as response:
                chunks: list[bytes] = []
                size = 0
                for chunk in response.iter_bytes():
                    size += len(chunk)
                    if size > MAX_RESPONSE_BYTES:
                        chunks = []
                        break
                    chunks.append(chunk)
                content = b"".join(chunks) if size <= MAX_RESPONSE_BYTES else None
                return RawResponse(
                    response.status_code, response.headers, content, time.monotonic() - start
                )
        finally:
            _deadline.end = None

    def _async_client(self) -> Any:
        import asyncio

        loop = asyncio.get_running_loop()
        with self._lock:
            if self._async is None or self._async_loop is not loop:
                # A pool of another (maybe closed) loop cannot be used here; it is dropped.
                self._async = self._new_client(sync=False)
                self._async_loop = loop
            return self._async

    async def send_async(
        self, request: dict[str, Any], deadline: float | None = None
    ) -> RawResponse:
        import asyncio

        client = self._async_client().get_async_httpx_client()
        start = time.monotonic()
        budget = max(self._budget(start, deadline) - start, 0.0)

        async def run() -> RawResponse:
            async with client.stream(**request) as response:
                chunks: list[bytes] = []
                size = 0
                async for chunk in response.aiter_bytes():
                    size += len(chunk)
                    if size > MAX_RESPONSE_BYTES:
                        chunks = []
                        break
                    chunks.append(chunk)
                content = b"".join(chunks) if size <= MAX_RESPONSE_BYTES else None
                return RawResponse(
                    response.status_code, response.headers, content, time.monotonic() - start
                )

        try:
            return await asyncio.wait_for(run(), budget)
        except asyncio.TimeoutError as exc:
            raise TotalTimeout("the request took longer than request_timeout_seconds") from exc

    def parse(self, api: ModuleType, raw: RawResponse) -> Any:
        """The generated endpoint's parsed body, or None if it cannot be parsed."""
        if raw.content is None:
            return None
        response = httpx.Response(raw.status, headers=raw.headers, content=raw.content)
        try:
            return api._build_response(client=self.generated_client, response=response).parsed
        except Exception:  # a broken body: HTML, truncated JSON, wrong shape, unknown status
            return None

    def close(self) -> None:
        """Close the sync pool; a later request opens a new one."""
        with self._lock:
            client, self._sync = self._sync, None
        if client is not None:
            client.get_httpx_client().close()

    async def aclose(self) -> None:
        """Close the async pool if it belongs to the running loop (else just forget it)."""
        import asyncio

        with self._lock:
            client, loop = self._async, self._async_loop
            self._async = self._async_loop = None
        if client is not None and loop is asyncio.get_running_loop():
            await client.get_async_httpx_client().aclose()


def _empty_events_body() -> Any:
    from _mosaicstack_telemetry_generated.client.models import BatchEventRequest

    return BatchEventRequest(events=[])
