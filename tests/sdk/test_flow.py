"""Several requests in flight (issue: drain fast under faults), over real HTTP: the window
grows against a healthy server, stays at one when asked, a 429's Retry-After holds every new
request, and stop() cuts every request in flight and waits for them."""

from __future__ import annotations

import time

from mosaicstack_telemetry import TelemetryClient
from mosaicstack_telemetry._retry import _scaled_time

from .conftest import Reply, ScriptedServer, make_config, make_event


def _track(client: TelemetryClient, count: int) -> None:
    for _ in range(count):
        client.track(make_event())


def test_several_requests_in_flight_against_a_slow_server(server: ScriptedServer) -> None:
    server.delay = 0.1
    client = TelemetryClient(make_config(server.url, max_queue_size=2000))
    _track(client, 1500)
    result = client.flush(timeout=60)
    assert result.sent == 1500
    assert 2 <= server.peak <= 4  # grew past one, never past max_concurrent_requests
    assert len(set(server.event_ids())) == 1500
    client.close()


def test_max_concurrent_requests_one_sends_one_at_a_time(server: ScriptedServer) -> None:
    server.delay = 0.02
    client = TelemetryClient(make_config(server.url, max_concurrent_requests=1))
    _track(client, 800)
    assert client.flush(timeout=60).sent == 800
    assert server.peak == 1
    client.close()


def test_retry_after_holds_every_new_request_not_just_one(server: ScriptedServer) -> None:
    server.delay = 0.05
    # Three quick successes open the window; the fourth answer says: come back in 3 s.
    server.script(Reply(202), Reply(202), Reply(202), Reply(429, headers={"Retry-After": "3"}))
    client = TelemetryClient(make_config(server.url, max_queue_size=2000))
    _track(client, 1000)
    with _scaled_time(0.1):  # 3 s -> 0.3 s
        assert client.flush(timeout=60).sent == 1000
    ((paused_at, _),) = [a for a in server.answered if a[1] == 429]
    arrivals = [s.at for s in server.events_posts()]
    # Requests sent before the client read the 429 may still arrive just after it (a 50 ms
    # allowance); nothing new may start during the pause, and the rest comes after it.
    assert not [t for t in arrivals if paused_at + 0.05 < t < paused_at + 0.29]
    assert [t for t in arrivals if t >= paused_at + 0.29]
    client.close()


def test_stop_cuts_every_request_in_flight_and_waits_for_them(server: ScriptedServer) -> None:
    client = TelemetryClient(make_config(server.url, max_queue_size=2000))
    _track(client, 300)
    assert client.flush().sent == 300  # three successes: a window of four
    server.delay = 30.0  # now the server hangs on to every request
    client.start()
    _track(client, 400)  # four whole batches: four requests at once
    deadline = time.monotonic() + 10
    while server.active < 4 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert server.active == 4
    started = time.monotonic()
    client.stop(timeout=0.5)
    assert time.monotonic() - started < 0.5 + 2.0  # cut at the deadline, not 30 s later
    stats = client.stats()
    assert (stats.sent, stats.in_flight, stats.queued) == (300, 0, 400)
    requests = len(server.seen)
    time.sleep(0.5)
    assert client.stats() == stats  # nothing changes after stop() returned
    assert len(server.seen) == requests  # and no request leaves
