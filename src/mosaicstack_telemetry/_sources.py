"""Where a flush takes its work from, and what it does with each job afterwards.

`EventSource` serves the events path: the in-memory queue, or the durable spool when one is
configured (falling back to memory, once, with the reason, if the spool cannot be used).
`PredictionSource` (in `_predictionsource`) serves one `refresh_predictions*` call. Both count
and log what the planner decided, so the two drivers share every word and every counter.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from typing import Any

from mosaicstack_telemetry._answers import read_events_answer
from mosaicstack_telemetry._counters import Stats
from mosaicstack_telemetry._defaults import BUILDER_DEFAULTS
from mosaicstack_telemetry._errors import DeliveryError
from mosaicstack_telemetry._log import ERROR, WARNING, RateLimitedLog, logger
from mosaicstack_telemetry._models import TaskCompletionEvent, dump_event, dump_events_body
from mosaicstack_telemetry._planner import Settle
from mosaicstack_telemetry._queue import EventQueue
from mosaicstack_telemetry._spool import Spool, SpooledEvent, describe_problem, is_busy
from mosaicstack_telemetry._wire import EVENTS, Answer, Request

OnError = Callable[[DeliveryError, Sequence[TaskCompletionEvent]], None]


class EventSource:
    """The events a client tracked: its queue, moved into its spool when it has one.

    A leased spool batch stays counted as `spooled`; a batch taken from memory is counted
    `in_flight` until it is settled, so the counters account for every event at every moment.
    """

    def __init__(
        self,
        queue: EventQueue,
        stats: Stats,
        log: RateLimitedLog,
        spool: Spool | None,
        lease_seconds: float,
        on_error: OnError | None = None,
        url: str = "",
        instance: str = "",
    ) -> None:
        self.queue, self.stats, self._log = queue, stats, log
        self.spool = spool
        self.url = url  # the server's, for messages and `on_error`
        self.instance = instance  # whose events this source sends from a shared spool
        self._lease = lease_seconds
        self.on_error = on_error

    # -- the spool, and what happens when it cannot be used ---------------------------------

    def _spool_failed(self, exc: Exception) -> None:
        """Give up the spool for this client, once, with the reason; carry on in memory.

        Another process holding the file longer than the wait (a busy shared spool) is not a
        reason: that attempt is given up, and the next one tries the spool again.
        """
        if is_busy(exc):
            self.stats.error(f"spool: {exc}")
            self._log.log(
                WARNING,
                "spool-busy",
                "The spool %s was busy (%s); trying again later",
                self.spool.path if self.spool else "",
                exc,
            )
            return
        spool, self.spool = self.spool, None
        if spool is None:
            return
        logger.error(
            "The spool %s cannot be used (%s); telemetry carries on in memory",
            spool.path,
            describe_problem(spool.path, exc),
        )
        self.stats.error(f"spool: {exc}")
        with contextlib.suppress(Exception):  # already reported; closing is a courtesy
            spool.close()

    def persist(self) -> None:
        """Move what is queued in memory into the spool (no-op without one)."""
        spool = self.spool
        if spool is None:
            return
        written = self._dump_each(self.queue.drain(self.queue.size))
        if not written:
            return
        try:
            # Under this client's instance, whatever the event says: the client sends what it
            # tracked (an event of another instance is refused by the server and counted, as
            # without a spool), and never what another instance's processes spooled.
            rows = ((str(e.event_id), self.instance, body) for e, body in written)
            self.stats.drop("spool_evicted", spool.add(rows))
        except Exception as exc:
            self.queue._put_back([event for event, _ in written])  # they stay in memory
            self._spool_failed(exc)
        except BaseException:  # Ctrl-C, or a signal handler's sys.exit(), in the middle
            self.queue._put_back([event for event, _ in written])  # for the exit flush
            raise

    def spooled(self) -> int:
        spool = self.spool
        if spool is None:
            return 0
        try:
            return spool.count(self.instance)
        except Exception as exc:
            self._spool_failed(exc)
            return 0

    def waiting(self) -> int:
        """Events not delivered yet and not in flight: queued plus spooled."""
        return self.queue.size + self.spooled()

    def holds_events(self) -> bool:
        """Whether events sit in memory undelivered: queued, or in a request not settled yet
        (which a sender that can no longer run, its loop closed, will never settle)."""
        return not self.queue.is_empty or self.stats.in_flight > 0

    def close(self) -> None:
        if self.spool is not None:
            self.spool.close()

    # -- what a flush does -----------------------------------------------------------------

    def take(self, count: int, whole: bool) -> list[Any]:
        self.persist()
        spool = self.spool
        if spool is not None:
            try:
                if whole and spool.count(self.instance) < count:
                    return []
                return spool.lease(count, self._lease, self.instance)
            except Exception as exc:
                self._spool_failed(exc)
        if whole and self.queue.size < count:
            return []
        events = self.queue.drain(count)
        self.stats.add("in_flight", len(events))
        return events

    def request(self, items: list[Any]) -> Request | None:
        if items and isinstance(items[0], SpooledEvent):
            body = b'{"events":[' + b",".join(e.body for e in items) + b"]}"
            return Request(EVENTS, body, len(items))
        try:
            return Request(EVENTS, dump_events_body(items), len(items))
        except Exception:  # noqa: S110  # one event of the batch, most likely: found below
            pass
        written = self._dump_each(items)
        self.stats.add("in_flight", len(written) - len(items))  # the dropped leave for good
        # The job's own list keeps only the events this request carries.
        items[:] = [event for event, _ in written]
        if not written:
            return None
        body = b'{"events":[' + b",".join(b for _, b in written) + b"]}"
        return Request(EVENTS, body, len(written))

    def _dump_each(
        self, events: list[TaskCompletionEvent]
    ) -> list[tuple[TaskCompletionEvent, bytes]]:
        """Each event with its JSON. An event that cannot be written (a `before_send` that set
        a value the model cannot serialize) is dropped, counted and logged on its own: the
        others of its batch still go, and a spool is not blamed for it."""
        written, failed = [], []
        for event in events:
            try:
                written.append((event, dump_event(event)))
            except Exception as exc:
                failed.append(exc)
        if failed:
            self.stats.drop("serialization_error", len(failed))
            self._log.log(
                ERROR,
                "serialize",
                "Dropped %d events that could not be serialized (%s); check what before_send "
                "returns",
                len(failed),
                failed[0],
            )
        return written

    def settle(self, settle: Settle) -> None:
        items, how = settle.job.items, settle.how
        if how == "failed":
            self.stats.error(settle.error or settle.reason)
            if settle.retry:
                self.stats.add("retried")
        elif how == "delivered":
            self._finish(items)
            self._delivered(settle, len(items))
        elif how == "back":
            self._back(items)
        elif how == "kept":
            self._back(items, count=False)
            self.stats.error(refused(settle))
            self._log.log(
                ERROR,
                settle.reason,
                "Kept a batch of %d events in the spool: %s answered %s%s; fix the API key, "
                "they are sent again by the next flush",
                len(items),
                self.url,
                settle.reason,
                answer_detail(settle),
            )
        else:  # dropped
            self._finish(items)
            self.stats.drop(settle.reason, len(items))
            self.stats.error(refused(settle))
            answer = settle.answer
            status = answer.status if answer is not None else None
            self._log.log(
                ERROR,
                settle.reason,
                "Dropped a batch of %d events: %s answered %s%s; retrying cannot succeed%s",
                len(items),
                self.url,
                settle.reason,
                answer_detail(settle),
                _WRONG_PATH if status in (404, 405) else "",
            )
            detail = answer.detail() if answer is not None else ""
            self.report(DeliveryError(settle.reason, detail, status=status, url=self.url), items)

    def _delivered(self, settle: Settle, count: int) -> None:
        answer = settle.answer
        assert answer is not None
        if answer.dry_run:
            self.stats.add("dry_run", count)
            return
        verdict = read_events_answer(answer.data, count, reason=answer.problem)
        log_unreadable(answer, verdict.reason)
        if not verdict.readable:
            # 2xx without a readable body: the server has the batch; count it as sent.
            self._log.log(
                WARNING,
                "bad-202",
                "The server accepted a batch of %d events with an unreadable response body",
                count,
            )
        self.stats.add("sent", verdict.sent)
        self.stats.add("duplicate", verdict.duplicate)
        self.stats.add("rejected", verdict.rejected)
        for status in verdict.unknown_statuses:
            self._log.log(
                WARNING,
                f"status-{status}",
                "The server answered the event status %r, which this SDK does not know; "
                "such events are counted as sent and not re-sent (a newer SDK may know it)",
                status,
            )
        if verdict.rejections:
            self._log.log(
                WARNING,
                "rejected",
                "The server rejected %d events: %s",
                len(verdict.rejections),
                "; ".join(map(str, verdict.rejections)),
            )

    def _finish(self, items: list[Any]) -> None:
        """The job's items leave for good (delivered or dropped)."""
        if items and isinstance(items[0], SpooledEvent):
            self._spool_op(lambda spool: spool.ack(items))
        else:
            self.stats.add("in_flight", -len(items))

    def _back(self, items: list[Any], count: bool = True) -> None:
        if not items:
            return
        if isinstance(items[0], SpooledEvent):
            self._spool_op(lambda spool: spool.release(items))
            if count:
                self.stats.add("requeued", len(items))
            return
        self.stats.add("in_flight", -len(items))
        evicted = self.queue._put_back(items)
        if count:
            self.stats.add("requeued", len(items) - evicted)

    def _spool_op(self, op: Callable[[Spool], None]) -> None:
        spool = self.spool
        if spool is not None:
            try:
                op(spool)
            except Exception as exc:
                self._spool_failed(exc)

    def report(self, error: DeliveryError, items: list[Any]) -> None:
        """Call the user's `on_error` with the affected events; its errors never escape."""
        callback = self.on_error
        if callback is None or not items:
            return
        try:
            if isinstance(items[0], SpooledEvent):
                items = [TaskCompletionEvent.model_validate_json(e.body) for e in items]
            callback(error, list(items))
        except Exception:
            # Logged with its traceback; `last_error` keeps the delivery's own error, which
            # is what a user reading the stats needs to fix.
            self._log.log(
                ERROR,
                "on-error",
                "The on_error callback raised an exception",
                exc_info=True,
            )


