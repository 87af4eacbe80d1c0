"""Delivery: drain the queue in batches and send them under the retry policy.

Shared by the sync thread, the async task and the final flush of `stop()`; the sync and async
paths differ only in how they send and wait, every decision comes from `_retry.decide`.
"""

from __future__ import annotations

import logging
import random
import sys
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from mosaicstack_telemetry._answers import (
    decode_json,
    read_events_answer,
    read_predictions_answer,
)
from mosaicstack_telemetry._config import TelemetryConfig
from mosaicstack_telemetry._log import RateLimitedLog, logger
from mosaicstack_telemetry._models import (
    PredictionQuery,
    PredictionResponse,
    TaskCompletionEvent,
    dump_events_body,
)
from mosaicstack_telemetry._queue import EventQueue
from mosaicstack_telemetry._retry import BACKOFF_CAP, Action, Step, decide, monotonic, scaled
from mosaicstack_telemetry._spool import Spool, SpooledEvent
from mosaicstack_telemetry._stats import Stats
from mosaicstack_telemetry._transport import RawResponse, Transport

if TYPE_CHECKING:
    import asyncio  # imported where used: sync-only programs never load it

_NEVER = threading.Event()  # a wait on it only ends by its timeout


class Source(Protocol):
    """Where a flush takes its batches from, and what it does with them afterwards."""

    def take(self, limit: int) -> list[Any]: ...
    def body(self, items: list[Any]) -> bytes | None: ...  # None: dropped, unserializable
    def done(self, items: list[Any]) -> None: ...  # the server has them
    def dropped(self, items: list[Any], reason: str) -> bool: ...  # True: kept after all
    def back(self, items: list[Any]) -> None: ...  # keep for a later attempt


class MemorySource:
    """The in-memory queue: what goes back goes to its front."""

    def __init__(self, queue: EventQueue, stats: Stats, log: RateLimitedLog) -> None:
        self._queue, self._stats, self._log = queue, stats, log

    def take(self, limit: int) -> list[TaskCompletionEvent]:
        return self._queue.drain(limit)

    def body(self, items: list[TaskCompletionEvent]) -> bytes | None:
        try:
            return dump_events_body(items)
        except Exception as exc:  # a model mutated into something unserializable
            self._stats.drop("serialization_error", len(items))
            self._log.log(
                logging.ERROR,
                "serialize",
                "Dropped %d events that could not be serialized: %s",
                len(items),
                exc,
            )
            return None

    def done(self, items: list[TaskCompletionEvent]) -> None:
        pass

    def dropped(self, items: list[TaskCompletionEvent], reason: str) -> bool:
        return False

    def back(self, items: list[TaskCompletionEvent]) -> None:
        if items:
            evicted = self._queue._put_back(items)
            self._stats.add("requeued", len(items) - evicted)


class SpoolSource:
    """The durable spool: events leave it only once the server has accepted them.

    401/403 batches stay in it (for a later, fixed config); other permanent failures leave.
    """

    def __init__(self, spool: Spool, queue: EventQueue, stats: Stats, lease: float) -> None:
        self.spool, self._queue, self._stats, self._lease = spool, queue, stats, lease

    def persist(self, events: list[TaskCompletionEvent]) -> None:
        if not events:
            return
        try:
            self._stats.drop("spool_evicted", self.spool.add_events(events))
        except Exception:
            self._queue._put_back(events)  # keep them in memory; the next cycle tries again
            logger.exception(
                "Could not write %d events to the spool %s", len(events), self.spool.path
            )

    def take(self, limit: int) -> list[SpooledEvent]:
        return self.spool.lease(limit, self._lease)

    def body(self, items: list[SpooledEvent]) -> bytes | None:
        return b'{"events":[' + b",".join(e.body for e in items) + b"]}"

    def done(self, items: list[SpooledEvent]) -> None:
        self.spool.ack(items)

    def dropped(self, items: list[SpooledEvent], reason: str) -> bool:
        if reason in ("http_401", "http_403"):
            self.spool.release(items)
            return True
        self.spool.ack(items)
        return False

    def back(self, items: list[SpooledEvent]) -> None:
        if items:
            self.spool.release(items)
            self._stats.add("requeued", len(items))


