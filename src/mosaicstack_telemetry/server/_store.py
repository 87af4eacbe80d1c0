"""Event storage in SQLite (standard library): the raw event plus the columns predictions need.

One connection guarded by a lock: the uvicorn thread writes while test threads read, and
SQLite's own locking is not enough for a connection shared across threads.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Any

_SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    event_id TEXT PRIMARY KEY,
    instance_id TEXT NOT NULL,
    task_type TEXT NOT NULL,
    model TEXT NOT NULL,
    provider TEXT NOT NULL,
    complexity TEXT NOT NULL,
    estimated_input_tokens INTEGER NOT NULL,
    estimated_output_tokens INTEGER NOT NULL,
    actual_input_tokens INTEGER NOT NULL,
    actual_output_tokens INTEGER NOT NULL,
    actual_cost_usd_micros INTEGER NOT NULL,
    task_duration_ms INTEGER NOT NULL,
    quality_gate_passed INTEGER NOT NULL,
    outcome TEXT NOT NULL,
    timestamp TEXT NOT NULL,
    received_at TEXT NOT NULL,
    raw TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_dims ON events (task_type, complexity, provider, model);
"""

_COLUMNS = (
    "event_id",
    "instance_id",
    "task_type",
    "model",
    "provider",
    "complexity",
    "estimated_input_tokens",
    "estimated_output_tokens",
    "actual_input_tokens",
    "actual_output_tokens",
    "actual_cost_usd_micros",
    "task_duration_ms",
    "quality_gate_passed",
    "outcome",
    "timestamp",
    "received_at",
    "raw",
)
_INSERT = (
    f"INSERT OR IGNORE INTO events ({', '.join(_COLUMNS)}) "  # noqa: S608  # constant names
    f"VALUES ({', '.join('?' for _ in _COLUMNS)})"
)


def utc_now_text() -> str:
    """RFC 3339 in UTC with microseconds: sorts as text, so MAX() is the newest."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class EventStore:
    """Stores each `event_id` once; `generation` changes whenever a new event is stored."""

    def __init__(self, db: str = ":memory:") -> None:
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(db, check_same_thread=False, isolation_level=None)
        if db != ":memory:":
            self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.executescript(_SCHEMA)
        self.generation = 0

    @contextmanager
    def reading(self) -> Iterator[sqlite3.Connection]:
        """The connection, held exclusively, for the predictor's queries."""
        with self._lock:
            yield self._conn

    def add(self, events: Sequence[tuple[str, dict[str, Any]]]) -> int:
        """Store (canonical event_id, event) pairs; returns how many were new."""
        received = utc_now_text()
        rows = [_row(event_id, event, received) for event_id, event in events]
        with self._lock:
            before = self._conn.total_changes
            self._conn.execute("BEGIN")
            try:
                self._conn.executemany(_INSERT, rows)
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")
            added = self._conn.total_changes - before
            if added:
                self.generation += 1
        return added

    def events(self) -> list[dict[str, Any]]:
        with self._lock:
            rows = self._conn.execute("SELECT raw FROM events ORDER BY rowid").fetchall()
        return [json.loads(raw) for (raw,) in rows]

    def count(self) -> int:
        with self._lock:
            (count,) = self._conn.execute("SELECT COUNT(*) FROM events").fetchone()
        return int(count)

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def read(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """The rows of one query, under the lock: the page's reads (`_ui_data.py`)."""
        if not sql.lstrip().upper().startswith(("SELECT", "WITH")):
            raise ValueError("read() runs queries only")
        with self._lock:
            return self._conn.execute(sql, params).fetchall()


def _row(event_id: str, event: dict[str, Any], received: str) -> tuple[Any, ...]:
    return (
        event_id,
        str(event["instance_id"]).lower(),
        event["task_type"],
        event["model"],
        event["provider"],
        event["complexity"],
        int(event["estimated_input_tokens"]),
        int(event["estimated_output_tokens"]),
        int(event["actual_input_tokens"]),
        int(event["actual_output_tokens"]),
        int(event["actual_cost_usd_micros"]),
        int(event["task_duration_ms"]),
        int(bool(event["quality_gate_passed"])),
        event["outcome"],
        event.get("timestamp") or received,
        received,
        json.dumps(event, separators=(",", ":"), ensure_ascii=False),
    )
