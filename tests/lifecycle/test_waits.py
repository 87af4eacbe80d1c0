"""Each kind of wait, in real time (everywhere else retry waits are scaled down): a measured
lower bound and a generous upper bound, so that a wrong time scale fails.

Times are when requests reached the real local server, on the clock the client uses.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from tests.lifecycle._servers import (
    LocalServer,
    local_server,
)

from mosaicstack_telemetry import EventBuilder, TelemetryClient, TelemetryConfig
from mosaicstack_telemetry.server import FaultConfig
from mosaicstack_telemetry.server._faults import FaultInjector

EVENTS_PATH = "/v1/events/batch"
#: Slack for what is not the wait itself (a request on loopback, a busy machine).
SLACK = 0.5


def seed_for(pattern: list[str | None], path: str = EVENTS_PATH, **fault: Any) -> FaultConfig:
    """A fault config whose first requests to `path` (the events endpoint) draw `pattern`."""
    for seed in range(10_000):
        config = FaultConfig(seed=seed, paths=(path,), **fault)
        injector = FaultInjector(config)
        if [injector.draw(path) for _ in pattern] == pattern:
            return config
    raise AssertionError(f"no seed draws {pattern}")


def config(server: LocalServer, **overrides: Any) -> TelemetryConfig:
    settings: dict[str, Any] = {
        "server_url": server.url,
        "api_key": server.key,
        "instance_id": server.instance,
        "submit_interval_seconds": 3600.0,
        "request_timeout_seconds": 5.0,
    }
    settings.update(overrides)
    return TelemetryConfig(**settings)


def track(client: TelemetryClient, server: LocalServer) -> None:
    client.track(EventBuilder(server.instance).model("waits").build())


def wait_for(predicate: Callable[[], bool], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_retry_after_of_1_s_is_honoured_in_real_time(mode: str) -> None:
    faults = seed_for(["429", None], rate=0.5, kinds=("429",), retry_after="1")
    with local_server(faults) as server:
        client = TelemetryClient(config(server))
        track(client, server)
        if mode == "sync":
            client.flush(timeout=5)
        else:
            asyncio.run(client.flush_async(timeout=5))
        assert [r.fault for r in server.requests] == ["429", None]
        assert server.event_count() == 1
        first, second = (t for t, _ in server.arrivals)
        # At least the second the server asked for (a 100x-scaled wait takes 10 ms).
        assert second - first >= 1.0 - 0.02, second - first
        assert second - first <= 1.0 + SLACK + 1.0
        client.close()


def test_backoff_waits_in_real_time_within_full_jitter_bounds() -> None:
    """Every request fails (500); with max_retries=1 each cycle of the background sender is an
    attempt, a backoff of the first attempt (uniform in [0, 1] s) and one retry.

    Upper bound: each wait stays within its 1 s ceiling. Lower bound: six such waits add up to
    more than 0.6 s except with probability 0.6**6 / 6! (6.5e-5), while a 10x-too-short scale
    cannot reach it (at most 6 x 0.1 s plus the requests themselves).
    """
    failing = FaultConfig(rate=1.0, kinds=("500",), paths=(EVENTS_PATH,))
    with local_server(failing) as server:
        client = TelemetryClient(
            config(server, max_retries=1, submit_interval_seconds=0.05, request_timeout_seconds=2)
        )
        track(client, server)
        client.start()
        try:
            wait_for(lambda: len(server.arrivals) >= 12, 30.0)
        finally:
            client.stop(timeout=0.1)
        times = [t for t, _ in server.arrivals][:12]
        waits = [times[i + 1] - times[i] for i in range(0, 12, 2)]
        assert all(w <= 1.0 + SLACK for w in waits), waits
        assert sum(waits) > 0.6, waits
        assert client.stats().retried >= 6


def test_the_interval_is_waited_in_real_time() -> None:
    """The periodic flush: the first request leaves one interval after start()."""
    with local_server() as server:
        client = TelemetryClient(config(server, submit_interval_seconds=0.4))
        track(client, server)
        started = time.monotonic()
        client.start()
        try:
            wait_for(lambda: server.event_count() == 1, 10.0)
        finally:
            client.stop(timeout=1)
        ((arrived, _),) = server.arrivals
        assert 0.4 - 0.02 <= arrived - started <= 0.4 + SLACK + 1.0, arrived - started


@pytest.mark.parametrize("how", ["stop", "stop_async", "flush"])
def test_a_pause_a_prediction_refresh_was_told_is_not_waited_out_with_nothing_queued(
    how: str,
) -> None:
    """A refresh's 429 pauses every request of the client (one server, one rate limit). With
    nothing queued, `stop()` / `flush()` have nothing to wait for: they return at once, not at
    the end of the server's `Retry-After` (decisions.md: "stop() never waits out a backoff")."""
    from mosaicstack_telemetry import Complexity, PredictionQuery, Provider, TaskType

    told = 4
    limited = seed_for(
        ["429", None], "/v1/predictions/batch", rate=0.5, kinds=("429",), retry_after=str(told)
    )
    query = PredictionQuery(
        task_type=TaskType.TESTING, model="x", provider=Provider.OPENAI, complexity=Complexity.LOW
    )
    with local_server(limited) as server:
        client = TelemetryClient(config(server))
        refresh = threading.Thread(target=client.refresh_predictions_sync, args=([query],))
        refresh.start()
        wait_for(lambda: [r.fault for r in server.requests] == ["429"], 10.0)
        # The client takes the answer, and pauses, within milliseconds of the server's log;
        # should it not have yet, this run checks less (it cannot fail for that).
        time.sleep(0.5)
        started = time.monotonic()
        if how == "stop_async":
            asyncio.run(client.stop_async())
        elif how == "flush":
            assert client.flush().sent == 0
        else:
            client.stop()
        took = time.monotonic() - started
        refresh.join(told + 10)
        assert took < told - 1.5, f"{how} with nothing queued took {took:.2f} s"
        # The refresh waited the pause out and was answered; no other request was made.
        assert [r.fault for r in server.requests] == ["429", None]
        assert [path for _, path in server.arrivals] == ["/v1/predictions/batch"] * 2
        client.close()
