"""`TelemetryClient`: the queue, one background sender (a thread or a task), predictions."""

from __future__ import annotations

import atexit
import contextlib
import ipaddress
import logging
import os
import threading
import weakref
from collections.abc import Sequence
from types import TracebackType
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from mosaicstack_telemetry._cache import PredictionCache
from mosaicstack_telemetry._config import TelemetryConfig
from mosaicstack_telemetry._log import RateLimitedLog, logger
from mosaicstack_telemetry._models import (
    MAX_QUERIES_PER_BATCH,
    PredictionQuery,
    PredictionResponse,
    TaskCompletionEvent,
)
from mosaicstack_telemetry._queue import EventQueue
from mosaicstack_telemetry._retry import monotonic
from mosaicstack_telemetry._sender import Sender
from mosaicstack_telemetry._spool import Spool
from mosaicstack_telemetry._stats import FlushResult, Stats, TelemetryStats
from mosaicstack_telemetry._transport import Transport

if TYPE_CHECKING:
    # Imported where used: a sync-only program never pays for asyncio (about 25 ms).
    import asyncio

#: The budget of the implicit flush at interpreter exit, so a CLI never hangs at exit when the
#: server is unreachable (sentry's default too). `stop()` uses `shutdown_timeout_seconds`.
EXIT_FLUSH_TIMEOUT = 2.0
_THREAD_NAME = "mosaicstack-telemetry-sender"


