"""`EventSpool`: record events in the spool file from a short-lived process, without a client.

A harness hook or a CLI run lives for a fraction of a second: a `TelemetryClient` would load
pydantic, build the models and start a sender only to hand one event to the spool. This writes
the event to the same SQLite file directly (`_spool.Spool`, the client's own), validated against
the contract; the next `mosaic-telemetry flush`, or any client with the same `spool_path`,
delivers it.
"""

from __future__ import annotations

import os

from mosaicstack_telemetry._killswitch import ENV_ENABLED, parse_enabled
from mosaicstack_telemetry._spool import Spool

# An empty `mosaic-telemetry flush` only counts the spool: what adding needs (the enums, the
# schema's validator) loads with the first `add()`, and typing never (type checkers take any
# name TYPE_CHECKING as true).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from types import TracebackType
    from typing import Any


class EventSpool:
    """The spool file (`TelemetryConfig.spool_path`), for adding events without a client.

    `add(fields)` validates an event against the contract and stores it as the JSON the server
    will receive, exactly as `TelemetryClient.track()` with the same `spool_path` would, and
    returns at once: no thread, no network. Events in plain JSON form are written without
    loading pydantic (a few milliseconds in a fresh process); anything else is validated by
    `TaskCompletionEvent`, so the result and the errors are always the model's. Safe to share
    with clients and other processes, as the spool is.
    """

    def __init__(self, path: str | os.PathLike[str], max_events: int = 100_000) -> None:
        self._spool = Spool(path, max_events)
        enabled = os.environ.get(ENV_ENABLED, "").strip()
        #: False when `MOSAIC_TELEMETRY_ENABLED` turns telemetry off (read now, as
        #: `TelemetryConfig` reads it): then nothing is validated or stored, no file is made.
        self.enabled = parse_enabled(enabled) if enabled else True
        #: Events that `add()` calls of this object evicted, the oldest first, to stay within
        #: `max_events` (`TelemetryClient.stats().dropped["spool_evicted"]` counts the same).
        self.evicted = 0

    def add(self, fields: Mapping[str, Any]) -> str:
        """Validate and store one event; returns its `event_id`.

        `fields` are the event's fields by name (as `TaskCompletionEvent.model_validate` takes
        them); a missing one takes `EventBuilder`'s default, a missing `event_id` and
        `timestamp` are fresh. Raises pydantic's `ValidationError` (a `ValueError`), with the
        model's messages, when they are not a valid event, and `sqlite3.Error` or `OSError`
        when the file cannot be written. With telemetry disabled it returns the event's id
        (fresh when it has none) and does nothing else.
        """
        from mosaicstack_telemetry._defaults import BUILDER_DEFAULTS
        from mosaicstack_telemetry._eventjson import event_json
        from mosaicstack_telemetry._ids import new_event_id_text

        if not self.enabled:  # the kill switch: as `track()`, a silent no-op
            return str(fields.get("event_id") or new_event_id_text())
        data = {**BUILDER_DEFAULTS, **fields}
        written = event_json(data)
        if written is not None:
            event_id, body = written
            row = (event_id, str(data["instance_id"]), body)
        else:  # not plain JSON, or not valid: the model decides, and says why
            from mosaicstack_telemetry._models import TaskCompletionEvent, dump_event

            event = TaskCompletionEvent.model_validate(data)
            row = (str(event.event_id), str(event.instance_id), dump_event(event))
        self.evicted += self._spool.add([row])
        return row[0]

    def count(self, instance_id: str | None = None) -> int:
        """How many events the spool holds (those of every process sharing it); with
        `instance_id`, those of that instance that no other process is sending now (what a
        client of that instance would send). 0 when disabled."""
        if not self.enabled:
            return 0
        return self._spool.count(None if instance_id is None else str(instance_id))

    def close(self) -> None:
        """Close the file (a later call opens it again)."""
        self._spool.close()

    def __enter__(self) -> EventSpool:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"EventSpool({str(self._spool.path)!r}, max_events={self._spool.max_events})"
