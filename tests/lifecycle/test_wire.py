"""Wire behaviours against the real local server (until now tested only against a scripted
fake): 413 splits, 403 drops from memory and stays in a spool, the predictions cache's TTL.

401 is not here: the local server answers it only for a missing or malformed Authorization
header, which a client with a valid config (a 64-hex key) never sends; tests/sdk covers it
against the scripted server.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from tests.lifecycle._harness import (
    assert_accounts,
)
from tests.lifecycle._servers import (
    LocalServer,
    local_server,
)

from mosaicstack_telemetry import (
    Complexity,
    EventBuilder,
    PredictionQuery,
    Provider,
    TaskType,
    TelemetryClient,
    TelemetryConfig,
)
from mosaicstack_telemetry._retry import _scaled_time
from mosaicstack_telemetry.server import FaultConfig

EVENTS_PATH = "/v1/events/batch"


def config(server: LocalServer, **overrides: Any) -> TelemetryConfig:
    settings: dict[str, Any] = {
        "server_url": server.url,
        "api_key": server.key,
        "instance_id": server.instance,
        "submit_interval_seconds": 3600.0,
        "request_timeout_seconds": 5.0,
        "shutdown_timeout_seconds": 5.0,
    }
    settings.update(overrides)
    return TelemetryConfig(**settings)


def track(client: TelemetryClient, instance: str, n: int) -> list[str]:
    ids = []
    for i in range(n):
        event = EventBuilder(instance).model("wire").duration_ms(i + 1).build()
        client.track(event)
        ids.append(str(event.event_id))
    return ids


def wait_for(predicate: Any, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)


def event_statuses(server: LocalServer) -> list[int | None]:
    return [r.status for r in server.requests if r.path == EVENTS_PATH]


def test_413_splits_the_batch_and_every_half_is_stored(tmp_path: Path) -> None:
    one = len(EventBuilder("12345678-1234-4234-8234-123456789abc").build().model_dump_json())
    # 100 events do not fit, 50 do: one split, then both halves go through.
    with local_server(body_limit=one * 70) as server:
        client = TelemetryClient(config(server, batch_size=100))
        ids = track(client, server.instance, 100)
        with _scaled_time(0.01):
            result = client.flush(timeout=10)
        stats = client.stats()
        assert event_statuses(server) == [413, 202, 202]
        assert sorted(server.stored_ids()) == sorted(ids)
        assert (result.sent, result.dropped, result.remaining) == (100, 0, 0)
        assert stats.sent == 100
        assert stats.dropped == {}
        assert_accounts(stats, 100)
        client.close()


def test_413_for_one_event_drops_it_counted_and_logged_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with local_server(body_limit=200) as server:  # smaller than any one event
        client = TelemetryClient(config(server, batch_size=4))
        track(client, server.instance, 4)
        with caplog.at_level(logging.ERROR, logger="mosaicstack_telemetry"):
            client.flush(timeout=10)
        stats = client.stats()
        assert stats.dropped == {"http_413": 4}
        assert server.event_count() == 0
        assert (stats.queued, stats.sent) == (0, 0)
        assert_accounts(stats, 4)
        # 4 -> 2 + 2 -> 1 + 1 + 1 + 1: seven requests, none retried.
        assert event_statuses(server) == [413] * 7
        errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
        assert len(errors) == 1, [r.getMessage() for r in errors]
        assert "413" in errors[0].getMessage()
        client.close()


def test_403_drops_from_memory_without_retrying_and_logs_once(
    server: LocalServer, caplog: pytest.LogCaptureFixture
) -> None:
    """Three batches under a key the server does not know: each is sent once and dropped,
    counted by reason, and the cause logged once (however many flushes that takes)."""
    unknown = secrets.token_hex(32)  # a well-formed key this server does not know
    client = TelemetryClient(config(server, api_key=unknown, batch_size=2))
    track(client, server.instance, 5)
    with caplog.at_level(logging.ERROR, logger="mosaicstack_telemetry"):
        for _ in range(5):
            client.flush(timeout=10)
            if client.stats().queued == 0:
                break
    stats = client.stats()
    assert stats.dropped == {"http_403": 5}
    assert stats.last_error == 'HTTP 403: {"detail":"unknown API key"}'  # not None
    assert stats.queued == 0
    assert stats.retried == 0
    assert_accounts(stats, 5)
    assert server.event_count() == 0
    assert [path for _, path in server.arrivals_of(unknown)] == [
        EVENTS_PATH
    ] * 3  # one request per batch
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1, errors  # once per cause, not once per batch
    assert "403" in errors[0]
    for record in caplog.records:
        assert unknown not in record.getMessage()
    client.close()


def test_403_keeps_events_in_the_spool_for_a_fixed_config(tmp_path: Path) -> None:
    spool = str(tmp_path / "spool.db")
    with local_server() as wrong, local_server() as right:
        client = TelemetryClient(
            config(wrong, api_key=right.key, instance_id=right.instance, spool_path=spool)
        )
        ids = track(client, right.instance, 3)
        client.flush(timeout=10)
        stats = client.stats()
        assert stats.dropped == {}
        assert stats.spooled == 3
        assert_accounts(stats, 3)
        assert [r.status for r in wrong.requests] == [403]
        client.stop(timeout=2)
        # The config fixed (the right server for that key): the spool delivers them.
        fixed = TelemetryClient(config(right, spool_path=spool))
        fixed.stop(timeout=5)
        assert sorted(right.stored_ids()) == sorted(ids)
        assert fixed.stats().spooled == 0
        assert fixed.stats().sent == 3


def test_the_predictions_cache_entry_expires_after_its_ttl(server: LocalServer) -> None:
    query = PredictionQuery(
        task_type=TaskType.TESTING,
        model="wire",
        provider=Provider.ANTHROPIC,
        complexity=Complexity.LOW,
    )
    client = TelemetryClient(config(server, prediction_cache_ttl_seconds=0.5))
    asked = len([r for r in server.requests if r.path == "/v1/predictions/batch"])
    client.refresh_predictions_sync([query])
    fetched_at = time.monotonic()
    assert client.get_prediction(query) is not None
    time.sleep(0.2)
    assert client.get_prediction(query) is not None  # well inside its TTL
    time.sleep(max(fetched_at + 0.6 - time.monotonic(), 0.0))
    assert client.get_prediction(query) is None  # expired
    client.refresh_predictions_sync([query])
    assert client.get_prediction(query) is not None  # fetched again
    after = len([r for r in server.requests if r.path == "/v1/predictions/batch"])
    assert after - asked == 2
    client.close()


QUERY = PredictionQuery(
    task_type=TaskType.TESTING, model="wire", provider=Provider.ANTHROPIC, complexity=Complexity.LOW
)
SLOW_PREDICTIONS = FaultConfig(
    rate=1.0, kinds=("delay",), delay_seconds=1.0, paths=("/v1/predictions/batch",)
)


def _settled(server: LocalServer, caplog: pytest.LogCaptureFixture) -> None:
    """The one request the refresh made was answered: nothing re-sent, nothing failed."""
    assert [r.path for r in server.requests] == ["/v1/predictions/batch"]
    assert [r.status for r in server.requests] == [200]
    assert not [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]


@pytest.mark.parametrize("started", [False, True])
def test_stop_on_another_thread_lets_a_refresh_in_flight_finish(
    started: bool, caplog: pytest.LogCaptureFixture
) -> None:
    """`stop()` closes the client's connection pool; a prediction refresh on another thread
    is using it. Closing it under the request failed the refresh with "Bad file descriptor"
    (nothing cached, or a second request): the pool is closed by its last request instead."""
    with local_server(SLOW_PREDICTIONS) as server:
        client = TelemetryClient(config(server, max_retries=0))
        if started:
            client.start()
        refresh = threading.Thread(target=client.refresh_predictions_sync, args=([QUERY],))
        refresh.start()
        wait_for(lambda: len(server.arrivals) == 1, 10.0)  # the request is in flight
        client.stop()
        refresh.join(10.0)
        assert client.get_prediction(QUERY) is not None
        _settled(server, caplog)


def test_stop_async_in_the_same_loop_lets_a_refresh_in_flight_finish(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """`stop_async()` closes its loop's pool while a refresh task of that loop uses it."""

    async def main(server: LocalServer) -> TelemetryClient:
        client = TelemetryClient(config(server, max_retries=0))
        await client.start_async()
        refresh = asyncio.create_task(client.refresh_predictions([QUERY]))
        await asyncio.to_thread(wait_for, lambda: len(server.arrivals) == 1, 10.0)
        await client.stop_async()
        await asyncio.wait_for(refresh, 10.0)
        return client

    with local_server(SLOW_PREDICTIONS) as server:
        client = asyncio.run(asyncio.wait_for(main(server), 20.0))
        assert client.get_prediction(QUERY) is not None
        _settled(server, caplog)