class _Wakeup:
    """A flag and a condition: the sender sleeps on it, `track()` and `stop()` set it.

    Built on a reentrant lock, unlike `threading.Event`, so a signal handler that calls
    `track()` while its own thread is inside `set()` cannot deadlock.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition(threading.RLock())
        self._flag = False
        self.pending = False  # a wake from track() is on its way: don't send another
        self.orphaned = False  # the client was garbage-collected without stop()

    def set(self) -> None:
        with self._cond:
            self._flag = True
            self._cond.notify_all()

    def wait(self, timeout: float) -> bool:
        """Sleep up to `timeout`; True if woken (by `set`), False if the time ran out."""
        with self._cond:
            if not self._flag:
                self._cond.wait(timeout)
            woken, self._flag = self._flag, False
            self.pending = False
            return woken


def _sender_thread(
    sender: Sender, stop: threading.Event, wakeup: _Wakeup, interval: float, last_words: float
) -> None:
    """The background thread. It holds no reference to the client, only to what it sends.

    So a client dropped without `stop()` can be garbage-collected: its finalizer marks the
    wakeup orphaned and stops this thread, which then flushes what is left and ends; creating
    clients in a loop cannot exhaust threads.
    """
    healthy = True
    due = monotonic() + interval
    try:
        while not stop.is_set():
            left = max(due - monotonic(), 0.0)
            # Healthy: the interval, or a wake from track() / stop(). After a failure: the
            # interval, and only stop cuts it short.
            woken = wakeup.wait(left) if healthy else stop.wait(left)
            if stop.is_set():
                break
            if woken and _spooling_only(sender):
                continue  # persisted; the batch is not full yet and the interval not over
            due = monotonic() + interval
            healthy = sender.flush_sync(stop, None)
        if wakeup.orphaned:
            sender.flush_sync(None, monotonic() + last_words)
            sender.close()
    except Exception:
        logger.exception("The telemetry sender thread failed")


def _spooling_only(sender: Sender) -> bool:
    """With a spool, a wake from track() first persists what is queued; it sends only once a
    whole batch waits. True when it persisted and there is nothing to send yet."""
    spool = sender.spool
    if spool is None:
        return False
    sender.persist()
    return spool.count() < sender.batch_size


def _orphaned(stop: threading.Event, wakeup: _Wakeup) -> None:
    wakeup.orphaned = True
    stop.set()
    wakeup.set()


#: Every live client, for the exit flush and the fork hook; weak, so it keeps none alive.
_CLIENTS: weakref.WeakSet[TelemetryClient] = weakref.WeakSet()


def _flush_at_exit() -> None:
    for client in list(_CLIENTS):
        if client.is_running:
            timeout = min(EXIT_FLUSH_TIMEOUT, client._shutdown_timeout)
            client.stop(timeout=timeout)


def _after_fork_in_child() -> None:
    for client in list(_CLIENTS):
        client._after_fork()


atexit.register(_flush_at_exit)
if hasattr(os, "register_at_fork"):  # not on Windows
    os.register_at_fork(after_in_child=_after_fork_in_child)


def _is_loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class TelemetryClient:
    """Queues events, sends them in the background, and caches predictions.

    `track()` is always synchronous, never blocks on I/O and never raises. One background
    sender runs at a time: a daemon thread (`start()`) or an asyncio task (`start_async()`).
    """

    def __init__(self, config: TelemetryConfig) -> None:
        self._config = config
        self._enabled = bool(config.enabled)
        problems = config.validate() if self._enabled else []
        for problem in problems:
            logger.warning("Invalid telemetry config: %s", problem)
        self._valid = not problems
        plain = self._valid and config.server_url.startswith("http://")
        if plain and not _is_loopback(config.server_url):
            logger.warning(
                "server_url uses plain http:// to a host that is not loopback: "
                "the API key would cross the network unencrypted; use https://"
            )
        self._log = RateLimitedLog()
        size = config.max_queue_size
        self._queue = EventQueue(size if isinstance(size, int) and size > 0 else 1000)
        ttl = config.prediction_cache_ttl_seconds if self._valid else 21600.0
        self._cache = PredictionCache(ttl)
        self._batch_size = config.batch_size if self._valid else 100
        self._spool: Spool | None = None
        if self._enabled and self._valid and config.spool_path:
            self._spool = Spool(config.spool_path, config.spool_max_events)
        # With a spool every tracked event is persisted promptly: wake the sender at once.
        self._wake_at = 1 if self._spool is not None else self._batch_size
        self._stats = Stats()
        self._lock = threading.RLock()  # start/stop, never taken by track()
        self._transport: Transport | None = None
        self._sender: Sender | None = None
        self._thread: threading.Thread | None = None
        self._stop_event = threading.Event()
        self._wakeup = _Wakeup()
        self._task: asyncio.Task[None] | None = None
        self._task_loop: asyncio.AbstractEventLoop | None = None
        self._task_stop: asyncio.Event | None = None
        self._task_wake: asyncio.Event | None = None
        self._finalizer: weakref.finalize[[threading.Event, _Wakeup], TelemetryClient] | None = None
        shutdown = config.shutdown_timeout_seconds
        self._shutdown_timeout = float(shutdown) if self._valid else 20.0
        if self._enabled:
            _CLIENTS.add(self)

    # -- the event path --------------------------------------------------------------------

    def track(self, event: TaskCompletionEvent) -> None:
        """Queue an event for submission. Never blocks, never raises; thread-safe.

        Dropped silently when disabled; when the queue is full the oldest event is evicted.
        """
        try:
            if not self._enabled:
                return
            if not self._valid:
                self._stats.drop("invalid_config")
                self._log.log(
                    logging.WARNING,
                    "track-invalid-config",
                    "Event dropped: the telemetry config is invalid (see the earlier warnings)",
                )
                return
            if not isinstance(event, TaskCompletionEvent):
                self._stats.drop("invalid_event")
                self._log.log(
                    logging.ERROR,
                    "track-invalid-event",
                    "Event dropped: track() takes a TaskCompletionEvent, not %s",
                    type(event).__name__,
                )
                return
            queue = self._queue
            if queue._put(event):
                self._log.log(
                    logging.WARNING,
                    "queue-full",
                    "Telemetry queue full (%d events): evicted the oldest event",
                    queue.max_size,
                )
            wakeup = self._wakeup
            # len() of the deque itself, not the `size` property: a call less per event.
            if not wakeup.pending and len(queue._items) >= self._wake_at:
                wakeup.pending = True
                self._wake()
        except Exception:
            try:
                self._stats.drop("internal_error")
                self._log.log(
                    logging.ERROR,
                    "track-error",
                    "Event dropped by an unexpected error in track()",
                    exc_info=True,
                )
            except Exception:  # noqa: S110  # track() must never raise, even here
                pass

    def _wake(self) -> None:
        if self._thread is not None:
            self._wakeup.set()
        loop, wake = self._task_loop, self._task_wake
        if loop is not None and wake is not None and not wake.is_set():
            with contextlib.suppress(RuntimeError):  # the loop is closed
                loop.call_soon_threadsafe(wake.set)

    @property
    def queue_size(self) -> int:
        """Number of events currently in the in-memory queue."""
        return self._queue.size

    @property
    def is_running(self) -> bool:
        """Whether a background sender (thread or task) is active."""
        thread, task = self._thread, self._task
        return (thread is not None and thread.is_alive()) or (task is not None and not task.done())

    def stats(self) -> TelemetryStats:
        """A snapshot of what happened to the events tracked so far."""
        spooled = 0
        if self._spool is not None:
            try:
                spooled = self._spool.count()
            except Exception as exc:  # unreadable spool: flush() and stats() must not raise
                self._stats.error(f"{type(exc).__name__}: {exc}")
                self._log.log(
                    logging.ERROR,
                    "spool-count",
                    "Cannot read the spool %s: %s",
                    self._spool.path,
                    exc,
                )
        return self._stats.snapshot(self._queue.evicted, self._queue.size, spooled)

    def _deadline(self, timeout: float | None) -> float:
        return monotonic() + (self._shutdown_timeout if timeout is None else max(timeout, 0.0))

    def flush(self, timeout: float | None = None) -> FlushResult:
        """Send everything queued now, retrying until done or `timeout` (default
        `shutdown_timeout_seconds`) passes; says what happened. Never raises."""
        before = self.stats()
        try:
            if self._ready("flush()"):
                self._get_sender().flush_sync(None, self._deadline(timeout))
        except Exception:
            logger.exception("Telemetry flush failed")
        return FlushResult.between(before, self.stats())

    async def flush_async(self, timeout: float | None = None) -> FlushResult:
        """`flush()` for an event loop."""
        before = self.stats()
        try:
            if self._ready("flush_async()"):
                await self._get_sender().flush_async(None, self._deadline(timeout))
        except Exception:
            logger.exception("Telemetry flush failed")
        return FlushResult.between(before, self.stats())

    # -- machinery -------------------------------------------------------------------------

    def _ready(self, what: str) -> bool:
        """Whether the network may be used; logs why not when the config is invalid."""
        if not self._enabled:
            return False
        if not self._valid:
            logger.error(
                "Telemetry %s skipped: the config is invalid (see the warnings "
                "logged when the client was created)",
                what,
            )
            return False
        return True

    def _get_sender(self) -> Sender:
        with self._lock:
            if self._sender is None:
                transport = None if self._config.dry_run else self._get_transport()
                self._sender = Sender(
                    self._config, self._queue, self._stats, transport, self._log, self._spool
                )
            return self._sender

    def _get_transport(self) -> Transport:
        with self._lock:
            if self._transport is None:
                self._transport = Transport(self._config)
            return self._transport

    def _get_predictor(self) -> Sender:
        """A sender with a transport even in dry-run: dry-run affects events only."""
        sender = self._get_sender()
        if self._config.dry_run:
            return Sender(self._config, self._queue, self._stats, self._get_transport(), self._log)
        return sender

    # -- sync lifecycle --------------------------------------------------------------------

    def start(self) -> None:
        """Start the background daemon thread that flushes every `submit_interval_seconds`."""
        if not self._ready("start()"):
            return
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                return
            if self._task is not None and not self._task.done():
                logger.warning("start() ignored: an asyncio sender is already running")
                return
            self._stop_event = stop = threading.Event()
            self._wakeup = wakeup = _Wakeup()
            self._thread = threading.Thread(
                target=_sender_thread,
                args=(
                    self._get_sender(),
                    stop,
                    wakeup,
                    float(self._config.submit_interval_seconds),
                    self._shutdown_timeout,
                ),
                name=_THREAD_NAME,
                daemon=True,
            )
            self._finalizer = weakref.finalize(self, _orphaned, stop, wakeup)
            self._finalizer.atexit = False  # the exit flush is _flush_at_exit's job
            self._thread.start()

    def stop(self, timeout: float | None = None) -> None:
        """Stop whichever sender runs, then flush everything queued. Safe without `start()`.

        Returns within `timeout` (default `shutdown_timeout_seconds`); what could not be sent
        by then is logged with its count and stays queued.
        """
        deadline = self._deadline(timeout)
        with self._lock:
            thread, self._thread = self._thread, None
            if self._finalizer is not None:
                self._finalizer.detach()
            self._stop_event.set()
            self._wakeup.set()
            self._cancel_task_from_sync()
        if thread is not None and thread is not threading.current_thread():
            thread.join(max(deadline - monotonic(), 0.0))
        if self._enabled and self._valid:
            try:
                self._get_sender().flush_sync(None, deadline)
            except Exception:  # e.g. an unusable spool: the host's shutdown must go on
                logger.exception("Telemetry final flush failed")
            self._report_left()
        with self._lock:
            if self._transport is not None:
                self._transport.close()
            if self._spool is not None:
                self._spool.close()

    def _cancel_task_from_sync(self) -> None:
        task, loop = self._task, self._task_loop
        if task is None or loop is None or task.done():
            return
        self._task = None
        # From sync code we cannot await the task: cancel it; it puts its batch back.
        with contextlib.suppress(RuntimeError):  # the loop is closed
            loop.call_soon_threadsafe(task.cancel)

    def _report_left(self) -> None:
        left = self._queue.size
        if left:
            logger.warning(
                "Telemetry stopped with %d events not sent before the shutdown "
                "deadline; they stay queued",
                left,
            )

    def _after_fork(self) -> None:
        """In a forked child: fresh locks, no inherited pool, and its own sender.

        Another thread of the parent may have held any lock at fork time, and the pool's
        sockets are the parent's: the child must use neither.
        """
        was_running = self._thread is not None
        self._lock = threading.RLock()
        self._queue._lock = threading.RLock()
        self._stats._lock = threading.Lock()
        self._cache._lock = threading.Lock()
        self._log._lock = threading.Lock()
        if self._spool is not None:
            self._spool._lock = threading.Lock()  # its connection is reopened per process
        self._stop_event = threading.Event()
        self._wakeup = _Wakeup()
        self._thread = None
        self._task = self._task_loop = self._task_stop = self._task_wake = None
        self._transport = None  # dropped, not closed: closing could disturb the parent's
        self._sender = None
        if self._finalizer is not None:
            self._finalizer.detach()
        if was_running:
            self.start()

    def __enter__(self) -> TelemetryClient:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- async lifecycle -------------------------------------------------------------------

    async def start_async(self) -> None:
        """Start the background asyncio task that flushes every `submit_interval_seconds`."""
        import asyncio

        if not self._ready("start_async()"):
            return
        loop = asyncio.get_running_loop()
        with self._lock:
            if self._task is not None and not self._task.done():
                return
            if self._thread is not None and self._thread.is_alive():
                logger.warning("start_async() ignored: a thread sender is already running")
                return
            self._task_stop = asyncio.Event()
            self._task_wake = asyncio.Event()
            self._wakeup = _Wakeup()  # a fresh `pending` flag: none left by an earlier sender
            self._task_loop = loop
            self._task = loop.create_task(
                self._run_task(self._get_sender(), self._task_stop, self._task_wake),
                name=_THREAD_NAME,
            )
            # A loop closed without stop_async() must not print "Task was destroyed but it is
            # pending" into the host's output: nothing is lost, stop() can still flush.
            self._task._log_destroy_pending = False  # type: ignore[attr-defined]

    async def _run_task(self, sender: Sender, stop: asyncio.Event, wake: asyncio.Event) -> None:
        import asyncio

        interval = float(self._config.submit_interval_seconds)
        healthy = True
        due = monotonic() + interval
        while not stop.is_set():
            woken = False
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(
                    (wake if healthy else stop).wait(), max(due - monotonic(), 0.0)
                )
                woken = True
            wake.clear()
            self._wakeup.pending = False
            if stop.is_set():
                break
            if woken and _spooling_only(sender):
                continue
            due = monotonic() + interval
            try:
                healthy = await sender.flush_async(stop, None)
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("The telemetry sender task failed a flush")
                healthy = False

    async def stop_async(self, timeout: float | None = None) -> None:
        """Stop whichever sender runs, then flush everything queued. Safe without a start.

        Returns within `timeout` (default `shutdown_timeout_seconds`), like `stop()`.
        """
        import asyncio

        deadline = self._deadline(timeout)
        loop = asyncio.get_running_loop()
        with self._lock:
            task, stop, wake = self._task, self._task_stop, self._task_wake
            task_loop = self._task_loop
            self._task = None
            thread, self._thread = self._thread, None
            if self._finalizer is not None:
                self._finalizer.detach()
            self._stop_event.set()
            self._wakeup.set()
        if task is not None and not task.done():
            if task_loop is loop and stop is not None and wake is not None:
                stop.set()
                wake.set()  # the task sleeps on `wake` while healthy
                try:
                    await asyncio.wait_for(asyncio.shield(task), max(deadline - monotonic(), 0))
                except asyncio.TimeoutError:
                    task.cancel()
            else:
                self._task = task
                self._cancel_task_from_sync()
        if thread is not None:
            await asyncio.to_thread(thread.join, max(deadline - monotonic(), 0.0))
        if self._enabled and self._valid:
            try:
                await self._get_sender().flush_async(None, deadline)
            except Exception:  # e.g. an unusable spool: the host's shutdown must go on
                logger.exception("Telemetry final flush failed")
            self._report_left()
        with self._lock:
            transport = self._transport
        if transport is not None:
            await transport.aclose()
            transport.close()

    def close(self) -> None:
        """Release the connection pool and the spool without sending anything.

        For a client that was never started or only fetched predictions. Events still queued
        stay queued (with a spool, they are moved into it first); a later request reopens what
        it needs. A running sender is stopped first, as by `stop()`.
        """
        if self.is_running:
            self.stop()
            return
        if self._spool is not None:
            try:
                self._get_sender().persist()  # what is queued waits in the spool, not in memory
            except Exception:
                logger.exception("Could not move the queued events into the spool")
        with self._lock:
            if self._transport is not None:
                self._transport.close()
            if self._spool is not None:
                self._spool.close()

    async def aclose(self) -> None:
        """`close()` for an event loop: also releases the loop's own connection pool."""
        if self.is_running:
            await self.stop_async()
            return
        with self._lock:
            transport = self._transport
        if transport is not None:
            await transport.aclose()
        self.close()

    async def __aenter__(self) -> TelemetryClient:
        await self.start_async()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop_async()

    # -- predictions -----------------------------------------------------------------------

    def get_prediction(self, query: PredictionQuery) -> PredictionResponse | None:
        """The cached prediction for `query`, or None if not cached or expired."""
        return self._cache.get(query)

    def refresh_predictions_sync(self, queries: Sequence[PredictionQuery]) -> None:
        """Fetch predictions (`POST /v1/predictions/batch`) into the cache; never raises."""
        try:
            if not queries or not self._ready("refresh_predictions_sync()"):
                return
            predictor = self._get_predictor()
            for chunk in _chunks(queries):
                results = predictor.predict_sync(chunk)
                if results is not None:
                    for query, response in zip(chunk, results, strict=True):
                        self._cache.put(query, response)
        except Exception:
            logger.exception("Telemetry prediction refresh failed")

    async def refresh_predictions(self, queries: Sequence[PredictionQuery]) -> None:
        """Fetch predictions asynchronously into the cache; never raises."""
        try:
            if not queries or not self._ready("refresh_predictions()"):
                return
            predictor = self._get_predictor()
            for chunk in _chunks(queries):
                results = await predictor.predict_async(chunk)
                if results is not None:
                    for query, response in zip(chunk, results, strict=True):
                        self._cache.put(query, response)
        except Exception:
            logger.exception("Telemetry prediction refresh failed")


def _chunks(queries: Sequence[PredictionQuery]) -> list[Sequence[PredictionQuery]]:
    step = MAX_QUERIES_PER_BATCH
    return [queries[i : i + step] for i in range(0, len(queries), step)]