@dataclass(frozen=True)
class Final:
    """How a request ended after its retries: the last step and the last answer, if any."""

    step: Step
    raw: RawResponse | None


class Sender:
    """Sends what the queue holds. Safe to use from several threads at once."""

    def __init__(
        self,
        config: TelemetryConfig,
        queue: EventQueue,
        stats: Stats,
        transport: Transport | None,
        log: RateLimitedLog,
        spool: Spool | None = None,
    ) -> None:
        self._config = config
        self._queue = queue
        self._stats = stats
        self._transport = transport
        self._log = log
        self._batch_size = self.batch_size = config.batch_size
        self._max_retries = config.max_retries
        self._rng = random.Random()  # noqa: S311  # jitter only
        self._url = f"{config.server_url}/v1/events/batch"
        self._memory = MemorySource(queue, stats, log)
        # A lease outlives every retry of one batch; a dead holder's lease is reclaimed sooner.
        lease = (config.request_timeout_seconds + BACKOFF_CAP) * (config.max_retries + 1) + 60
        self._spool = None if spool is None else SpoolSource(spool, queue, stats, lease)

    def close(self) -> None:
        """Close the HTTP pool and the spool; a later request opens new ones."""
        if self._transport is not None:
            self._transport.close()
        if self._spool is not None:
            self._spool.spool.close()

    @property
    def spool(self) -> Spool | None:
        return None if self._spool is None else self._spool.spool

    # -- one request, with retries -------------------------------------------------------

    def _step(
        self,
        raw: RawResponse | None,
        error: str | None,
        attempt: int,
        batch_size: int,
        retries: int,
    ) -> Step:
        status = raw.status if raw is not None else None
        retry_after = raw.headers.get("retry-after") if raw is not None else None
        step = decide(status, retry_after, attempt, retries, batch_size, self._rng)
        if step.action is not Action.DONE:
            self._stats.error(error or f"HTTP {status}")
        return step

    def _request_sync(
        self,
        request: dict[str, Any],
        size: int,
        interrupt: threading.Event,
        deadline: float | None,
        splittable: bool = True,
        retries: int | None = None,
    ) -> Final:
        assert self._transport is not None
        retries = self._max_retries if retries is None else retries
        attempt = 0
        while True:
            if deadline is not None and monotonic() >= deadline:
                return Final(Step(Action.GIVE_UP, "deadline"), None)
            raw, error = None, None
            try:
                raw = self._transport.send(request, deadline)
            except Exception as exc:  # timeouts, refused or dropped connections, TLS, ...
                error = f"{type(exc).__name__}: {exc}"
            self._debug(request, size, raw, error)
            step = self._step(raw, error, attempt, size if splittable else 1, retries)
            if step.action is not Action.RETRY:
                return Final(step, raw)
            if deadline is not None and monotonic() + scaled(step.wait) > deadline:
                return Final(Step(Action.GIVE_UP, "deadline"), raw)
            if interrupt.wait(scaled(step.wait)):
                return Final(Step(Action.GIVE_UP, "stopped"), raw)
            attempt += 1
            self._stats.add("retried")

    async def _request_async(
        self,
        request: dict[str, Any],
        size: int,
        interrupt: asyncio.Event,
        deadline: float | None,
        splittable: bool = True,
        retries: int | None = None,
    ) -> Final:
        import asyncio

        assert self._transport is not None
        retries = self._max_retries if retries is None else retries
        attempt = 0
        while True:
            if deadline is not None and monotonic() >= deadline:
                return Final(Step(Action.GIVE_UP, "deadline"), None)
            raw, error = None, None
            try:
                raw = await self._transport.send_async(request, deadline)
            except Exception as exc:
                error = f"{type(exc).__name__}: {exc}"
            self._debug(request, size, raw, error)
            step = self._step(raw, error, attempt, size if splittable else 1, retries)
            if step.action is not Action.RETRY:
                return Final(step, raw)
            if deadline is not None and monotonic() + scaled(step.wait) > deadline:
                return Final(Step(Action.GIVE_UP, "deadline"), raw)
            try:
                await asyncio.wait_for(interrupt.wait(), scaled(step.wait))
                return Final(Step(Action.GIVE_UP, "stopped"), raw)
            except asyncio.TimeoutError:
                pass
            attempt += 1
            self._stats.add("retried")

    def _debug(
        self, request: dict[str, Any], size: int, raw: RawResponse | None, error: str | None
    ) -> None:
        if logger.isEnabledFor(logging.DEBUG):
            if raw is not None:
                logger.debug(
                    "%s %s: %d items, HTTP %d in %.3f s",
                    request["method"].upper(),
                    request["url"],
                    size,
                    raw.status,
                    raw.elapsed,
                )
            else:
                logger.debug(
                    "%s %s: %d items, failed: %s",
                    request["method"].upper(),
                    request["url"],
                    size,
                    error,
                )

    # -- events ----------------------------------------------------------------------------

    def _dry_run(self, count: int) -> None:
        logger.info("[DRY RUN] Would submit batch of %d events to %s", count, self._url)
        self._stats.add("dry_run", count)

    def _settle(
        self, part: list[Any], final: Final, pending: list[list[Any]], source: Source
    ) -> bool:
        """Count, log and settle a batch's end with its source. True if the flush must end."""
        step, raw = final.step, final.raw
        if step.action is Action.DONE:
            self._accepted(len(part), raw)
            source.done(part)
        elif step.action is Action.SPLIT:
            mid = len(part) // 2
            pending.extend((part[mid:], part[:mid]))  # popped from the end: first half first
        elif step.action is Action.DROP:
            kept = source.dropped(part, step.reason)
            if not kept:
                self._stats.drop(step.reason, len(part))
            self._log.log(
                logging.ERROR,
                step.reason,
                "%s a batch of %d events: the server answered %s%s; retrying cannot succeed",
                "Kept (in the spool)" if kept else "Dropped",
                len(part),
                step.reason,
                self._detail(raw),
            )
            if kept:
                source.back([e for p in pending for e in p])
                return True
        else:
            leftover = part + [e for p in pending for e in p]
            source.back(leftover)
            self._log.log(
                logging.WARNING,
                "give-up",
                "Could not deliver %d events (%s); they are kept for the next attempt",
                len(leftover),
                step.reason,
            )
            return True
        return False

    def _accepted(self, count: int, raw: RawResponse | None) -> None:
        assert raw is not None
        # Read from the JSON itself, not the generated client's all-or-nothing parse: each
        # result is judged on its own (_answers), and the reason for any failure is kept.
        body, why = decode_json(raw.content)
        verdict = read_events_answer(body, count, reason=why)
        if verdict.reason is not None:
            logger.debug(
                "Part of a 2xx answer could not be read: %s; it began %r",
                verdict.reason,
                (raw.content or b"")[:200],
            )
        if not verdict.readable:
            # 2xx without a readable body: the server has the batch; count it as sent.
            self._log.log(
                logging.WARNING,
                "bad-202",
                "The server accepted a batch of %d events with an unreadable response body",
                count,
            )
        self._stats.add("sent", verdict.sent)
        self._stats.add("duplicate", verdict.duplicate)
        self._stats.add("rejected", verdict.rejected)
        for status in verdict.unknown_statuses:
            self._log.log(
                logging.WARNING,
                f"status-{status}",
                "The server answered the event status %r, which this SDK does not know; "
                "such events are counted as sent and not re-sent (a newer SDK may know it)",
                status,
            )
        if verdict.rejections:
            self._log.log(
                logging.WARNING,
                "rejected",
                "The server rejected %d events: %s",
                len(verdict.rejections),
                "; ".join(map(str, verdict.rejections)),
            )

    @staticmethod
    def _detail(raw: RawResponse | None) -> str:
        if raw is None or not raw.content:
            return ""
        return f" ({raw.content[:300].decode('utf-8', 'replace')})"

    def _source(self) -> Source:
        """Where batches come from: the spool when one is configured (after moving the queue
        into it), else the in-memory queue."""
        if self._spool is None:
            return self._memory
        self.persist()
        return self._spool

    def persist(self) -> None:
        """Move everything queued in memory into the spool (no-op without one)."""
        if self._spool is not None:
            self._spool.persist(self._queue.drain(self._queue.size))

    def flush_sync(self, interrupt: threading.Event | None, deadline: float | None) -> bool:
        """Send batches until the source is empty; False if a batch had to go back.

        With a deadline (stop, flush, exit) a batch is retried until the deadline, or a wait
        that would cross it, ends the flush, whatever `max_retries` says.
        """
        source = self._source()
        retries = self._max_retries if deadline is None else sys.maxsize
        while batch := source.take(self._batch_size):
            pending = [batch]
            while pending:
                part = pending.pop()
                body = source.body(part)
                if body is None:
                    continue
                if self._config.dry_run:
                    self._dry_run(len(part))
                    source.done(part)
                    continue
                request = self._transport.events_request(body)  # type: ignore[union-attr]
                final = self._request_sync(
                    request, len(part), interrupt or _NEVER, deadline, retries=retries
                )
                if self._settle(part, final, pending, source):
                    return False
        return True

    async def flush_async(self, interrupt: asyncio.Event | None, deadline: float | None) -> bool:
        """`flush_sync` for an event loop."""
        import asyncio

        source = self._source()
        interrupt = interrupt or asyncio.Event()
        retries = self._max_retries if deadline is None else sys.maxsize
        while batch := source.take(self._batch_size):
            pending = [batch]
            while pending:
                part = pending.pop()
                body = source.body(part)
                if body is None:
                    continue
                if self._config.dry_run:
                    self._dry_run(len(part))
                    source.done(part)
                    continue
                request = self._transport.events_request(body)  # type: ignore[union-attr]
                try:
                    final = await self._request_async(
                        request, len(part), interrupt, deadline, retries=retries
                    )
                except asyncio.CancelledError:
                    source.back(part + [e for p in pending for e in p])
                    raise
                if self._settle(part, final, pending, source):
                    return False
        return True

    # -- predictions -----------------------------------------------------------------------

    def _predictions_request(self, queries: Sequence[PredictionQuery]) -> dict[str, Any]:
        from _mosaicstack_telemetry_generated.client.models import PredictionBatchRequest

        assert self._transport is not None
        body = PredictionBatchRequest.from_dict(
            {"queries": [q.model_dump(mode="json") for q in queries]}
        )
        request: dict[str, Any] = self._transport.predictions_api._get_kwargs(body=body)
        return request

    def _predictions(self, final: Final, count: int) -> list[PredictionResponse] | None:
        assert self._transport is not None
        if final.step.action is Action.DONE and final.raw is not None:
            parsed = self._transport.parse(self._transport.predictions_api, final.raw)
            results = read_predictions_answer(None if parsed is None else parsed.to_dict(), count)
            if results is not None:
                return results
            self._log.log(
                logging.ERROR,
                "bad-predictions",
                "The server's predictions response "
                "could not be read; the cache keeps its old entries",
            )
            return None
        self._log.log(
            logging.ERROR,
            f"predictions-{final.step.reason}",
            "Could not fetch predictions (%s%s); the cache keeps its old entries",
            final.step.reason,
            self._detail(final.raw),
        )
        return None

    def predict_sync(self, queries: Sequence[PredictionQuery]) -> list[PredictionResponse] | None:
        request = self._predictions_request(queries)
        final = self._request_sync(request, len(queries), _NEVER, None, splittable=False)
        return self._predictions(final, len(queries))

    async def predict_async(
        self, queries: Sequence[PredictionQuery]
    ) -> list[PredictionResponse] | None:
        import asyncio

        request = self._predictions_request(queries)
        final = await self._request_async(
            request, len(queries), asyncio.Event(), None, splittable=False
        )
        return self._predictions(final, len(queries))