def log_unreadable(answer: Answer, reason: str | None) -> None:
    """Why (part of) a 2xx answer could not be read, at DEBUG, with the body's first bytes."""
    if reason is not None:
        logger.debug(
            "Part of a 2xx answer could not be read: %s; it began %r",
            reason,
            (answer.content or b"")[:200],
        )


def warm_up() -> None:
    """Do once, now, what a first event flush does for the first time without the network:
    validate, serialize and read an answer. pydantic-core sets up process-wide state on its
    first serialization; a child forked while the sender was doing that hung at its own
    first flush. `make_wire` runs this while forks wait (see `_wire._loading`)."""
    sample = {**BUILDER_DEFAULTS, "instance_id": "00000000-0000-0000-0000-000000000000"}
    event = TaskCompletionEvent.model_validate(sample)
    dump_events_body([event])
    dump_event(event)
    result = {"index": 0, "event_id": str(event.event_id), "status": "accepted"}
    read_events_answer({"accepted": 1, "rejected": 0, "duplicate": 0, "results": [result]}, 1)


#: What a 404 or 405 for the events endpoint means: the URL, not the events.
_WRONG_PATH = (
    "; check server_url: it must be the server's base URL, to which the SDK appends "
    "/v1/events/batch"
)


def answer_detail(settle: Settle) -> str:
    text = settle.answer.detail() if settle.answer is not None else ""
    return f" ({text})" if text else ""


def refused(settle: Settle) -> str:
    """`last_error` for a batch the server refused for good (kept or dropped): its status and
    the start of its body, e.g. `HTTP 403: {"detail":"unknown API key"}`."""
    answer = settle.answer
    if answer is None:  # pragma: no cover  # kept/dropped always come with an answer
        return settle.reason
    text = answer.detail()
    return f"HTTP {answer.status}: {text}" if text else f"HTTP {answer.status}"
