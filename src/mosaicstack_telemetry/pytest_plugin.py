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
import weakref
from collections import Counter
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from pydantic import BaseModel

    from mosaicstack_telemetry import (
        PredictionQuery,
        PredictionResponse,
        TaskCompletionEvent,
        TelemetryClient,
    )
    from mosaicstack_telemetry import TelemetryConfig as _Config
    from mosaicstack_telemetry._wire import Wire


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
        #: The clients that queued an event in this test (see `_settle`).
        self._clients: weakref.WeakSet[TelemetryClient] = weakref.WeakSet()
        #: Events given to `track()` and not queued, by why: said when an assertion fails.
        self._not_queued: Counter[str] = Counter()

    def clear(self) -> None:
        self.events.clear()
        self.delivered.clear()
        self._not_queued.clear()

    def find(self, **fields: Any) -> list[TaskCompletionEvent]:
        """The captured events whose fields equal `fields` (an enum equals its value, a UUID
        its text)."""
        return [e for e in self.events if all(_equal(getattr(e, k), v) for k, v in fields.items())]

    def assert_tracked(self, count: int | None = None, **fields: Any) -> TaskCompletionEvent:
        """Assert an event with these fields was tracked (exactly `count` of them, if given);
        returns the last match."""
        from mosaicstack_telemetry import TaskCompletionEvent

        unknown = sorted(set(fields) - set(TaskCompletionEvent.model_fields))
        assert not unknown, f"not event fields: {unknown}"
        found = self.find(**fields)
        seen = self._seen()
        if count is None:
            assert found, f"no tracked event matches {fields}; tracked:\n{seen}"
        else:
            assert len(found) == count, (
                f"{len(found)} tracked events match {fields}, expected {count}; tracked:\n{seen}"
            )
        return found[-1] if found else None  # type: ignore[return-value]

    def assert_nothing_tracked(self) -> None:
        assert not self.events, f"{len(self.events)} events were tracked:\n{self._seen()}"

    def _seen(self) -> str:
        seen = "\n".join(f"  {_summary(e)}" for e in self.events) or "  (none)"
        for why, count in sorted(self._not_queued.items()):
            seen += f"\n  and {count} not queued: {_WHY[why]}"
        return seen

    def _tap(self, client: TelemetryClient, event: Any, why: str | None) -> None:
        if why is None:
            self.events.append(event)
            self._clients.add(client)
        else:
            self._not_queued[why] += 1

    def _settle(self, wire: Callable[[_Config], Wire]) -> None:
        """The test is over: what its clients still hold goes to memory now. A client made
        before the test (an app-global one) sends to its server again after it, and the events
        it was given during the test must not go with it (nor at exit)."""
        for client in list(self._clients):
            client.flush(timeout=_SETTLE_SECONDS)
            delivery = client._delivery
            if delivery is not None and delivery.source.holds_events():
                # Still held (in a request of a sender whose loop is gone): to memory at exit.
                delivery._captured = wire

    def set_prediction(
        self, query: PredictionQuery, response: PredictionResponse | dict[str, Any]
    ) -> None:
        """Make `refresh_predictions*` answer `response` for `query`.

        `response` is a `PredictionResponse`, or a dict validated into one (so a typo fails
        here, not in the code under test); anything else is a `TypeError`.
        """
        from mosaicstack_telemetry import PredictionResponse

        if isinstance(response, dict):
            given = response
            response = PredictionResponse.model_validate(given)
            unknown = _unknown_keys(given, response)
            if unknown:
                raise ValueError(
                    f"set_prediction(): not fields of PredictionResponse (a typo?): "
                    f"{', '.join(unknown)}; validation would drop them without a word"
                )
        elif not isinstance(response, PredictionResponse):
            raise TypeError(
                f"set_prediction() takes a PredictionResponse or a dict, not "
                f"{type(response).__name__}"
            )
        self.predictions[_query_key(query)] = response


#: Why `track()` did not queue an event, in words (`_client._tell`).
_WHY = {
    "disabled": "the client is disabled (enabled=False, or its config was made while "
    "MOSAIC_TELEMETRY_ENABLED was off: the fixture lifts the switch only for configs made "
    "during the test)",
    "invalid config": "the client's config is invalid (see the warnings logged when it was made)",
    "not a TaskCompletionEvent": "track() was given something that is not a TaskCompletionEvent",
}
#: The longest a test's end waits for a client's last events to reach memory.
_SETTLE_SECONDS = 5.0


def _equal(value: Any, wanted: Any) -> bool:
    if isinstance(value, uuid.UUID) and isinstance(wanted, str):
        try:
            return value == uuid.UUID(wanted)
        except ValueError:
            return False
    return bool(value == wanted)


def _unknown_keys(given: dict[str, Any], model: BaseModel, where: str = "") -> list[str]:
    """The keys of `given` (and of the dicts in it) that are not fields of the model they
    were validated into: ignored by validation, so a misspelt optional key would vanish."""
    from pydantic import BaseModel

    fields = type(model).model_fields
    names = {info.alias or name: name for name, info in fields.items()} | {n: n for n in fields}
    unknown = []
    for key, value in given.items():
        name = names.get(key)
        if name is None:
            unknown.append(f"{where}{key}")
            continue
        made = getattr(model, name)
        pairs = [(value, made)]
        if isinstance(value, list) and isinstance(made, list):
            pairs = list(zip(value, made, strict=False))
        for part, into in pairs:
            if isinstance(part, dict) and isinstance(into, BaseModel):
                unknown += _unknown_keys(part, into, f"{where}{key}.")
    return unknown


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
def captured_telemetry(monkeypatch: pytest.MonkeyPatch) -> Iterator[CapturedTelemetry]:
    """Capture the events tracked by any `TelemetryClient` in this test, in memory.

    Every client's wire is the in-memory one (flushes, `stop()` and predictions never open a
    connection), and `track()` reports each event it queues, after `before_send`: disabled
    clients and invalid configs behave as in production. `MOSAIC_TELEMETRY_ENABLED` is unset
    for the test, so a CI that sets the kill switch everywhere still captures, and so is
    `MOSAIC_TELEMETRY_SPOOL_PATH`: the developer's own spool (the hook's) is no test's to
    capture, nor to empty. A `spool_path` a test passes itself is used. At the test's end,
    what the clients that tracked in it still hold is delivered to memory: an app-global
    client's events of the test never reach its server.
    """
    from mosaicstack_telemetry import _client, _wire

    captured = CapturedTelemetry()
    # Nothing can reach a network here, so a CI's kill switch must not empty every capture.
    monkeypatch.delenv("MOSAIC_TELEMETRY_ENABLED", raising=False)
    monkeypatch.delenv("MOSAIC_TELEMETRY_SPOOL_PATH", raising=False)

    def wire(config: _Config) -> Wire:
        return _MemoryWire(captured)  # type: ignore[return-value]  # Wire's shape, not its type

    monkeypatch.setattr(_wire, "_override", wire)
    monkeypatch.setattr(_client, "_taps", [captured._tap])
    yield captured
    captured._settle(wire)
