"""`PredictionCache`: predictions by query, each kept for a time-to-live."""

from __future__ import annotations

import threading
import time
from enum import Enum

# The prediction classes are named through the package's lazy names: every client makes a
# cache, and importing this module must not load them (a program that only tracks events never
# uses them), while typing.get_type_hints() still resolves the annotations (loading them).
import mosaicstack_telemetry

_Key = tuple[str, str, str, str]


def _value(x: object) -> str:
    return str(x.value) if isinstance(x, Enum) else str(x)


def cache_key(query: mosaicstack_telemetry.PredictionQuery) -> _Key:
    """The query's dimension values: an enum and its string value are the same key."""
    return (_value(query.task_type), query.model, _value(query.provider), _value(query.complexity))


class PredictionCache:
    """Thread-safe dict-based cache with TTL expiration.

    Expired entries are removed when read (or replaced), so `size` counts them until then.
    """

    def __init__(self, ttl_seconds: float = 21600.0) -> None:
        self._ttl = ttl_seconds
        self._entries: dict[_Key, tuple[float, mosaicstack_telemetry.PredictionResponse]] = {}
        self._lock = threading.Lock()

    def get(
        self, query: mosaicstack_telemetry.PredictionQuery
    ) -> mosaicstack_telemetry.PredictionResponse | None:
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

    def put(
        self,
        query: mosaicstack_telemetry.PredictionQuery,
        response: mosaicstack_telemetry.PredictionResponse,
    ) -> None:
        with self._lock:
            self._entries[cache_key(query)] = (time.monotonic() + self._ttl, response)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    @property
    def size(self) -> int:
        """Number of entries, including expired ones not yet read."""
        return len(self._entries)
