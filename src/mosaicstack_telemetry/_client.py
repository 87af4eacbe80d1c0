"""`TelemetryClient`: the public lifecycle. Delivery itself lives in `_delivery` and below.

`track()` queues; one background sender (a thread, `start()`, or an asyncio task,
`start_async()`) flushes; `stop()` makes the final flush; exit and fork are handled by
`_exit`. The client keeps the one runner it started, and that runner holds no reference back,
so a client dropped without `stop()` is garbage-collected and its sender still finishes.
"""

from __future__ import annotations

import functools
import threading
import time
import weakref
from collections.abc import Callable, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any

# The prediction classes are named through the package's lazy names in annotations: importing
# this module loads none of them, and typing.get_type_hints() still resolves them (loading them).
import mosaicstack_telemetry
from mosaicstack_telemetry import _exit
from mosaicstack_telemetry._cache import PredictionCache, query_list
from mosaicstack_telemetry._config import TelemetryConfig, is_loopback
from mosaicstack_telemetry._counters import Stats
from mosaicstack_telemetry._intake import Intake
from mosaicstack_telemetry._log import ERROR, RateLimitedLog, enable_debug, logger
from mosaicstack_telemetry._models import TaskCompletionEvent
from mosaicstack_telemetry._queue import EventQueue

if TYPE_CHECKING:
    # The delivery core loads with the first client that can send (a valid, enabled config):
    # importing the SDK, or a disabled client, does not pay for it.
    from mosaicstack_telemetry._delivery import Delivery
    from mosaicstack_telemetry._planner import Done
    from mosaicstack_telemetry._runners import Runner
    from mosaicstack_telemetry._stats import FlushResult, TelemetryStats

