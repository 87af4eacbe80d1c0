"""What the page reads from the store: the latest events, counts, combinations, one event, and
the distributions behind a prediction. Read-only SQL through `EventStore.read`, on the columns
every version of the store has; each query is bounded by a LIMIT or aggregates.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from mosaicstack_telemetry.server._store import EventStore

# The columns of the events table (newest first) and what the table shows of each event.
EVENT_COLUMNS = (
    "instance_id",
    "event_id",
    "timestamp",
    "received_at",
    "task_type",
    "model",
    "provider",
    "complexity",
    "outcome",
    "task_duration_ms",
    "actual_input_tokens",
    "actual_output_tokens",
    "actual_cost_usd_micros",
)
COUNTED = ("model", "provider", "outcome", "task_type")
DIMENSIONS = ("task_type", "model", "provider", "complexity")
METRICS = (
    "task_duration_ms",
    "actual_input_tokens",
    "actual_output_tokens",
    "actual_cost_usd_micros",
)
BINS = 24
COUNTS_SHOWN = 12
COMBINATIONS_SHOWN = 200
# Newest first, in the order they were stored: SQLite's rowid walks back from the end without a
# sort (0.1 ms at 10,000 events, against 12 ms for sorting on received_at, which has no index).
# A table without rowid falls back to the sort (received_at is shared by a batch, so the
# event's own timestamp orders within one).
_NEWEST_FIRST = ("ORDER BY rowid DESC", "ORDER BY received_at DESC, timestamp DESC, event_id DESC")


def latest_events(store: EventStore, limit: int) -> list[dict[str, Any]]:
    columns = ", ".join(EVENT_COLUMNS)
    for order in _NEWEST_FIRST:
        try:
            rows = store.read(f"SELECT {columns} FROM events {order} LIMIT ?", (limit,))  # noqa: S608  # constant names
        except sqlite3.OperationalError:  # no rowid: the next order
            continue
        return [dict(zip(EVENT_COLUMNS, row, strict=True)) for row in rows]
    raise AssertionError("unreachable: the last order uses declared columns only")


def counts(store: EventStore) -> dict[str, dict[str, Any]]:
    """For each counted column: its most frequent values and how many distinct values exist."""
    result: dict[str, dict[str, Any]] = {}
    for column in COUNTED:
        rows = store.read(
            f"SELECT {column}, COUNT(*) AS n FROM events GROUP BY {column} "  # noqa: S608  # constant names
            "ORDER BY n DESC, 1"
        )
        result[column] = {
            "top": [[value, n] for value, n in rows[:COUNTS_SHOWN]],
            "distinct": len(rows),
            "others": sum(n for _, n in rows[COUNTS_SHOWN:]),
        }
    return result


def combinations(store: EventStore) -> list[list[Any]]:
    """The (task type, model, provider, complexity) stored most often, with their counts."""
    rows = store.read(
        f"SELECT {', '.join(DIMENSIONS)}, COUNT(*) AS n FROM events "  # noqa: S608  # constant names
        f"GROUP BY {', '.join(DIMENSIONS)} ORDER BY n DESC, 1, 2, 3, 4 LIMIT ?",
        (COMBINATIONS_SHOWN,),
    )
    return [list(row) for row in rows]


def total(store: EventStore) -> int:
    ((n,),) = store.read("SELECT COUNT(*) FROM events")
    return int(n)


def event(store: EventStore, instance_id: str, event_id: str) -> dict[str, Any] | None:
    """One stored event as it was sent (its raw JSON) and when it was received."""
    rows = store.read(
        "SELECT raw, received_at FROM events WHERE instance_id = ? AND event_id = ? LIMIT 1",
        (instance_id.lower(), event_id),
    )
    if not rows:
        return None
    raw, received_at = rows[0]
    return {"event": json.loads(raw), "received_at": received_at}


def distributions(store: EventStore, matched: dict[str, str]) -> dict[str, Any]:
    """Histograms of the events a prediction matched (`matched`: dimension -> value; the
    dimensions a fallback dropped are absent), one per metric, in `BINS` equal bins."""
    dims = [d for d in DIMENSIONS if d in matched]
    where = " AND ".join(f"{d} = ?" for d in dims) or "1 = 1"
    rows = store.read(
        f"SELECT {', '.join(METRICS)} FROM events WHERE {where}",  # noqa: S608  # constant names
        [matched[d] for d in dims],
    )
    return {
        "matched": {d: matched[d] for d in dims},
        "n": len(rows),
        "metrics": {name: _histogram([int(r[i]) for r in rows]) for i, name in enumerate(METRICS)},
    }


def _histogram(values: list[int]) -> dict[str, Any]:
    if not values:
        return {"min": None, "max": None, "bins": []}
    low, high = min(values), max(values)
    bins = [0] * BINS
    span = high - low
    for value in values:
        bins[min(BINS - 1, (value - low) * BINS // span) if span else 0] += 1
    return {"min": low, "max": high, "bins": bins if span else bins[:1]}
