"""pytest fixtures for code that reports telemetry: `telemetry_server` and `captured_telemetry`.

Registered as a `pytest11` entry point, so it loads in every pytest run of a project that
installs the SDK. "Lazy" here means: this module imports only pytest and the standard library
at module level (no server, uvicorn, starlette, sqlite3 or generated client); everything else
is imported inside a fixture, when a test asks for it. Importing it runs the package's
`__init__` too (Python imports a parent package first), but the package loads its names on
first use, so no httpx, pydantic or client is imported until a fixture needs them.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from mosaicstack_telemetry import PredictionQuery, PredictionResponse, TaskCompletionEvent
    from mosaicstack_telemetry import TelemetryConfig as _Config


class TelemetryServer:
    """A running local reference server, with a key and instance bound to it."""

    def __init__(self, server: Any, api_key: str, instance_id: str) -> None:
        self.server = server  #: the `RunningServer` (`.requests`, `.set_down()`, ...)
        self.url: str = server.url
        self.api_key = api_key
        self.instance_id = instance_id

    def config(self, **overrides: Any) -> _Config:
        """A `TelemetryConfig` pointing at this server; `overrides` set any other field."""
        from mosaicstack_telemetry import TelemetryConfig

        settings: dict[str, Any] = {
            "server_url": self.url,
            "api_key": self.api_key,
            "instance_id": self.instance_id,
        }
        settings.update(overrides)
        return TelemetryConfig(**settings)

    def env(self) -> dict[str, str]:
        """The MOSAIC_TELEMETRY_* variables for a subprocess (a CLI, a hook) to use it."""
        return {
            "MOSAIC_TELEMETRY_SERVER_URL": self.url,
            "MOSAIC_TELEMETRY_API_KEY": self.api_key,
            "MOSAIC_TELEMETRY_INSTANCE_ID": self.instance_id,
        }

    def events(self) -> list[dict[str, Any]]:
        """Every event the server stored (each event_id once), as JSON dicts."""
        return list(self.server.stored_events())

    def __repr__(self) -> str:  # never the key
        return f"TelemetryServer(url={self.url!r}, instance_id={self.instance_id!r})"


@pytest.fixture
def telemetry_server() -> Iterator[TelemetryServer]:
    """The local reference server on 127.0.0.1 (a free port, an in-memory database), fresh
    per test. Skips the test when the `server` extra is not installed."""
    try:
        from mosaicstack_telemetry.server import start_server
    except ImportError as exc:
        pytest.skip(f"telemetry_server needs mosaicstack-telemetry[server]: {exc}")
    api_key = secrets.token_hex(32)
    instance_id = str(uuid.uuid4())
    with start_server(keys={api_key: instance_id}, db=":memory:") as server:
        yield TelemetryServer(server, api_key, instance_id)


class CapturedTelemetry:
    """What every `TelemetryClient` tracked during the test; nothing reaches a network.

    `events` is in tracking order and holds what a real client would have accepted (an
    enabled client with a valid config, a `TaskCompletionEvent`). Flushes deliver to memory:
    they count events as sent and leave queue and spool empty. Predictions answer from
    `predictions` (keyed by query) or "no data".
    """

    def __init__(self) -> None:
        self.events: list[TaskCompletionEvent] = []
        self.delivered: list[TaskCompletionEvent] = []
        self.predictions: dict[tuple[str, str, str, str], PredictionResponse] = {}

    def clear(self) -> None:
        self.events.clear()
        self.delivered.clear()

    def find(self, **fields: Any) -> list[TaskCompletionEvent]:
        """The captured events whose fields equal `fields` (an enum equals its value)."""
        return [e for e in self.events if all(getattr(e, k) == v for k, v in fields.items())]

    def assert_tracked(self, count: int | None = None, **fields: Any) -> TaskCompletionEvent:
        """Assert an event with these fields was tracked (exactly `count` of them, if given);
        returns the last match."""
        unknown = [k for k in fields if not hasattr(self.events[0], k)] if self.events else []
        assert not unknown, f"not event fields: {unknown}"
        found = self.find(**fields)
        seen = "\n".join(f"  {_summary(e)}" for e in self.events) or "  (none)"
        if count is None:
            assert found, f"no tracked event matches {fields}; tracked:\n{seen}"
        else:
            assert len(found) == count, (
                f"{len(found)} tracked events match {fields}, expected {count}; tracked:\n{seen}"
            )
        return found[-1] if found else None  # type: ignore[return-value]

    def assert_nothing_tracked(self) -> None:
        seen = "\n".join(f"  {_summary(e)}" for e in self.events)
        assert not self.events, f"{len(self.events)} events were tracked:\n{seen}"

    def set_prediction(self, query: PredictionQuery, response: PredictionResponse) -> None:
        """Make `refresh_predictions*` answer `response` for `query`."""
        self.predictions[_query_key(query)] = response


def _summary(event: Any) -> str:
    return (
        f"task_type={event.task_type} model={event.model!r} provider={event.provider} "
        f"outcome={event.outcome} event_id={event.event_id}"
    )


def _query_key(query: Any) -> tuple[str, str, str, str]:
    return (str(query.task_type), query.model, str(query.provider), str(query.complexity))


@pytest.fixture
def captured_telemetry(monkeypatch: pytest.MonkeyPatch) -> CapturedTelemetry:
    """Capture the events tracked by any `TelemetryClient` in this test, in memory.

    `TelemetryClient.track` is wrapped (the real one still runs: disabled clients and invalid
    configs behave as in production) and the `Sender`'s network methods are replaced, so
    flushes, `stop()` and predictions never open a connection.
    """
    from mosaicstack_telemetry import TaskCompletionEvent
    from mosaicstack_telemetry._client import TelemetryClient
    from mosaicstack_telemetry._models import PredictionResponse
    from mosaicstack_telemetry._sender import Sender

    captured = CapturedTelemetry()
    real_track = TelemetryClient.track

    def track(self: TelemetryClient, event: TaskCompletionEvent) -> None:
        real_track(self, event)
        if self._enabled and self._valid and isinstance(event, TaskCompletionEvent):
            captured.events.append(event)

    def deliver(sender: Sender) -> None:
        if sender.spool is not None:
            sender.persist()
            while batch := sender.spool.lease(100, 60.0):
                events = [TaskCompletionEvent.model_validate_json(e.body) for e in batch]
                captured.delivered.extend(events)
                sender.spool.ack(batch)
                sender._stats.add("sent", len(events))
        events = sender._queue.drain(sender._queue.size)
        captured.delivered.extend(events)
        sender._stats.add("sent", len(events))

    def flush_sync(self: Sender, interrupt: Any, deadline: float | None) -> bool:
        deliver(self)
        return True

    async def flush_async(self: Sender, interrupt: Any, deadline: float | None) -> bool:
        deliver(self)
        return True

    def answer(queries: Any) -> list[PredictionResponse]:
        meta: dict[str, Any] = {"sample_size": 0, "fallback_level": -1, "confidence": "none"}
        none = {"prediction": None, "metadata": meta}
        return [
            captured.predictions.get(_query_key(q)) or PredictionResponse.model_validate(none)
            for q in queries
        ]

    def predict_sync(self: Sender, queries: Any) -> list[PredictionResponse]:
        return answer(queries)

    async def predict_async(self: Sender, queries: Any) -> list[PredictionResponse]:
        return answer(queries)

    monkeypatch.setattr(TelemetryClient, "track", track)
    monkeypatch.setattr(Sender, "flush_sync", flush_sync)
    monkeypatch.setattr(Sender, "flush_async", flush_async)
    monkeypatch.setattr(Sender, "predict_sync", predict_sync)
    monkeypatch.setattr(Sender, "predict_async", predict_async)
    return captured
