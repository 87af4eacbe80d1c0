"""Counters of what happened to events, so a user can see any loss."""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field


@dataclass(frozen=True)
class TelemetryStats:
    """A snapshot of a client's counters (see `TelemetryClient.stats()`)."""

    sent: int = 0  #: events the server accepted (with a status unknown to the SDK, too)
    rejected: int = 0  #: events the server rejected individually inside a 202
    dry_run: int = 0  #: events serialized and logged instead of sent (dry-run)
    retried: int = 0  #: request attempts that were retried
    requeued: int = 0  #: events put back in the queue after retries ran out
    dropped: dict[str, int] = field(default_factory=dict)  #: events dropped, by reason
    evicted: int = 0  #: events evicted because the queue was full
    queued: int = 0  #: events in the queue now
    spooled: int = 0  #: events in the durable spool now (0 without one)
    last_error: str | None = None  #: the most recent failure, if any
    #: events the server had already stored for this instance (re-sends that landed before);
    #: delivered, never re-sent
    duplicate: int = 0
    in_flight: int = 0  #: events taken from memory into a request not answered yet
    internal_errors: int = 0  #: flushes that failed unexpectedly (logged); the sender goes on


@dataclass(frozen=True)
class FlushResult:
    """What one `flush()` did."""

    sent: int  #: events the server accepted (or logged, in dry-run)
    rejected: int  #: events the server rejected individually
    dropped: int  #: events dropped (a status retrying cannot fix, or unserializable)
    remaining: int  #: events still queued: the deadline passed before they could be sent
    duplicate: int = 0  #: events the server already had (delivered before; not re-sent)

    @classmethod
    def between(cls, before: TelemetryStats, after: TelemetryStats) -> FlushResult:
        return cls(
            sent=after.sent - before.sent + after.dry_run - before.dry_run,
            rejected=after.rejected - before.rejected,
            dropped=sum(after.dropped.values()) - sum(before.dropped.values()),
            remaining=after.queued + after.spooled,
            duplicate=after.duplicate - before.duplicate,
        )


class Stats:
    """Thread-safe counters behind `TelemetryStats`; never touched by a successful `track()`."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.sent = self.rejected = self.dry_run = self.retried = self.requeued = 0
        self.in_flight = self.internal_errors = self.duplicate = 0
        self.dropped: Counter[str] = Counter()
        self.last_error: str | None = None

    def add(self, name: str, count: int = 1) -> None:
        with self._lock:
            setattr(self, name, getattr(self, name) + count)

    def drop(self, reason: str, count: int = 1) -> None:
        if count:
            with self._lock:
                self.dropped[reason] += count

    def error(self, message: str) -> None:
        self.last_error = message

    def snapshot(self, evicted: int, queued: int, spooled: int = 0) -> TelemetryStats:
        with self._lock:
            return TelemetryStats(
                sent=self.sent,
                rejected=self.rejected,
                dry_run=self.dry_run,
                retried=self.retried,
                requeued=self.requeued,
                dropped=dict(self.dropped),
                evicted=evicted,
                queued=queued,
                spooled=spooled,
                in_flight=self.in_flight,
                internal_errors=self.internal_errors,
                last_error=self.last_error,
                duplicate=self.duplicate,
            )
