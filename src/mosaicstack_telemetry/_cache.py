"""`PredictionCache`: predictions by query, each kept for a time-to-live."""

from __future__ import annotations

import threading
import time
from enum import Enum

from mosaicstack_telemetry._models import PredictionQuery, PredictionResponse

_Key = tuple[str, str, str, str]


def _value(x: object) -> str:
    return str(x.value) if isinstance(x, Enum) else str(x)


def cache_key(query: PredictionQuery) -> _Key:
    """The query's dimension values: an enum and its string value are the same key."""
    return (_value(query.task_type), query.model, _value(query.provider), _value(query.complexity))


class PredictionCache:
    """Thread-safe dict-based cache with TTL expiration.

    Expired entries are removed when read (or replaced), so `size` counts them until then.
    """

    def __init__(self, ttl_seconds: float = 21600.0) -> None:
        self._ttl = ttl_seconds
        self._entries: dict[_Key, tuple[float, PredictionResponse]] = {}
        self._lock = threading.Lock()

    def get(self, query: PredictionQuery) -> PredictionResponse | None:
        """The cached prediction, or None if not cached or expired."""
        key = cache_key(query)
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            expires, response = entry
            if time.monotonic() >= expires:
                del self._entries[key]
                return None
            return response

    def put(self, query: PredictionQuery, response: PredictionResponse) -> None:
        with self._lock:
            self._entries[cache_key(query)] = (time.monotonic() + self._ttl, response)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    @property
    def size(self) -> int:
        """Number of entries, including expired ones not yet read."""
        return len(self._entries)
