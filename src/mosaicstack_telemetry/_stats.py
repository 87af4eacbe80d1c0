"""What a user reads of a client's counters: `TelemetryStats` and `FlushResult`.

Loaded with the first snapshot (`stats()`, `flush()`, `stop()`), not with the SDK: making two
frozen dataclasses is about 1.5 ms, a sixth of what the SDK adds to pydantic's import
(issue 16). The counters themselves are `_counters.Stats`.
"""

from __future__ import annotations

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
    remaining: int  #: events still queued or in flight: not delivered by the deadline
    duplicate: int = 0  #: events the server already had (delivered before; not re-sent)

    @classmethod
    def between(cls, before: TelemetryStats, after: TelemetryStats) -> FlushResult:
        return cls(
            sent=after.sent - before.sent + after.dry_run - before.dry_run,
            rejected=after.rejected - before.rejected,
            dropped=sum(after.dropped.values()) - sum(before.dropped.values()),
            remaining=after.queued + after.spooled + after.in_flight,
            duplicate=after.duplicate - before.duplicate,
        )
