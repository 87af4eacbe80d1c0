"""`PredictionCache`: predictions by query, each kept for a time-to-live."""

from __future__ import annotations

import threading
import time
from enum import Enum
from typing import Any

# The prediction classes are named through the package's lazy names: every client makes a
# cache, and importing this module must not load them (a program that only tracks events never
# uses them), while typing.get_type_hints() still resolves the annotations (loading them).
import mosaicstack_telemetry
from mosaicstack_telemetry._log import ERROR, RateLimitedLog

_Key = tuple[str, str, str, str]
#: What a message adds when a dict was given where a `PredictionQuery` was expected.
_FROM_DICT = " (PredictionQuery(**d) makes one of a dict)"


def _value(x: object) -> str:
    return str(x.value) if isinstance(x, Enum) else str(x)


def cache_key(query: mosaicstack_telemetry.PredictionQuery) -> _Key:
    """The query's dimension values: an enum and its string value are the same key."""
    try:
        task_type, model, provider = query.task_type, query.model, query.provider
        complexity = query.complexity
    except AttributeError:
        raise TypeError(
            f"expected a PredictionQuery, not {type(query).__name__}"
            + (_FROM_DICT if isinstance(query, dict) else "")
        ) from None
    return (_value(task_type), model, _value(provider), _value(complexity))


def query_list(what: str, queries: object, log: RateLimitedLog) -> list[Any]:
    """`queries` as a list of `PredictionQuery`. Anything else (one query, dicts) is logged
    (rate-limited), saying what was given, and nothing is fetched: a traceback about `len()`
    said neither."""
    if not queries:
        return []
    from mosaicstack_telemetry._predictionmodels import PredictionQuery

    if isinstance(queries, (PredictionQuery, str, bytes, dict)) or not hasattr(queries, "__iter__"):
        log.log(
            ERROR,
            f"queries-{what}",
            "%s takes a list of PredictionQuery, not a %s; nothing was fetched",
            what,
            type(queries).__name__,
        )
        return []
    items = list(queries)
    wrong = {type(q).__name__ for q in items if not isinstance(q, PredictionQuery)}
    if wrong:
        hint = _FROM_DICT if "dict" in wrong else ""
        log.log(
            ERROR,
            f"items-{what}",
            "%s takes PredictionQuery items, not %s%s; nothing was fetched",
            what,
            ", ".join(sorted(wrong)),
            hint,
        )
        return []
    return items


#: The fewest entries at which `put` purges the expired ones.
_MIN_PURGE = 1024


class PredictionCache:
    """Thread-safe dict-based cache with TTL expiration.

    Expired entries are removed when read (or replaced), so `size` counts them until then, and
    all of them when the cache has grown to twice its size after the last purge: a service
    that asks for ever new queries does not keep all it ever asked (amortized O(1) per `put`).
    """

    def __init__(self, ttl_seconds: float = 21600.0) -> None:
        self._ttl = ttl_seconds
        self._entries: dict[_Key, tuple[float, mosaicstack_telemetry.PredictionResponse]] = {}
        self._lock = threading.Lock()
        self._purge_at = _MIN_PURGE

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
        now = time.monotonic()
        with self._lock:
            entries = self._entries
            entries[cache_key(query)] = (now + self._ttl, response)
            if len(entries) >= self._purge_at:
                for key in [k for k, (expires, _) in entries.items() if now >= expires]:
                    del entries[key]
                self._purge_at = max(_MIN_PURGE, 2 * len(entries))

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._purge_at = _MIN_PURGE

    @property
    def size(self) -> int:
        """Number of entries, including expired ones not yet read."""
        return len(self._entries)
