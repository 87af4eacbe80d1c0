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

    `events` is in tracking order and holds what a real client queued (an enabled client with
    a valid config, a `TaskCompletionEvent`, after `before_send`). Flushes deliver to memory
    through the SDK's own delivery code: events count as sent and leave queue and spool empty.
    Predictions answer from `predictions` (keyed by query) or "no data".
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

    def set_prediction(
        self, query: PredictionQuery, response: PredictionResponse | dict[str, Any]
    ) -> None:
        """Make `refresh_predictions*` answer `response` for `query`.

        `response` is a `PredictionResponse`, or a dict validated into one (so a typo fails
        here, not in the code under test); anything else is a `TypeError`.
        """
        from mosaicstack_telemetry import PredictionResponse

        if isinstance(response, dict):
            response = PredictionResponse.model_validate(response)
        elif not isinstance(response, PredictionResponse):
            raise TypeError(
                f"set_prediction() takes a PredictionResponse or a dict, not "
                f"{type(response).__name__}"
            )
        self.predictions[_query_key(query)] = response


def _summary(event: Any) -> str:
    return (
        f"task_type={event.task_type} model={event.model!r} provider={event.provider} "
        f"outcome={event.outcome} event_id={event.event_id}"
    )


def _query_key(query: Any) -> tuple[str, str, str, str]:
    return (str(query.task_type), query.model, str(query.provider), str(query.complexity))


class _MemoryWire:
    """The in-memory wire: events are delivered to `CapturedTelemetry.delivered` and answered
    as accepted; predictions come from `CapturedTelemetry.predictions` or "no data"."""

    url = "memory://captured_telemetry"

    def __init__(self, captured: CapturedTelemetry) -> None:
        self._captured = captured

    def send(self, request: Any, budget: Any) -> Any:
        import json

        from mosaicstack_telemetry import PredictionQuery, TaskCompletionEvent
        from mosaicstack_telemetry._wire import EVENTS, Answer

        body = json.loads(request.body)
        if request.operation == EVENTS:
            events = [TaskCompletionEvent.model_validate(e) for e in body["events"]]
            self._captured.delivered.extend(events)
            results = [{"event_id": str(e.event_id), "status": "accepted"} for e in events]
            data = {"accepted": len(events), "rejected": 0, "results": results}
            return Answer(202, data=data)
        answers = []
        for query in body["queries"]:
            known = self._captured.predictions.get(_query_key(PredictionQuery(**query)))
            answers.append(known.model_dump(mode="json") if known is not None else _NO_DATA)
        return Answer(200, data={"results": answers})

    async def send_async(self, request: Any, budget: Any) -> Any:
        return self.send(request, budget)

    def close(self) -> None:
        pass

    async def aclose(self) -> None:
        pass


_NO_DATA = {
    "prediction": None,
    "metadata": {"sample_size": 0, "fallback_level": -1, "confidence": "none"},
}


@pytest.fixture
def captured_telemetry(monkeypatch: pytest.MonkeyPatch) -> CapturedTelemetry:
    """Capture the events tracked by any `TelemetryClient` in this test, in memory.

    Every client's wire is the in-memory one (flushes, `stop()` and predictions never open a
    connection), and `track()` reports each event it queues, after `before_send`: disabled
    clients and invalid configs behave as in production. `MOSAIC_TELEMETRY_ENABLED` is unset
    for the test, so a CI that sets the kill switch everywhere still captures, and so is
    `MOSAIC_TELEMETRY_SPOOL_PATH`: the developer's own spool (the hook's) is no test's to
    capture, nor to empty. A `spool_path` a test passes itself is used.
    """
    from mosaicstack_telemetry import _client, _wire

    captured = CapturedTelemetry()
    # Nothing can reach a network here, so a CI's kill switch must not empty every capture.
    monkeypatch.delenv("MOSAIC_TELEMETRY_ENABLED", raising=False)
    monkeypatch.delenv("MOSAIC_TELEMETRY_SPOOL_PATH", raising=False)
    monkeypatch.setattr(_wire, "_override", lambda config: _MemoryWire(captured))
    monkeypatch.setattr(_client, "_taps", [captured.events.append])
    return captured
