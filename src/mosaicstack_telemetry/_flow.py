"""`Flow`: the congestion state one client's flushes share (see `_planner`): how many requests
may be in flight, and until when every new request must wait."""

from __future__ import annotations

#: A request in flight longer than this many round trips (and `MIN_STALL_SECONDS`) is stalled:
#: it stops counting against the window, so one slow answer does not hold every other batch
#: back; `max_concurrent_requests` still bounds what is in flight. Every request slow (an
#: overloaded server) makes the round trip itself longer, so nothing more is sent then.
STALL_ROUND_TRIPS = 4.0
MIN_STALL_SECONDS = 1.0


class Flow:
    """The congestion state of one client, shared by its flushes: how many requests may be in
    flight, and until when every new request must wait."""

    def __init__(self, limit: int) -> None:
        self.limit = max(int(limit), 1)
        self.window = 1.0
        self.resume_at = 0.0
        self.round_trip: float | None = None  # a moving average of successful requests

    def observe(self, seconds: float) -> None:
        """A successful request took `seconds`."""
        previous = self.round_trip
        self.round_trip = seconds if previous is None else 0.8 * previous + 0.2 * seconds

    @property
    def stall_after(self) -> float:
        return max(MIN_STALL_SECONDS, STALL_ROUND_TRIPS * (self.round_trip or 0.0))

    def grow(self) -> None:
        self.window = min(float(self.limit), self.window + 1.0)

    def shrink(self) -> None:
        self.window = max(1.0, self.window / 2.0)

    def pause(self, until: float) -> None:
        self.resume_at = max(self.resume_at, until)
