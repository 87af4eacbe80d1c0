"""Imported first by every lifecycle child script (copied beside it as `lifecycle_child.py`).

It gives the script what the test reads back, written by every process of the run (forked and
spawned children included) to one JSON-lines file, one `os.write` per line with O_APPEND, so
processes never interleave within a line:

- `log`: every log record of every logger (the SDK's at DEBUG), with its pid and time;
- `mark`: a named point in the script, with `time.monotonic()` (the same clock as the test's:
  CLOCK_MONOTONIC is system-wide on Linux and macOS);
- `report`: a client's `stats()` and the event ids this process tracked on it. A `final` report
  is written for every client at the very end of each process: by an `atexit` handler registered
  before the SDK is imported (so it runs after the SDK's own exit flush), and in multiprocessing
  children (which may end through `os._exit`) by a finalizer with the lowest priority, which
  multiprocessing runs after every other. The test keeps the last one of each process.

The config (API key included) comes in an environment variable, never on a command line.
"""

from __future__ import annotations

import atexit
import dataclasses
import json
import logging
import os
import sys
import time
import traceback
from typing import Any

OUT = os.environ["LIFECYCLE_OUT"]
PARAMS: dict[str, Any] = json.loads(os.environ.get("LIFECYCLE_PARAMS", "{}"))
CONFIG: dict[str, Any] = json.loads(os.environ["LIFECYCLE_CONFIG"])


def write(kind: str, **fields: Any) -> None:
    fields.update(kind=kind, pid=os.getpid(), t=time.monotonic())
    line = (json.dumps(fields, default=str) + "\n").encode()
    fd = os.open(OUT, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, line)
    finally:
        os.close(fd)


class _Capture(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = record.getMessage()
            if record.exc_info:
                message += "\n" + "".join(traceback.format_exception(*record.exc_info))
            write(
                "log",
                logger=record.name,
                level=record.levelno,
                message=message,
                thread=record.threadName,
            )
        except Exception:
            self.handleError(record)


_root = logging.getLogger()
_root.setLevel(logging.DEBUG)  # httpx's and httpcore's records too: the key must not leak
_root.addHandler(_Capture())
_stderr = logging.StreamHandler(sys.stderr)
_stderr.setLevel(logging.WARNING)
_stderr.setFormatter(logging.Formatter("%(levelname)s %(name)s [%(process)d]: %(message)s"))
_root.addHandler(_stderr)

_clients: list[Any] = []
_tracked: dict[tuple[int, int], list[str]] = {}
_finalizing: set[int] = set()


def mark(name: str, **data: Any) -> None:
    write("mark", name=name, **data)


def report(name: str, client: Any = None, **data: Any) -> None:
    client = _clients[0] if client is None else client
    index = _clients.index(client)
    stats = dataclasses.asdict(client.stats())
    tracked = _tracked.get((os.getpid(), index), [])
    write("report", name=name, index=index, stats=stats, tracked=tracked, **data)


def _final_reports() -> None:
    for client in list(_clients):
        report("final", client)


# Registered before the SDK is imported: atexit runs handlers last-in first-out, so this one
# runs after whatever exit flush the SDK registers.
atexit.register(_final_reports)

from mosaicstack_telemetry import (  # noqa: E402  # after the atexit registration, on purpose
    EventBuilder,
    TaskType,
    TelemetryClient,
    TelemetryConfig,
)


def make_client(**overrides: Any) -> TelemetryClient:
    client = TelemetryClient(TelemetryConfig(**{**CONFIG, **overrides}))
    _clients.append(client)
    return client


def track(client: TelemetryClient, n: int) -> list[str]:
    """Track `n` fresh events; the ids go in this process's reports."""
    builder = EventBuilder(CONFIG["instance_id"]).task_type(TaskType.TESTING).model("lifecycle")
    ids = []
    for i in range(n):
        event = builder.duration_ms(i + 1).build()
        client.track(event)
        ids.append(str(event.event_id))
    _tracked.setdefault((os.getpid(), _clients.index(client)), []).extend(ids)
    return ids


def in_child() -> None:
    """In a multiprocessing child: write the final reports at its exit, whichever way it ends
    (`os._exit` after the finalizers under fork and forkserver, `sys.exit` under spawn)."""
    if os.getpid() in _finalizing:
        return
    _finalizing.add(os.getpid())
    import multiprocessing.util

    multiprocessing.util.Finalize(None, _final_reports, exitpriority=-(10**9))
