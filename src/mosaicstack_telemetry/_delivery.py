"""What one client's deliveries share: its source, wires, congestion state and policy.

A `Delivery` holds no reference to its `TelemetryClient`, so a client dropped without `stop()`
can be garbage-collected while its sender flushes what is left. Every flush, whether the
background sender's, `flush()`'s, `stop()`'s or the exit hook's, is built here, and every
finish (flush to the deadline, close the wire and the spool, say what is left) is `finish`.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

from mosaicstack_telemetry._cache import PredictionCache
from mosaicstack_telemetry._config import TelemetryConfig
from mosaicstack_telemetry._counters import Stats
from mosaicstack_telemetry._drivers import AsyncMailbox, Mailbox, flush_async, flush_blocking
from mosaicstack_telemetry._errors import DeliveryError
from mosaicstack_telemetry._flow import Flow
from mosaicstack_telemetry._log import WARNING, RateLimitedLog, logger
from mosaicstack_telemetry._planner import Done, Planner, Policy
from mosaicstack_telemetry._predictionsource import PredictionSource
from mosaicstack_telemetry._queue import EventQueue
from mosaicstack_telemetry._retry import BACKOFF_CAP
from mosaicstack_telemetry._sources import EventSource, warm_up
from mosaicstack_telemetry._spool import Spool
from mosaicstack_telemetry._wire import (
    Wire,
    hook_forks,
    make_dry_run_wire,
    make_wire,
    override,
)
from mosaicstack_telemetry._workers import Workers, on_worker

if TYPE_CHECKING:
    import asyncio

    from mosaicstack_telemetry._drivers import Source
    from mosaicstack_telemetry._predictionmodels import PredictionQuery


class Delivery:
    """The shared parts of one client's event and prediction delivery."""

    def __init__(self, config: TelemetryConfig, source: EventSource) -> None:
        self.config = config
        self.source = source
        self.url = config.server_url
        self.batch_size = int(config.batch_size)
        self.interval = float(config.submit_interval_seconds)
        self.flow = Flow(config.max_concurrent_requests)
        self.workers = Workers()
        self._lock = threading.Lock()
        self._wire: Wire | None = None
        #: A client made while a `captured_telemetry` test runs stays captured for good: its
        #: events must never reach a real server, not even at exit, after the test.
        self._captured = override()
        self._rng = random.Random()  # noqa: S311  # jitter, not cryptography

    @classmethod
    def create(
        cls, config: TelemetryConfig, queue: EventQueue, stats: Stats, log: RateLimitedLog
    ) -> Delivery:
        """The delivery of a valid config: its queue, moved into a spool if one is set.

        A dry run opens no spool: what waits there (the hook's, another process's) is for real
        sends, and a dry run would answer it as accepted, and so delete it, without sending it.
        """
        path, spool = config.spool_path, None
        if path and config.dry_run:
            logger.info("[DRY RUN] The spool %s is not used: its events wait for a real send", path)
        elif path:
            spool = Spool(path, config.spool_max_events)
        # A spool lease outlives every retry of one batch; a dead holder's is reclaimed
        # sooner (see `Spool.lease`).
        lease = (config.request_timeout_seconds + BACKOFF_CAP) * (config.max_retries + 1) + 60
        source = EventSource(
            queue,
            stats,
            log,
            spool,
            lease,
            config.on_error,
            url=config.server_url,
            instance=str(config.instance_id),
        )
        return cls(config, source)

    # -- wires -----------------------------------------------------------------------------

    @property
    def wire(self) -> Wire:
        """The HTTP wire, made on first use (httpx and the generated client load then); the
        test's in-memory wire while a `captured_telemetry` test runs, whenever the client was
        made, and for good for a client made during one."""
        test_wire = override() or self._captured
        if test_wire is not None:
            return test_wire(self.config)
        wire = self._wire
        if wire is not None:  # made: no lock (a signal handler's flush may run inside one)
            return wire
        with self._lock:
            if self._wire is None:
                self._wire = make_wire(self.config, warm_up)
            return self._wire

    async def loop_wire(self) -> Wire:
        """`wire` for the running event loop. What its first use on a loop loads (the HTTP
        stack, the loop's connection pool and its CA bundle: about 0.1 s) loads on a worker
        thread: the loop goes on serving meanwhile, instead of stalling at a first flush."""
        import asyncio

        if override() or self._captured:
            return self.wire
        loop = asyncio.get_running_loop()
        wire = self._wire
        if wire is None or not wire.has_pool(loop):
            hook_forks()  # on this thread, as a sender's start does (see `_wire.hook_forks`)
            wire = await on_worker(self.workers, lambda: self._opened(loop))
        return wire

    def _opened(self, loop: asyncio.AbstractEventLoop) -> Wire:
        wire = self.wire
        wire.open_pool(loop)
        return wire

    @property
    def events_wire(self) -> Wire:
        """Where events go: the HTTP wire, or the dry-run wire (predictions still use HTTP)."""
        return make_dry_run_wire(self.url, warm_up) if self.config.dry_run else self.wire

    def close(self) -> None:
        """Close the sync pool and the spool; a later request or flush reopens them. The wire
        stays: an event loop of another thread may still use, and later close, its own pool."""
        wire = self._wire
        if wire is not None:
            wire.close()
        self.source.close()

    async def aclose(self) -> None:
        wire = self._wire
        if wire is not None:
            await wire.aclose()
        self.close()

    def after_fork(self) -> None:
        """In a forked child: fresh locks and workers, and the parent's pool dropped unclosed
        (its sockets are the parent's; closing them could disturb the parent)."""
        self._lock = threading.Lock()
        self._wire = None
        self.workers = Workers()
        self.flow = Flow(self.flow.limit)
        spool = self.source.spool
        if spool is not None:
            spool.reset_after_fork()

    # -- flushes ---------------------------------------------------------------------------

    def planner(
        self, deadline: float | None, *, fail_fast: bool = False, source: Source | None = None
    ) -> Planner:
        """A flush's planner: with a deadline it retries until then, else `max_retries`."""
        events = source is None
        policy = Policy(
            batch_size=self.batch_size,
            request_timeout=float(self.config.request_timeout_seconds),
            retries=None if deadline is not None else int(self.config.max_retries),
            deadline=deadline,
            independent=not events,
            keep_unauthorized=events and self.source.spool is not None,
            fail_fast=fail_fast,
            rng=self._rng,
        )
        return Planner(policy, self.flow, time.monotonic())

    def flush(self, mailbox: Mailbox, deadline: float | None, *, fail_fast: bool = False) -> Done:
        planner = self.planner(deadline, fail_fast=fail_fast)
        done = flush_blocking(planner, self.source, self.events_wire, mailbox, self.workers)
        self._gave_up(done)
        return done

    async def flush_async(
        self, mailbox: AsyncMailbox, deadline: float | None, *, fail_fast: bool = False
    ) -> Done:
        planner = self.planner(deadline, fail_fast=fail_fast)
        wire = self.events_wire if self.config.dry_run else await self.loop_wire()
        done = await flush_async(planner, self.source, wire, mailbox)
        self._gave_up(done)
        return done

    def paused(self) -> bool:
        """Whether every request waits now (a Retry-After, or failures in a row): the sender's
        requests in flight will not be answered soon."""
        return self.flow.resume_at > time.monotonic()

    def _gave_up(self, done: Done) -> None:
        """A flush that ended early says why and where, once a minute at most."""
        source = self.source
        if done.reason not in ("gave_up", "hopeless") or not source.waiting():
            return  # nothing is kept: a refusal dropped the events, and said so at ERROR
        source._log.log(
            WARNING,
            "give-up",
            "Could not deliver %d events to %s (last error: %s); they are kept for the next "
            "attempt",
            source.waiting(),
            self.url,
            source.stats.last_error,
        )

    def _prediction_source(
        self, queries: Sequence[PredictionQuery], cache: PredictionCache
    ) -> tuple[Planner, PredictionSource]:
        # Here, not at the top: a client that only sends events never loads the prediction
        # models (issue 16).
        from mosaicstack_telemetry._predictionmodels import MAX_QUERIES_PER_BATCH

        step = MAX_QUERIES_PER_BATCH
        chunks = [queries[i : i + step] for i in range(0, len(queries), step)]
        source = PredictionSource(chunks, cache, self.source._log, self.url)
        return self.planner(None, source=source), source

    def refresh(self, queries: Sequence[PredictionQuery], cache: PredictionCache) -> None:
        """Fetch predictions into `cache`, chunk by chunk, each under the retry policy."""
        planner, source = self._prediction_source(queries, cache)
        flush_blocking(planner, source, self.wire, Mailbox(), self.workers)
        source.report()

    async def refresh_async(
        self, queries: Sequence[PredictionQuery], cache: PredictionCache
    ) -> None:
        import asyncio

        planner, source = self._prediction_source(queries, cache)
        wire = await self.loop_wire()
        await flush_async(planner, source, wire, AsyncMailbox(asyncio.get_running_loop()))
        source.report()

    def finish(self, mailbox: Mailbox, deadline: float) -> None:
        """The final flush of `stop()` and of exit: send until empty or `deadline`, close the
        wire and the spool, and say what is left (`mailbox.exiting`: lost). Never raises."""
        done = None
        try:
            mailbox.finish_by(deadline)
            done = self.flush(mailbox, deadline)
        except Exception as exc:
            self.failed(exc, "The telemetry final flush failed")
        if not mailbox.defer_report:
            self.report_left(done, exiting=mailbox.exiting, why=mailbox.why)
        try:
            self.close()
        except Exception:
            logger.exception("Closing the telemetry client failed")

    async def finish_async(self, mailbox: AsyncMailbox, deadline: float) -> None:
        """`finish` in an event loop."""
        done = None
        try:
            mailbox.finish_by(deadline)
            done = await self.flush_async(mailbox, deadline)
        except Exception as exc:
            self.failed(exc, "The telemetry final flush failed")
        if not mailbox.defer_report:
            self.report_left(done, exiting=mailbox.exiting, why=mailbox.why)
        try:
            await self.aclose()
        except Exception:
            logger.exception("Closing the telemetry client failed")

    def failed(self, exc: Exception, message: str) -> None:
        """A flush failed unexpectedly: counted (`internal_errors`, `last_error`) and logged
        with its traceback; it gave back what it held."""
        stats = self.source.stats
        stats.error(f"{type(exc).__name__}: {exc}")
        stats.add("internal_errors")
        logger.exception(message)

    def report_left(self, done: Done | None, *, exiting: bool, why: str | None = None) -> None:
        """One WARNING when events are left: how many, why (`why`, else the last error),
        where, and what becomes of them."""
        source = self.source
        queued = source.queue.size
        if not queued and done is not None and done.complete:
            return  # what a shared spool still holds is other processes' to send
        spooled = source.spooled()
        left = queued + spooled
        if not left:
            return
        why = (
            why
            or source.stats.last_error
            or (
                "the deadline passed before they could be sent"
                if done is None or done.reason == "deadline"
                else done.reason
            )
        )
        if spooled and not queued:
            fate = f"they stay in the spool {source.spool.path if source.spool else ''}"
        elif exiting:
            fate = "they are lost: the process is exiting"
        else:
            fate = "they stay queued"
        logger.warning(
            "Telemetry: %d events were not delivered to %s (last error: %s); %s",
            left,
            self.url,
            why,
            fate,
        )
        if exiting and queued:
            events = source.queue.drain(queued)
            source.report(DeliveryError("deadline", why, url=self.url), events)
            source.queue._put_back(events)
