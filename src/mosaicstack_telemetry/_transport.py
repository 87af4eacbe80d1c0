"""The HTTP wire, on the generated low-level client: one connection pool per client, reused.

The only module that talks to the generated client. The generated code owns the base URL, the
bearer header, each operation's method and path, and response parsing. Bodies go out as bytes
serialized straight from pydantic, through the generated client's own httpx client: no
pydantic -> attrs -> dict detour on the hot path.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from types import ModuleType
from typing import TYPE_CHECKING, Any

import httpx

from mosaicstack_telemetry import _budgeted as budgeted
from mosaicstack_telemetry._answers import decode_json
from mosaicstack_telemetry._budgeted import READ_SLICE, sync_transport
from mosaicstack_telemetry._config import TelemetryConfig
from mosaicstack_telemetry._wire import (
    EVENTS,
    PREDICTIONS,
    Answer,
    Budget,
    Request,
    WireError,
    abandon,
    background,
)

if TYPE_CHECKING:
    # Imported where used: a sync-only program never needs asyncio (about 25 ms of import).
    import asyncio


# No valid answer is anywhere near this; a bigger one is not read, so it cannot eat memory.
MAX_RESPONSE_BYTES = 4 * 1024 * 1024


def _generated() -> tuple[ModuleType, ModuleType, Any]:
    # Imported lazily: the attrs client is only needed once something is sent.
    from _mosaicstack_telemetry_generated.client import AuthenticatedClient
    from _mosaicstack_telemetry_generated.client.api.events import submit_events_batch
    from _mosaicstack_telemetry_generated.client.api.predictions import query_predictions_batch

    return submit_events_batch, query_predictions_batch, AuthenticatedClient


def _causes(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def classify(exc: BaseException) -> WireError:
    """The `WireError` for what httpx (or the socket below it) raised: the same kinds and
    words in the blocking and the async path."""
    import socket
    import ssl

    if isinstance(exc, (httpx.TimeoutException, TimeoutError)):
        return WireError("timeout", TIMEOUT_MESSAGE)
    message = f"{type(exc).__name__}: {exc}"
    for cause in _causes(exc):
        if isinstance(cause, ConnectionRefusedError):
            return WireError("connect", f"{message} (nothing listens there)", hopeless=True)
        if isinstance(cause, socket.gaierror):
            return WireError("connect", f"{message} (the name does not resolve)", hopeless=True)
        if isinstance(cause, ssl.SSLError):
            return WireError("tls", f"{message} (TLS could not be agreed)", hopeless=True)
    return WireError("connect" if isinstance(exc, httpx.ConnectError) else "network", message)


TIMEOUT_MESSAGE = (
    "Timeout: no complete answer within the request's budget "
    "(request_timeout_seconds, or what was left before the deadline)"
)


class HttpWire:
    """Sync and async HTTP for one `TelemetryClient`, on the generated client.

    The sync pool serves every thread; an async pool belongs to the event loop that created it
    and serves only that loop, which closes it with `aclose()`. Several loops (one per thread)
    each keep their own while they run; the pool of a loop that no longer runs is dropped.
    """

    def __init__(self, config: TelemetryConfig) -> None:
        self._config = config
        self.url: str = config.server_url
        self._timeout = float(config.request_timeout_seconds)
        # Reentrant: a signal handler's flush may request while its thread holds it.
        self._lock = threading.RLock()
        self._sync: Any = None
        #: Requests on each pool now (by id), and the pools closed meanwhile: `close()` from
        #: one thread (a `stop()`) must not pull the sockets from under another thread's
        #: request (a prediction refresh): such a pool is closed by its last request.
        self._in_use: dict[int, int] = {}
        self._retired: set[int] = set()
        self._async: dict[asyncio.AbstractEventLoop, Any] = {}
        events_api, predictions_api, self._client_cls = _generated()
        # Method and path of each operation, taken from the generated code once.
        self._routes = {
            EVENTS: _route(events_api, _empty_events_body()),
            PREDICTIONS: _route(predictions_api, _empty_predictions_body()),
        }

    def _new_client(self, sync: bool = True) -> Any:
        return self._client_cls(
            base_url=self._config.server_url,
            token=self._config.api_key,
            timeout=httpx.Timeout(self._timeout),
            headers={"User-Agent": self._config.user_agent},
            raise_on_unexpected_status=False,
            httpx_args={"transport": sync_transport()} if sync else {},
        )

    def _sync_client(self) -> Any:
        client = self._sync
        if client is not None:  # made: no lock to take on every request
            return client
        with self._lock:
            if self._sync is None:
                client = self._new_client()
                client.get_httpx_client()  # made now (the generated client makes it lazily):
                self._sync = client  # close() then closes what exists, never makes one
            return self._sync

    def prepare(self) -> None:
        """Load now what the first request would load on a request thread: the pool
        (httpcore), the CA bundle, and the IDNA codec `getaddrinfo` encodes a host with.
        `make_wire` calls it while a fork waits (see `_wire._loading`)."""
        self._sync_client()
        "localhost".encode("idna")

    def _kwargs(self, request: Request) -> dict[str, Any]:
        method, url = self._routes[request.operation]
        return {
            "method": method,
            "url": url,
            "content": request.body,
            "headers": {"Content-Type": "application/json"},
        }

    def _hold(self, pool: Callable[[], Any]) -> Any:
        """The pool `pool()` gives, counted as in use until `_let_go`."""
        with self._lock:
            client = pool()
            self._in_use[id(client)] = self._in_use.get(id(client), 0) + 1
            return client

    def _let_go(self, client: Any) -> bool:
        """A request on `client` ended; True when it was the last on a pool closed meanwhile,
        which the caller then closes."""
        key = id(client)
        with self._lock:
            left = self._in_use.pop(key) - 1
            if left:
                self._in_use[key] = left
                return False
            if key in self._retired:
                self._retired.discard(key)
                return True
            return False

    def _closable(self, client: Any) -> bool:
        """Under the lock: whether `client`, just detached, can be closed now (else its last
        request closes it)."""
        if id(client) in self._in_use:
            self._retired.add(id(client))
            return False
        return True

    def send(self, request: Request, budget: Budget) -> Answer:
        """One request, bounded as a whole (connect to last byte) by `budget`."""
        pool = self._hold(self._sync_client)
        client = pool.get_httpx_client()
        start = time.monotonic()
        budgeted.current.budget = budget
        try:
            with client.stream(**self._kwargs(request)) as response:
                content = _read_capped(response.iter_bytes())
                return self._answer(request, response, content, start)
        except Exception as exc:
            raise classify(exc) from exc
        finally:
            budgeted.current.budget = None
            if self._let_go(pool):
                client.close()

    def has_pool(self, loop: asyncio.AbstractEventLoop) -> bool:
        return loop in self._async

    def open_pool(self, loop: asyncio.AbstractEventLoop) -> Any:
        """`loop`'s async pool, made now if it has none; callable from any thread (making one
        loads the CA bundle: a Delivery does it off the loop)."""
        with self._lock:
            pools = self._async
            client = pools.get(loop)
            if client is None:
                _drop_idle(pools)
                client = pools[loop] = self._new_client(sync=False)
                client.get_async_httpx_client()  # the generated client makes it lazily
                _load_async_backend()
            return client

    def _async_client(self) -> Any:
        import asyncio

        return self.open_pool(asyncio.get_running_loop())

    async def send_async(self, request: Request, budget: Budget) -> Answer:
        """`send` for an event loop: the request runs as a task, cancelled when its budget
        (which `stop()` may cut short meanwhile) is spent."""
        pool = self._hold(self._async_client)
        try:
            answer = await self._send_async(pool.get_async_httpx_client(), request, budget)
        except GeneratorExit:  # its loop is closed: nothing more runs on it
            self._let_go(pool)
            raise
        except BaseException:
            if self._let_go(pool):
                await pool.get_async_httpx_client().aclose()
            raise
        if self._let_go(pool):
            await pool.get_async_httpx_client().aclose()
        return answer

    async def _send_async(self, client: Any, request: Request, budget: Budget) -> Answer:
        import asyncio

        start = time.monotonic()

        async def run() -> Answer:
            async with client.stream(**self._kwargs(request)) as response:
                chunks: list[bytes] = []
                size = 0
                async for chunk in response.aiter_bytes():
                    size += len(chunk)
                    if size > MAX_RESPONSE_BYTES:
                        return self._answer(request, response, None, start)
                    chunks.append(chunk)
                return self._answer(request, response, b"".join(chunks), start)

        task = background(asyncio.ensure_future(run()))
        try:
            while True:
                left = budget.end - time.monotonic()
                if left <= 0:
                    task.cancel()
                    await asyncio.gather(task, return_exceptions=True)
                    raise WireError("timeout", TIMEOUT_MESSAGE)
                done, _ = await asyncio.wait({task}, timeout=min(left, READ_SLICE * 2))
                if done:
                    return task.result()
        except WireError:
            raise
        except asyncio.CancelledError:
            task.cancel()
            raise
        except GeneratorExit:  # closed by the garbage collector: its loop was closed
            abandon(task)
            raise
        except Exception as exc:
            raise classify(exc) from exc

    def _answer(
        self, request: Request, response: httpx.Response, content: bytes | None, start: float
    ) -> Answer:
        data, problem = None, None
        if 200 <= response.status_code < 300:
            # Decoded here, judged by `_answers` result by result: the generated client's
            # parse is all-or-nothing, and one result a newer server words differently must
            # cost only itself.
            data, problem = decode_json(content)
        return Answer(
            response.status_code, response.headers, content, time.monotonic() - start, data, problem
        )

    def close(self) -> None:
        """Close the sync pool; a later request opens a new one."""
        with self._lock:
            client, self._sync = self._sync, None
            _drop_idle(self._async)
            now = client is not None and self._closable(client)
        if now:
            client.get_httpx_client().close()

    async def aclose(self) -> None:
        """Close the running loop's async pool; other loops' pools are theirs to close."""
        import asyncio

        with self._lock:
            client = self._async.pop(asyncio.get_running_loop(), None)
            now = client is not None and self._closable(client)
        if now:
            await client.get_async_httpx_client().aclose()


def _drop_idle(pools: dict[asyncio.AbstractEventLoop, Any]) -> None:
    """Forget the pools of loops that are not running: closed ones, and ones dropped without
    `close()` (a `new_event_loop().run_until_complete(...)` per call), which the pool would
    keep alive with their sockets. Neither can close its pool from here; the collector does."""
    for idle in [loop for loop in pools if not loop.is_running()]:
        del pools[idle]


def _load_async_backend() -> None:
    """Load what httpcore's first request on an event loop would (anyio's asyncio backend,
    about 30 ms), here, off the loop. An optimization only: a private module path that may
    move, so its absence costs nothing but that time."""
    import importlib

    with contextlib.suppress(ImportError):
        importlib.import_module("anyio._backends._asyncio")


def _read_capped(chunks: Iterable[bytes]) -> bytes | None:
    """The body, or None once it grows past `MAX_RESPONSE_BYTES` (the rest is not read)."""
    parts: list[bytes] = []
    size = 0
    for chunk in chunks:
        size += len(chunk)
        if size > MAX_RESPONSE_BYTES:
            return None
        parts.append(chunk)
    return b"".join(parts)


def _route(api: ModuleType, empty_body: Any) -> tuple[str, str]:
    kwargs = api._get_kwargs(body=empty_body)
    return kwargs["method"], kwargs["url"]


def _empty_events_body() -> Any:
    from _mosaicstack_telemetry_generated.client.models import BatchEventRequest

    return BatchEventRequest(events=[])


def _empty_predictions_body() -> Any:
    from _mosaicstack_telemetry_generated.client.models import PredictionBatchRequest

    return PredictionBatchRequest(queries=[])
