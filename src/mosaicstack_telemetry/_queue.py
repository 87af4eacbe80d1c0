"""`EventQueue`: the bounded, thread-safe FIFO between `track()` and the sender."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterable

from mosaicstack_telemetry._models import TaskCompletionEvent


class EventQueue:
    """Bounded FIFO; when full, the oldest events are evicted and counted.

    The lock is reentrant so that a signal handler calling `track()` while the same thread is
    inside `put()` cannot deadlock; every operation is O(1) except `put_back` (rare: retries).
    """

    def __init__(self, max_size: int = 1000) -> None:
        if max_size < 1:
            raise ValueError(f"max_size must be at least 1 (got {max_size})")
        self._max_size = max_size
        self._items: deque[TaskCompletionEvent] = deque()
        self._lock = threading.RLock()
        self._evicted = 0

    def put(self, event: TaskCompletionEvent) -> None:
        """Add an event; evicts the oldest when full."""
        self._put(event)

    def _put(self, event: TaskCompletionEvent) -> int:
        """`put`, returning how many events were evicted (0 or 1)."""
        with self._lock:
            items = self._items
            evicted = 0
            if len(items) >= self._max_size:
                items.popleft()
                evicted = 1
                self._evicted += 1
            items.append(event)
            return evicted

    def drain(self, max_items: int) -> list[TaskCompletionEvent]:
        """Remove and return up to `max_items` of the oldest events."""
        with self._lock:
            items = self._items
            taken: list[TaskCompletionEvent] = []
            for _ in range(min(max(max_items, 0), len(items))):
                try:
                    taken.append(items.popleft())
                except IndexError:  # a signal handler's flush, in this thread, took the rest
                    break
            return taken

    def put_back(self, events: Iterable[TaskCompletionEvent]) -> None:
        """Re-queue events at the front (for retries); when full, the oldest are evicted."""
        self._put_back(events)

    def _put_back(self, events: Iterable[TaskCompletionEvent]) -> int:
        """`put_back`, returning how many events were evicted."""
        with self._lock:
            items = self._items
            items.extendleft(reversed(list(events)))
            evicted = 0
            while len(items) > self._max_size:  # re-checked: a signal handler may drain
                items.popleft()
                evicted += 1
            self._evicted += evicted
            return evicted

    def reset_after_fork(self) -> None:
        """In a forked child: a fresh lock, and none of the parent's events (its to send)."""
        self._lock = threading.RLock()
        self._items.clear()
        self._evicted = 0

    @property
    def size(self) -> int:
        return len(self._items)

    @property
    def is_empty(self) -> bool:
        return not self._items

    @property
    def max_size(self) -> int:
        return self._max_size

    @property
    def evicted(self) -> int:
        """Events evicted so far because the queue was full."""
        return self._evicted