#: Told of each event `track()` is given, with its client and why it was not queued (None: it
#: was): the pytest plugin's `captured_telemetry` sets it.
_taps: list[Callable[[TelemetryClient, object, str | None], None]] = []
#: The budget of the implicit flush at interpreter exit (and at a multiprocessing child's
#: exit), so a CLI never hangs at exit when the server is unreachable (sentry's default too).
EXIT_FLUSH_TIMEOUT = 2.0


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
        if self._enabled and config.debug is True:
            enable_debug()
        plain = self._valid and config.server_url.startswith("http://")
        if plain and not is_loopback(config.server_url):
            logger.warning(
                "server_url uses plain http:// to a host that is not loopback: "
                "the API key would cross the network unencrypted; use https://"
            )
        self._log = RateLimitedLog()
        self._stats = Stats()
        self._intake = Intake(self._stats, self._log)
        size = config.max_queue_size
        self._queue = EventQueue(size if isinstance(size, int) and size > 0 else 1000)
        self._cache = PredictionCache(config.prediction_cache_ttl_seconds if self._valid else 0)
        self._lock = threading.RLock()  # start/stop, never taken by track()
        self._runner: Runner | None = None
        self._stopped = False  # stop() was called: the exit hook leaves what is left alone
        self._finalizer: weakref.finalize[Any, TelemetryClient] | None = None
        self._before_send = config.before_send if self._valid else None
        self._delivery: Delivery | None = None
        self._wake_at = 1
        if self._enabled and self._valid:
            from mosaicstack_telemetry._delivery import Delivery

            self._delivery = Delivery.create(config, self._queue, self._stats, self._log)
            # With a spool every tracked event is persisted promptly: wake the sender at once.
            spooling = self._delivery.source.spool is not None
            self._wake_at = 1 if spooling else int(config.batch_size)
            self._shutdown_timeout = float(config.shutdown_timeout_seconds)
            _exit.register(self)
        else:
            self._shutdown_timeout = 20.0

    def __repr__(self) -> str:  # never the key
        runner = self._runner
        mode = "stopped" if runner is None or not runner.alive else runner.mode
        state = "enabled" if self._enabled else "disabled"
        if self._enabled and not self._valid:
            state = "invalid config"
        return (
            f"<TelemetryClient {self._config.server_url!r} {state}, sender: {mode}, "
            f"queued: {self._queue.size}>"
        )

    # -- the event path --------------------------------------------------------------------

    def track(self, event: TaskCompletionEvent) -> None:
        """Queue an event for submission. Never blocks, never raises; thread-safe.

        Dropped silently when disabled; when the queue is full the oldest event is evicted.
        """
        try:
            if not self._enabled:
                if _taps:
                    _tell(self, event, "disabled")
                return
            if not self._valid:
                self._intake.invalid_config()
                if _taps:
                    _tell(self, event, "invalid config")
                return
            if not isinstance(event, TaskCompletionEvent):
                self._intake.invalid_event(event)
                if _taps:
                    _tell(self, event, "not a TaskCompletionEvent")
                return
            if self._before_send is not None:
                event = self._intake.before_send(self._before_send, event)
                if event is None:
                    return
            if _taps:
                _tell(self, event, None)
            queue = self._queue
            if queue._put(event):
                self._intake.evicted(queue.max_size)
            # After the put: stop() marks before its final flush drains the queue, so an event
            # the flush missed finds the mark here and takes it back; the exit hook delivers it.
            if self._stopped:
                self._stopped = False
            runner = self._runner
            # len() of the deque itself, not the `size` property: a call less per event.
            if (
                runner is not None
                and len(queue._items) >= self._wake_at
                and not runner.mailbox.woken
            ):
                runner.wake()
        except Exception:
            self._intake.failed()

    @property
    def queue_size(self) -> int:
        """Number of events currently in the in-memory queue."""
        return self._queue.size

    @property
    def is_running(self) -> bool:
        """Whether a background sender (thread or task) is active."""
        runner = self._runner
        return runner is not None and runner.alive

    def stats(self) -> TelemetryStats:
        """A snapshot of what happened to the events tracked so far."""
        delivery = self._delivery
        spooled = delivery.source.spooled() if delivery is not None else 0
        return self._stats.snapshot(self._queue.evicted, self._queue.size, spooled)

    def _deadline(self, timeout: float | None) -> float:
        seconds = self._shutdown_timeout if timeout is None else max(float(timeout), 0.0)
        return time.monotonic() + seconds

    def _ready(self, what: str) -> Delivery | None:
        """The delivery, if the network may be used; logs why not when the config is invalid."""
        if self._enabled and not self._valid:
            self._log.log(
                ERROR,
                f"skipped-{what}",
                "Telemetry %s skipped: the config is invalid (see the warnings "
                "logged when the client was created)",
                what,
            )
        return self._delivery

    def _settle_in_flight(self, done: Done, loop: object | None) -> bool:
        """Whether a flush should wait for the events the sender has in flight: not when its
        own flush found nothing can succeed now, nor when the sender cannot answer them
        meanwhile (its loop stopped or closed, or the caller is the sender itself)."""
        runner = self._runner
        return (
            self._stats.in_flight > 0
            and done.reason != "hopeless"
            and runner is not None
            and runner.settles(loop)
        )

    def _since(self, before: TelemetryStats) -> FlushResult:
        """What a flush did: the counters now against `before`."""
        from mosaicstack_telemetry._stats import FlushResult  # loaded with `before`

        return FlushResult.between(before, self.stats())

    def flush(self, timeout: float | None = None) -> FlushResult:
        """Send everything queued now; says what happened. Never raises.

        Retries until done or `timeout` (default `shutdown_timeout_seconds`) passes, but
        returns at once when nothing can succeed now (connection refused, the name does not
        resolve, TLS fails, the key is refused), so a caller is not held for nothing. Events
        a running sender has in flight are waited for too, while it can answer them (see
        `_settle_in_flight`).
        """
        before = self.stats()
        try:
            delivery = self._ready("flush()")
            if delivery is not None:
                from mosaicstack_telemetry._drivers import Mailbox

                deadline = self._deadline(timeout)
                done = delivery.flush(Mailbox(), deadline, fail_fast=True)
                if self._settle_in_flight(done, None):
                    self._stats.wait_in_flight(deadline, delivery.paused)
        except Exception:
            logger.exception("Telemetry flush failed")
        return self._since(before)

    async def flush_async(self, timeout: float | None = None) -> FlushResult:
        """`flush()` for an event loop."""
        import asyncio

        before = self.stats()
        try:
            delivery = self._ready("flush_async()")
            if delivery is not None:
                from mosaicstack_telemetry._drivers import AsyncMailbox
                from mosaicstack_telemetry._workers import on_worker

                deadline = self._deadline(timeout)
                loop = asyncio.get_running_loop()
                done = await delivery.flush_async(AsyncMailbox(loop), deadline, fail_fast=True)
                if self._settle_in_flight(done, loop):  # waited for off the loop it may need
                    stats = self._stats
                    await on_worker(
                        delivery.workers, lambda: stats.wait_in_flight(deadline, delivery.paused)
                    )
        except Exception:
            logger.exception("Telemetry flush failed")
        return self._since(before)

    # -- sync lifecycle --------------------------------------------------------------------

    def start(self) -> None:
        """Start the background daemon thread that flushes every `submit_interval_seconds`."""
        delivery = self._ready("start()")
        if delivery is None:
            return
        from mosaicstack_telemetry._runners import ThreadRunner, replaceable

        with self._lock:
            runner = self._runner
            if runner is not None and not replaceable(runner, None):
                if runner.mode != "thread":
                    logger.warning("start() ignored: an asyncio sender is already running")
                return
            self._stopped = False

            self._runner = thread = ThreadRunner(delivery)
            # Never `self` in the callback: the finalizer would keep the client alive.
            adopt = functools.partial(_exit.adopt, budget=self._exit_budget)
            self._finalizer = weakref.finalize(self, thread.orphan, adopt, _exit.forget)
            self._finalizer.atexit = False  # the exit flush is _exit's job
            thread.start()

    def _take_runner(self) -> Runner | None:
        with self._lock:
            if self._finalizer is not None:
                self._finalizer.detach()
                self._finalizer = None
            return self._runner

    def _release_runner(self, runner: Runner | None) -> None:
        """Forget a runner once it has ended. One still running (stop() was interrupted, by
        Ctrl-C say) stays known, so the exit hook waits for what it holds."""
        with self._lock:
            if self._runner is runner and (runner is None or not runner.alive):
                self._runner = None

    def stop(self, timeout: float | None = None) -> None:
        """Stop whichever sender runs, after a final flush. Safe without `start()`.

        Returns within `timeout` (default `shutdown_timeout_seconds`): a request still in
        flight then is cut, and what could not be sent is logged with its count and stays
        queued (or spooled).
        """
        # Marked before the final flush, not after: an event tracked meanwhile by another
        # thread takes the mark back (see track()), so the exit hook still delivers it.
        self._stopped = True
        try:
            self._finish(self._deadline(timeout), exiting=False)
        except BaseException:
            self._stopped = False
            self._interrupted()
            raise

    def _interrupted(self) -> None:
        """stop() did not return (Ctrl-C, a cancelled task): the sender goes on to its
        deadline, and the exit hook, not the sender, says what is left (once, "lost")."""
        runner = self._runner
        if runner is not None:
            runner.mailbox.defer_report = True

    def _finish(self, deadline: float, *, exiting: bool) -> None:
        delivery = self._delivery
        runner = self._take_runner()
        try:
            if delivery is not None:
                from mosaicstack_telemetry._runners import finish

                finish(delivery, runner, deadline, exiting=exiting)
        finally:
            self._release_runner(runner)

    def _exit_flush(self) -> None:
        """At exit: deliver what is left within the exit budget, and say what is lost."""
        delivery = self._delivery
        if delivery is None:
            return
        runner = self._runner
        idle = runner is None or not runner.alive
        # After stop() nothing more is sent: it said what it left. A client never stopped gets
        # its last flush here, if it holds anything.
        if idle and (self._stopped or not delivery.source.holds_events()):
            return
        self._finish(time.monotonic() + self._exit_budget, exiting=True)

    def _exit_give_up(self) -> None:
        """Ctrl-C during the exit flush: nothing more is sent; what is left is said lost."""
        delivery = self._delivery
        if delivery is not None:
            from mosaicstack_telemetry._runners import give_up_at_exit

            give_up_at_exit(delivery, self._runner)

    @property
    def _exit_budget(self) -> float:
        return min(EXIT_FLUSH_TIMEOUT, self._shutdown_timeout)

    def __del__(self) -> None:
        """Garbage-collected holding events no sender will send (never started, or tracked
        after stop()): `_exit` delivers them at exit, as it does a live client's."""
        try:
            delivery, runner = self._delivery, self._runner
            if delivery is None or self._stopped or not delivery.source.holds_events():
                return
            # A running thread sender finishes on its own (its finalizer) and hands the exit
            # flush what it could not send. An asyncio one goes on while its loop runs, which
            # may stop before the process ends: the exit flush finishes it, or takes over.
            if runner is not None and runner.alive and runner.mode == "thread":
                return
            _exit.adopt(delivery, runner, self._exit_budget)
        except Exception:  # noqa: S110  # a half-made client, or the interpreter shutting down
            pass

    def _after_fork(self) -> None:
        """In a forked child: fresh locks, no inherited pool, its own sender, and none of the
        parent's queued events (the parent delivers those; a copy here would be sent twice).

        Another thread of the parent may have held any lock at fork time, and the pool's
        sockets are the parent's: the child must use neither.
        """
        was_running = self._runner is not None and self._runner.mode == "thread"
        self._lock = threading.RLock()
        self._queue.reset_after_fork()
        self._stats.__init__()  # type: ignore[misc]  # the child counts its own events
        self._cache._lock = threading.Lock()
        self._log._lock = threading.Lock()
        self._runner = None
        if self._finalizer is not None:
            self._finalizer.detach()
            self._finalizer = None
        delivery = self._delivery
        if delivery is not None:
            delivery.after_fork()
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

    def close(self) -> None:
        """Release the connection pool and the spool without sending anything.

        For a client that was never started or only fetched predictions. Events still queued
        stay queued (with a spool, they are moved into it first); a later request reopens what
        it needs. A running sender is stopped first, as by `stop()`.
        """
        if self.is_running:
            self.stop()
            return
        delivery = self._delivery
        if delivery is not None:
            delivery.source.persist()
            delivery.close()

    async def aclose(self) -> None:
        """`close()` for an event loop: also releases the loop's own connection pool."""
        if self.is_running:
            await self.stop_async()
            return
        delivery = self._delivery
        if delivery is not None:
            delivery.source.persist()
            await delivery.aclose()

    # -- async lifecycle -------------------------------------------------------------------

    async def start_async(self) -> None:
        """Start the background asyncio task that flushes every `submit_interval_seconds`."""
        import asyncio

        delivery = self._ready("start_async()")
        if delivery is None:
            return
        loop = asyncio.get_running_loop()
        from mosaicstack_telemetry._runners import TaskRunner, replaceable

        with self._lock:
            runner = self._runner
            if runner is not None and not replaceable(runner, loop):
                if runner.mode == "thread":
                    logger.warning("start_async() ignored: a thread sender is already running")
                return
            self._stopped = False

            self._runner = task = TaskRunner(delivery, loop)
            task.start()

    async def stop_async(self, timeout: float | None = None) -> None:
        """Stop whichever sender runs, after a final flush. Safe without a start.

        Returns within `timeout` (default `shutdown_timeout_seconds`), like `stop()`.
        """
        deadline = self._deadline(timeout)
        delivery = self._delivery
        runner = self._take_runner()
        self._stopped = True  # before the final flush, as in stop()
        try:
            if delivery is not None:
                from mosaicstack_telemetry._runners import finish_async

                await finish_async(delivery, runner, deadline)
        except BaseException:
            self._stopped = False
            self._interrupted()
            raise
        finally:
            self._release_runner(runner)

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

    def get_prediction(
        self, query: mosaicstack_telemetry.PredictionQuery
    ) -> mosaicstack_telemetry.PredictionResponse | None:
        """The cached prediction for `query`, or None if not cached or expired."""
        return self._cache.get(query)

    def refresh_predictions_sync(
        self, queries: Sequence[mosaicstack_telemetry.PredictionQuery]
    ) -> None:
        """Fetch predictions (`POST /v1/predictions/batch`) into the cache; never raises."""
        try:
            asked = query_list("refresh_predictions_sync()", queries, self._log)
            delivery = self._ready("refresh_predictions_sync()") if asked else None
            if delivery is not None:
                delivery.refresh(asked, self._cache)
        except Exception:
            logger.exception("Telemetry prediction refresh failed")

    async def refresh_predictions(
        self, queries: Sequence[mosaicstack_telemetry.PredictionQuery]
    ) -> None:
        """Fetch predictions asynchronously into the cache; never raises."""
        try:
            asked = query_list("refresh_predictions()", queries, self._log)
            delivery = self._ready("refresh_predictions()") if asked else None
            if delivery is not None:
                await delivery.refresh_async(asked, self._cache)
        except Exception:
            logger.exception("Telemetry prediction refresh failed")


def _tell(client: TelemetryClient, event: object, why: str | None) -> None:
    for tap in _taps:
        tap(client, event, why)
