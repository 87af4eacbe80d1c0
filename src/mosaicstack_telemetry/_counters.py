"""The thread-safe counters behind `TelemetryStats`, so a user can see any loss."""

from __future__ import annotations

import threading
import time
from collections import Counter

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing: type checkers take it
if TYPE_CHECKING:
    from collections.abc import Callable

    from mosaicstack_telemetry._stats import TelemetryStats


class Stats:
    """Thread-safe counters behind `TelemetryStats`; never touched by a successful `track()`."""

    def __init__(self) -> None:
        # Reentrant: a signal handler whose `track()` drops an event (counted here) may run
        # while its thread is inside `stats()` or another count; a plain lock deadlocks there.
        self._lock = threading.RLock()
        #: Notified as events in flight settle (see `wait_in_flight`).
        self._settled = threading.Condition(self._lock)
        self.sent = self.rejected = self.dry_run = self.retried = self.requeued = 0
        self.in_flight = self.internal_errors = self.duplicate = 0
        self.dropped: Counter[str] = Counter()
        self.last_error: str | None = None

    def add(self, name: str, count: int = 1) -> None:
        with self._lock:
            setattr(self, name, getattr(self, name) + count)
            if name == "in_flight" and count < 0:
                self._settled.notify_all()

    def wait_in_flight(self, deadline: float, stop: Callable[[], bool]) -> None:
        """Until no event is in flight (the sender's requests have been answered), `deadline`,
        or `stop()` (checked at least every 0.1 s: the sender is backing off)."""
        with self._settled:
            while self.in_flight > 0 and not stop():
                left = deadline - time.monotonic()
                if left <= 0:
                    return
                self._settled.wait(min(left, 0.1))

    def drop(self, reason: str, count: int = 1) -> None:
        if count:
            with self._lock:
                self.dropped[reason] += count

    def error(self, message: str) -> None:
        self.last_error = message

    def snapshot(self, evicted: int, queued: int, spooled: int = 0) -> TelemetryStats:
        from mosaicstack_telemetry._stats import TelemetryStats

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
