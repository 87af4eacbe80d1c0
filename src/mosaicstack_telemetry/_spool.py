"""A durable spool: events on disk (SQLite, WAL) until the server has accepted them.

For short-lived processes (harness hooks, CLI runs) an in-memory queue loses everything the
moment the network hiccups. The sender moves tracked events here promptly; a batch is
leased, sent, and deleted only after a 2xx. Several processes may share one spool: a lease
names its process (`_holders`), and a lease held by a process that died (SIGKILL mid-flush,
a container restarted) is reclaimed at once; one that outlives its time is reclaimed too.
"""

from __future__ import annotations

import contextlib
import os
import time
from _thread import RLock

from mosaicstack_telemetry._holders import has_ended, is_own, own_mark

# `mosaic-telemetry track` opens a spool on every run: this module imports nothing it can do
# without (no typing, pathlib, dataclasses or threading: each a few percent of that run).
TYPE_CHECKING = False
if TYPE_CHECKING:
    import sqlite3  # imported on first use: most clients never open a spool
    from collections.abc import Iterable, Iterator

    from mosaicstack_telemetry._models import TaskCompletionEvent

#: Connections a forked child inherited from its parent, where `ctypes` cannot keep them (see
#: `_keep_inherited`).
_INHERITED: list[sqlite3.Connection] = []


def _keep_inherited(conn: sqlite3.Connection) -> None:
    """Never free, in a forked child, the connection it inherited from its parent. SQLite says
    not to use one across a fork, and freeing it closes it, which could disturb the parent's
    file (a checkpoint of its WAL), and warns "unclosed database" (Python 3.13), at the latest
    when the child's interpreter ends. One reference that nothing releases keeps it as is."""
    try:
        import ctypes

        ctypes.pythonapi.Py_IncRef(ctypes.py_object(conn))
    except Exception:  # no ctypes or no pythonapi (not CPython): kept for the child's life
        _INHERITED.append(conn)


_SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id TEXT NOT NULL UNIQUE,
    body BLOB NOT NULL,
    created REAL NOT NULL,
    lease_until REAL NOT NULL DEFAULT 0,
    lease_pid INTEGER NOT NULL DEFAULT 0,
    instance TEXT NOT NULL DEFAULT '',
    lease_mark TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS events_lease ON events (lease_until, id);
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
"""


def _migrate(conn: sqlite3.Connection) -> None:
    """Give a spool made before events carried their instance (`instance`) that column, filled
    from each event's JSON where SQLite can read it ('' where not: any instance may send it),
    and one made before leases recorded their process's start, `lease_mark` ('': the pid
    alone, as then). Processes opening one old spool at once may race to add a column: the
    loser finds it there."""
    columns = {row[1] for row in conn.execute("PRAGMA table_info(events)")}
    if "lease_mark" not in columns:
        _add_column(conn, "lease_mark TEXT NOT NULL DEFAULT ''")
    if "instance" not in columns:
        import sqlite3

        _add_column(conn, "instance TEXT NOT NULL DEFAULT ''")
        with contextlib.suppress(sqlite3.OperationalError):  # an SQLite without JSON
            conn.execute(
                "UPDATE events SET instance = "
                "coalesce(lower(json_extract(body, '$.instance_id')), '') "
                "WHERE instance = '' AND json_valid(body)"
            )
    conn.execute("CREATE INDEX IF NOT EXISTS events_instance ON events (instance, lease_until, id)")


def _add_column(conn: sqlite3.Connection, column: str) -> None:
    import sqlite3

    try:
        conn.execute(f"ALTER TABLE events ADD COLUMN {column}")
    except sqlite3.OperationalError as exc:
        if "duplicate column" not in str(exc).lower():
            raise


def instance_key(instance: object) -> str:
    """How the spool records an instance id: its canonical lower-case text."""
    text = str(instance).strip().lower()
    if len(text) == 36:
        return text
    import uuid

    try:
        return str(uuid.UUID(text))
    except ValueError:
        return text


class SpooledEvent:
    """One leased event: its row, its id, and its JSON exactly as it will be sent."""

    __slots__ = ("body", "event_id", "row")

    def __init__(self, row: int, event_id: str, body: bytes) -> None:
        self.row, self.event_id, self.body = row, event_id, body

    def __repr__(self) -> str:
        return f"SpooledEvent(row={self.row}, event_id={self.event_id!r})"


def is_busy(exc: BaseException) -> bool:
    """Whether `exc` is another process holding the spool for a moment (worth retrying)."""
    text = str(exc).lower()
    return type(exc).__name__ == "OperationalError" and ("locked" in text or "busy" in text)


def describe_problem(path_text: str, exc: BaseException) -> str:
    """Why a spool path cannot be used, in the words `mosaic-telemetry doctor` uses."""
    from pathlib import Path

    path = Path(path_text)
    if path.is_dir():
        return f"{path} is a directory, not a file"
    if path.exists():
        if not path.is_file():
            return f"{path} is not a regular file"
        if not os.access(path, os.W_OK):
            return f"{path} is not writable"
        return f"{path} cannot be opened as a spool: {exc}"
    parent = next((p for p in path.parents if p.exists()), None)
    if parent is None or not parent.is_dir():
        return f"{path}: no directory to create it in"
    if not os.access(parent, os.W_OK):
        return f"{parent} is not writable"
    return f"{path} cannot be created: {exc}"


def _identity(path: str) -> tuple[int, int] | None:
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return stat.st_dev, stat.st_ino


def _dead_holders(conn: sqlite3.Connection, now: float) -> list[tuple[int, str]]:
    """The processes holding leases that have ended: what they held is free again."""
    holders = conn.execute(
        "SELECT DISTINCT lease_pid, lease_mark FROM events WHERE lease_until > ?", (now,)
    ).fetchall()
    return [(pid, mark) for pid, mark in holders if has_ended(pid, mark)]


class Spool:
    """The SQLite file behind `spool_path`. Thread-safe; safe across processes."""

    def __init__(self, path: str | os.PathLike[str], max_events: int = 100_000) -> None:
        # Absolute: a relative path must not follow the working directory from one open to the
        # next, and "file:..." must stay a file name, not become an SQLite URI.
        self.path = os.path.abspath(os.path.expanduser(os.fspath(path)))
        self.max_events = max_events
        # threading.RLock, without importing threading. Reentrant: a signal handler calling
        # stats() or flush() runs inside whatever spool call its thread was making.
        self._lock = RLock()
        self._conn: sqlite3.Connection | None = None
        self._pid = 0
        self._file: tuple[int, int] | None = None  # (device, inode) of the file opened

    def reset_after_fork(self) -> None:
        """In a forked child: a fresh lock (another thread of the parent may have held this
        one at the fork). The connection is the parent's: `_connect` opens the child's own."""
        self._lock = RLock()

    def _connect(self) -> sqlite3.Connection:
        # A connection must not cross a fork: the child opens its own. Nor outlive its file:
        # one deleted or replaced meanwhile (by a user, another tool) is opened again by name.
        if self._conn is not None and self._pid == os.getpid() and not self._same_file():
            conn, self._conn = self._conn, None
            with contextlib.suppress(Exception):
                conn.close()
        if self._conn is None or self._pid != os.getpid():
            import sqlite3

            if self._conn is not None:  # the parent's: kept, never used or closed here
                _keep_inherited(self._conn)
                self._conn = None

            folder = os.path.dirname(self.path)
            if folder:
                os.makedirs(folder, exist_ok=True)
            conn = sqlite3.connect(
                self.path, timeout=10.0, isolation_level=None, check_same_thread=False
            )
            try:
                # Switching to WAL takes the file for a moment, and SQLite does not wait for it
                # as it waits for a write lock: processes opening one spool at once retry.
                for attempt in range(50):
                    try:
                        conn.execute("PRAGMA journal_mode=WAL")
                        break
                    except sqlite3.OperationalError as exc:
                        if not is_busy(exc) or attempt == 49:
                            raise
                        time.sleep(0.02)
                conn.execute("PRAGMA synchronous=NORMAL")
                conn.executescript(_SCHEMA)
                _migrate(conn)
                self._file = _identity(self.path)
            except BaseException:
                conn.close()
                raise
            self._conn, self._pid = conn, os.getpid()
        return self._conn

    def _same_file(self) -> bool:
        """Whether the path still names the file the connection has open."""
        return _identity(self.path) == self._file

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            conn = self._connect()
            if conn.in_transaction:
                import sqlite3  # loaded: a connection is open

                # A signal handler, run inside its thread's own transaction: its writes would
                # share that transaction's fate (a rollback, if the handler ends it by raising,
                # undoes them after their events left the queue). Busy, as when another
                # process writes: that attempt waits for a later one, its events in memory.
                raise sqlite3.OperationalError(
                    "database is locked (by this thread's transaction, which a signal "
                    "handler interrupted)"
                )
            conn.execute("BEGIN IMMEDIATE")  # one writer at a time, across processes
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def add(self, events: Iterable[tuple[str, str, bytes]]) -> int:
        """Store (event_id, instance_id, json) triples; a known event_id is stored once.
        Returns how many of the oldest events were evicted to stay within `max_events`."""
        now = time.time()
        rows = [(event_id, instance_key(inst), body, now) for event_id, inst, body in events]
        with self._transaction() as conn:
            conn.executemany(
                "INSERT OR IGNORE INTO events (event_id, instance, body, created) "
                "VALUES (?, ?, ?, ?)",
                rows,
            )
            (count,) = conn.execute("SELECT COUNT(*) FROM events").fetchone()
            excess = max(count - self.max_events, 0)
            if excess:
                conn.execute(
                    "DELETE FROM events WHERE id IN (SELECT id FROM events ORDER BY id LIMIT ?)",
                    (excess,),
                )
                conn.execute(
                    "INSERT INTO counters VALUES ('evicted', ?) "
                    "ON CONFLICT(name) DO UPDATE SET value = value + excluded.value",
                    (excess,),
                )
        return int(excess)

    def add_events(self, events: Iterable[TaskCompletionEvent]) -> int:
        """`add` for events: each stored as the JSON the server will receive."""
        from mosaicstack_telemetry._models import dump_event

        return self.add((str(e.event_id), str(e.instance_id), dump_event(e)) for e in events)

    def lease(self, limit: int, seconds: float, instance: str) -> list[SpooledEvent]:
        """Claim up to `limit` of the oldest unclaimed events of `instance` for `seconds`.

        Only that instance's (and those of an old spool whose instance is unknown): a client
        sends with its own key, and the server refuses another instance's events
        (`instance_mismatch`) for good, which deleted them from a spool several projects share.
        """
        now = time.time()
        me, mark = os.getpid(), own_mark()
        with self._transaction() as conn:
            conn.executemany(
                "UPDATE events SET lease_until = 0, lease_pid = 0, lease_mark = '' "
                "WHERE lease_pid = ? AND lease_mark = ?",
                _dead_holders(conn, now),
            )
            rows = conn.execute(
                "SELECT id, event_id, body FROM events WHERE instance IN (?, '') "
                "AND lease_until <= ? ORDER BY id LIMIT ?",
                (instance_key(instance), now, limit),
            ).fetchall()
            conn.executemany(
                "UPDATE events SET lease_until = ?, lease_pid = ?, lease_mark = ? WHERE id = ?",
                [(now + seconds, me, mark, row[0]) for row in rows],
            )
        return [SpooledEvent(row, event_id, bytes(body)) for row, event_id, body in rows]

    def ack(self, events: Iterable[SpooledEvent]) -> None:
        """Delete events: the server accepted them (or they can never be sent)."""
        with self._transaction() as conn:
            conn.executemany("DELETE FROM events WHERE id = ?", [(e.row,) for e in events])

    def release(self, events: Iterable[SpooledEvent]) -> None:
        """Give leased events back, for a later attempt."""
        with self._transaction() as conn:
            conn.executemany(
                "UPDATE events SET lease_until = 0, lease_pid = 0, lease_mark = '' WHERE id = ?",
                [(e.row,) for e in events],
            )

    def count(self, instance: str | None = None) -> int:
        """The events in the file; with `instance`, those this process may send for it: that
        instance's, not leased by another live process (which is sending them). A dead
        process's lease counts as free: `lease()` reclaims it."""
        with self._lock:
            conn = self._connect()
            if instance is None:
                (count,) = conn.execute("SELECT COUNT(*) FROM events").fetchone()
                return int(count)
            key, now = instance_key(instance), time.time()
            # Free, this process's own, or held by a process that ended (lease() frees those).
            held = conn.execute(
                "SELECT lease_until > ?, lease_pid, lease_mark, COUNT(*) FROM events "
                "WHERE instance IN (?, '') GROUP BY 1, 2, 3",
                (now, key),
            ).fetchall()
        return sum(
            n
            for leased, pid, mark, n in held
            if not leased or is_own(pid, mark) or has_ended(pid, mark)
        )

    def evicted(self) -> int:
        with self._lock:
            row = (
                self._connect()
                .execute("SELECT value FROM counters WHERE name = 'evicted'")
                .fetchone()
            )
        return int(row[0]) if row else 0

    def oldest_age(self) -> float | None:
        """Seconds since the oldest spooled event was stored, or None when empty."""
        with self._lock:
            (created,) = self._connect().execute("SELECT MIN(created) FROM events").fetchone()
        return None if created is None else max(time.time() - created, 0.0)

    def close(self) -> None:
        with self._lock:
            if self._conn is not None and self._pid == os.getpid():
                self._conn.close()
            elif self._conn is not None:
                _keep_inherited(self._conn)  # the parent's
            self._conn = None
