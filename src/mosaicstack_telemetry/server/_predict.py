"""Predictions computed with SQL from the stored events, with fallback and a server-side cache.

Percentiles use the nearest-rank method: the p-th percentile of n sorted values is the value
of rank ceil(p * n / 100) (at least 1). It always returns a stored value, so token counts,
cost and duration stay integers, and it needs no interpolation choice.
"""

from __future__ import annotations

import sqlite3
import threading
from typing import Any

from mosaicstack_telemetry.server._store import EventStore

# The dimensions matched at each fallback level: model is dropped first, then provider, then
# complexity; task_type is never dropped.
LEVELS: tuple[tuple[str, ...], ...] = (
    ("task_type", "model", "provider", "complexity"),
    ("task_type", "provider", "complexity"),
    ("task_type", "complexity"),
    ("task_type",),
)
DIMENSIONS = LEVELS[0]
PERCENTILES = {"p10": 10, "p25": 25, "median": 50, "p75": 75, "p90": 90}
HIGH_SAMPLES = 100
MEDIUM_SAMPLES = 30

QueryKey = tuple[str, str, str, str]


def nearest_rank(percent: int, n: int) -> int:
    """The 1-based rank of the `percent`-th percentile among `n` sorted values."""
    return max(1, -(-percent * n // 100))


def confidence(sample_size: int, level: int) -> str:
    if level < 0 or sample_size == 0:
        return "none"
    if level > 0 or sample_size < MEDIUM_SAMPLES:
        return "low"
    return "high" if sample_size >= HIGH_SAMPLES else "medium"


class Predictor:
    """Answers `PredictionQuery`s; the cache is keyed by the query and by the store's generation,
    so storing a new event invalidates every entry at once."""

    def __init__(self, store: EventStore) -> None:
        self._store = store
        self._lock = threading.Lock()
        self._cache: dict[QueryKey, tuple[int, dict[str, Any]]] = {}

    def predict(self, query: dict[str, Any]) -> dict[str, Any]:
        key: QueryKey = tuple(str(query[d]) for d in DIMENSIONS)  # type: ignore[assignment]
        with self._lock:
            cached = self._cache.get(key)
        if cached is not None and cached[0] == self._store.generation:
            return _with_cache_hit(cached[1], hit=True)
        with self._store.reading() as conn:
            generation = self._store.generation
            answer = _compute(conn, dict(zip(DIMENSIONS, key, strict=True)))
        with self._lock:
            if len(self._cache) > 10_000:  # bounded: a client cannot grow it without limit
                self._cache.clear()
            self._cache[key] = (generation, answer)
        return _with_cache_hit(answer, hit=False)

    def clear(self) -> None:
        with self._lock:
            self._cache.clear()


def _with_cache_hit(answer: dict[str, Any], *, hit: bool) -> dict[str, Any]:
    return {**answer, "metadata": {**answer["metadata"], "cache_hit": hit}}


def _where(dims: tuple[str, ...]) -> str:
    return " AND ".join(f"{d} = ?" for d in dims)


def _compute(conn: sqlite3.Connection, query: dict[str, str]) -> dict[str, Any]:
    for level, dims in enumerate(LEVELS):
        where, params = _where(dims), [query[d] for d in dims]
        (n,) = conn.execute(
            f"SELECT COUNT(*) FROM events WHERE {where}",  # noqa: S608  # constant names
            params,
        ).fetchone()
        if n:
            return _prediction(conn, query, level, dims, int(n))
    return {
        "prediction": None,
        "metadata": {
            "sample_size": 0,
            "fallback_level": -1,
            "confidence": "none",
            "last_updated": None,
            "dimensions_matched": None,
            "fallback_note": f"no events with task_type {query['task_type']!r}",
            "cache_hit": False,
        },
    }


def _percentiles(
    conn: sqlite3.Connection,
    column: str,
    where: str,
    params: list[str],
    n: int,
    wanted: dict[str, int],
) -> dict[str, int]:
    ranks = {name: nearest_rank(p, n) for name, p in wanted.items()}
    rows = conn.execute(
        f"SELECT rn, v FROM (SELECT {column} AS v, ROW_NUMBER() OVER (ORDER BY {column}) AS rn "  # noqa: S608  # constant names
        f"FROM events WHERE {where}) WHERE rn IN ({', '.join('?' for _ in ranks)})",
        [*params, *ranks.values()],
    ).fetchall()
    by_rank = {int(rn): int(v) for rn, v in rows}
    return {name: by_rank[rank] for name, rank in ranks.items()}


def _ratio(actual: int | None, estimated: int | None) -> float:
    return float(actual) / float(estimated) if actual is not None and estimated else 1.0


def _prediction(
    conn: sqlite3.Connection, query: dict[str, str], level: int, dims: tuple[str, ...], n: int
) -> dict[str, Any]:
    where, params = _where(dims), [query[d] for d in dims]
    sql = (
        "SELECT"
        " SUM(CASE WHEN estimated_input_tokens > 0 THEN actual_input_tokens END),"
        " SUM(CASE WHEN estimated_input_tokens > 0 THEN estimated_input_tokens END),"
        " SUM(CASE WHEN estimated_output_tokens > 0 THEN actual_output_tokens END),"
        " SUM(CASE WHEN estimated_output_tokens > 0 THEN estimated_output_tokens END),"
        " AVG(quality_gate_passed), AVG(outcome = 'success'), MAX(received_at)"
        " FROM events WHERE " + where  # only constant column names; values are parameters
    )
    row = conn.execute(sql, params).fetchone()
    act_in, est_in, act_out, est_out, gate_rate, success_rate, newest = row
    median = {"median": 50}
    dropped = [d for d in DIMENSIONS if d not in dims]
    note = None
    if dropped:
        note = (
            f"no events matched all four dimensions; dropped {', '.join(dropped)} "
            f"(fallback level {level}) and matched {n} events on {', '.join(dims)}"
        )
    return {
        "prediction": {
            "input_tokens": _percentiles(
                conn, "actual_input_tokens", where, params, n, PERCENTILES
            ),
            "output_tokens": _percentiles(
                conn, "actual_output_tokens", where, params, n, PERCENTILES
            ),
            "cost_usd_micros": _percentiles(
                conn, "actual_cost_usd_micros", where, params, n, median
            ),
            "duration_ms": _percentiles(conn, "task_duration_ms", where, params, n, median),
            "correction_factors": {
                "input": _ratio(act_in, est_in),
                "output": _ratio(act_out, est_out),
            },
            "quality": {"gate_pass_rate": float(gate_rate), "success_rate": float(success_rate)},
        },
        "metadata": {
            "sample_size": n,
            "fallback_level": level,
            "confidence": confidence(n, level),
            "last_updated": newest,
            "dimensions_matched": {d: (query[d] if d in dims else None) for d in DIMENSIONS},
            "fallback_note": note,
            "cache_hit": False,
        },
    }
