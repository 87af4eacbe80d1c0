"""Event storage in SQLite (standard library): the raw event plus the columns predictions need.

One connection guarded by a lock: the uvicorn thread writes while test threads read, and
SQLite's own locking is not enough for a connection shared across threads.

Idempotency is per instance (decisions.md): the key is (instance_id, event_id), the first stored
copy wins, and `add` says which events were already there so the app can answer `duplicate`.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Any

#: Event fields with their own column (predictions query them). Each must be a field of the
#: contract's TaskCompletionEvent, required except `event_id` and `timestamp`, which the server
#: fills in (`check_contract` fails the start-up otherwise, instead of a 500 per request).
COLUMNS = (
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
)
#: Event fields kept only in `raw`, the event's JSON as received (nothing queries them yet).
#: Every field of the contract is in COLUMNS or here: a test checks it.
RAW_ONLY = (
    "schema_version",
    "harness",
    "estimated_cost_usd_micros",
    "quality_gates_run",
    "quality_gates_failed",
    "context_compactions",
    "context_rotations",
    "context_utilization_final",
    "retry_count",
    "language",
    "repo_size_category",
)
_SERVER_FILLED = ("event_id", "timestamp")
_INTEGERS = {
    "estimated_input_tokens",
    "estimated_output_tokens",
    "actual_input_tokens",
    "actual_output_tokens",
    "actual_cost_usd_micros",
    "task_duration_ms",
}

_SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    event_id TEXT NOT NULL,
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
    raw TEXT NOT NULL,
    PRIMARY KEY (instance_id, event_id)
);
CREATE INDEX IF NOT EXISTS events_dims ON events (task_type, complexity, provider, model);
"""

_ALL = (*COLUMNS, "received_at", "raw")
_INSERT = (
    f"INSERT OR IGNORE INTO events ({', '.join(_ALL)}) "  # noqa: S608  # constant names
    f"VALUES ({', '.join('?' for _ in _ALL)})"
)


def check_contract(event_schema: dict[str, Any]) -> None:
    """Fail with the field's name when the store's columns no longer match the contract."""
    properties = event_schema.get("properties", {})
    required = set(event_schema.get("required", ()))
    for name in COLUMNS:
        if name not in properties:
            raise ValueError(
                f"the server's store has a column {name!r} that is not a field of the contract's "
                "TaskCompletionEvent: update COLUMNS in mosaicstack_telemetry/server/_store.py"
            )
        if name not in required and name not in _SERVER_FILLED:
            raise ValueError(
                f"the store's column {name!r} is optional in the contract but NOT NULL in the "
                "store: give it a default in mosaicstack_telemetry/server/_store.py"
            )


def utc_now_text() -> str:
    """RFC 3339 in UTC with microseconds: sorts as text, so MAX() is the newest."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class EventStore:
    """Stores each event once per (instance, event_id); `generation` changes whenever a new
    event is stored."""

    def __init__(self, db: str = ":memory:") -> None:
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(db, check_same_thread=False, isolation_level=None)
        if db != ":memory:":
            self._conn.execute("PRAGMA journal_mode=WAL")
        _upgrade(self._conn)
        self._conn.executescript(_SCHEMA)
        self.generation = 0

    @contextmanager
    def reading(self) -> Iterator[sqlite3.Connection]:
        """The connection, held exclusively, for the predictor's queries."""
        with self._lock:
            yield self._conn

    def add(self, events: Sequence[tuple[str, dict[str, Any]]]) -> list[bool]:
        """Store (canonical event_id, event) pairs, in order, in one transaction. Returns, for
        each, whether it was new: False when its instance already had that id (an earlier
        request, or earlier in this one), and the first stored copy is kept."""
        received = utc_now_text()
        rows = [_row(event_id, event, received) for event_id, event in events]
        fresh: list[bool] = []
        with self._lock:
            self._conn.execute("BEGIN")
            try:
                for row in rows:
                    fresh.append(self._conn.execute(_INSERT, row).rowcount == 1)
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")
            if any(fresh):
                self.generation += 1
        return fresh

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
    values: list[Any] = []
    for name in COLUMNS:
        if name == "event_id":
            values.append(event_id)
        elif name == "instance_id":
            values.append(str(event[name]).lower())
        elif name == "timestamp":
            values.append(event.get("timestamp") or received)
        elif name == "quality_gate_passed":
            values.append(int(bool(event[name])))
        elif name in _INTEGERS:
            values.append(int(event[name]))
        else:
            values.append(event[name])
    values += [received, json.dumps(event, separators=(",", ":"), ensure_ascii=False)]
    return tuple(values)


def _primary_key(conn: sqlite3.Connection) -> Iterable[str]:
    info = conn.execute("PRAGMA table_info(events)").fetchall()
    return [row[1] for row in sorted(info, key=lambda r: r[5]) if row[5]]


def _upgrade(conn: sqlite3.Connection) -> None:
    """A database file from before per-instance idempotency (key `event_id` alone) gets the
    (instance_id, event_id) key; its rows are kept."""
    if list(_primary_key(conn)) != ["event_id"]:
        return
    conn.execute("BEGIN")
    try:
        conn.execute("ALTER TABLE events RENAME TO events_before_1_1")
        conn.execute("DROP INDEX IF EXISTS events_dims")
        for statement in filter(str.strip, _SCHEMA.split(";")):
            conn.execute(statement)
        conn.execute(
            f"INSERT INTO events ({', '.join(_ALL)}) "  # noqa: S608  # constant names
            f"SELECT {', '.join(_ALL)} FROM events_before_1_1"
        )
        conn.execute("DROP TABLE events_before_1_1")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
