"""`flush` when nothing can succeed: it ends early (the delivery core's fail-fast), and when
stderr is not a terminal it prints one line per HTTP attempt, as the sender logs it.

The fail-fast bounds (`test_flush_ends_early_*`) need the new delivery core (issue 15 depends on
it): `TelemetryClient.flush()` returning as soon as a connection is refused, TLS fails or the
key is refused. Before it lands they fail: the flush retries until its deadline.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import pytest
from tests.cli.conftest import DEAD_URL, INSTANCE, KEY, Cli
from tests.cli.test_cli import prefill, spooled

from mosaicstack_telemetry.pytest_plugin import TelemetryServer
from mosaicstack_telemetry.server import FaultConfig, RunningServer, start_server

#: The deadline given to flush: a fail-fast flush ends long before it.
DEADLINE = "30"
FAST = 10.0
ATTEMPT = re.compile(r"^mosaic-telemetry: POST (\S*)/v1/events/batch: (\d+) items, (.*)$", re.M)


def same_server(logged: str, url: str) -> bool:
    """The new core logs the full URL; the one before it logged the path only (logged == "")."""
    return logged in (url, "")


@pytest.fixture
def failing_server() -> Iterator[RunningServer]:
    """A server that answers every v1 request with a 500."""
    with start_server(
        keys={KEY: INSTANCE}, faults=FaultConfig(rate=1.0, kinds=("500",), seed=1)
    ) as server:
        yield server


def timed_flush(cli: Cli, *args: str, **env: str) -> tuple[float, int, str, str]:
    start = time.monotonic()
    res = cli.run("flush", *args, timeout=120, **env)
    return time.monotonic() - start, res.code, res.out, res.err


def test_flush_ends_early_when_the_connection_is_refused(cli: Cli) -> None:
    cli.point_at(DEAD_URL)
    prefill(cli, INSTANCE, 3)
    elapsed, code, out, err = timed_flush(cli, "--timeout", DEADLINE)
    assert code == 1
    assert "remaining 3" in out
    attempts = ATTEMPT.findall(err)
    assert attempts, err
    assert all(same_server(url, DEAD_URL) for url, _, _ in attempts)
    assert all("failed: ConnectError" in rest for _, _, rest in attempts)
    assert elapsed < FAST, f"{elapsed:.1f} s for a refused connection"
    assert len(spooled(cli.spool)) == 3


def test_flush_ends_early_on_a_tls_error(cli: Cli, telemetry_server: TelemetryServer) -> None:
    # https:// to a server that speaks plain HTTP: the handshake fails every time.
    url = telemetry_server.url.replace("http://", "https://")
    cli.point_at(url, telemetry_server.api_key, telemetry_server.instance_id)
    prefill(cli, telemetry_server.instance_id, 2)
    elapsed, code, out, err = timed_flush(cli, "--timeout", DEADLINE)
    assert code == 1
    assert "remaining 2" in out
    attempts = ATTEMPT.findall(err)
    assert attempts, err
    assert all("failed: ConnectError" in rest for _, _, rest in attempts), err
    assert elapsed < FAST, f"{elapsed:.1f} s for a TLS error"
    assert telemetry_server.events() == []


def test_flush_ends_early_when_the_key_is_refused(
    cli: Cli, telemetry_server: TelemetryServer
) -> None:
    cli.env.update(telemetry_server.env())
    prefill(cli, telemetry_server.instance_id)
    elapsed, code, out, err = timed_flush(cli, "--timeout", DEADLINE, MOSAIC_TELEMETRY_API_KEY=KEY)
    assert code == 1
    assert "remaining 1" in out
    assert [rest for _, _, rest in ATTEMPT.findall(err)] == [
        rest for _, _, rest in ATTEMPT.findall(err) if rest.startswith("HTTP 403")
    ]
    assert ATTEMPT.findall(err)
    # The summary says why they remain: the refusal, not "(None)".
    assert 'mosaic-telemetry: 1 events remain (HTTP 403: {"detail":"unknown API key"})' in err
    assert elapsed < FAST
    assert KEY not in out + err


def test_flush_prints_each_attempt_against_a_failing_server(
    cli: Cli, failing_server: RunningServer
) -> None:
    cli.point_at(failing_server.url)
    prefill(cli, INSTANCE, 2)
    elapsed, code, out, err = timed_flush(cli, "--timeout", "3")
    assert code == 1
    assert "remaining 2" in out
    attempts = ATTEMPT.findall(err)
    posts = [r for r in failing_server.requests if r.path == "/v1/events/batch"]
    assert len(attempts) == len(posts) >= 1  # one line per request the server saw
    assert all(same_server(url, failing_server.url) for url, _, _ in attempts)
    assert all(n == "2" and re.fullmatch(r"HTTP 500 in [\d.]+ s", rest) for _, n, rest in attempts)
    assert elapsed < 30


def test_a_successful_flush_prints_its_attempts_too(
    cli: Cli, telemetry_server: TelemetryServer
) -> None:
    cli.env.update(telemetry_server.env())
    prefill(cli, telemetry_server.instance_id, 2)
    res = cli.run("flush")
    assert res.code == 0
    (attempt,) = ATTEMPT.findall(res.err)
    assert same_server(attempt[0], telemetry_server.url)
    assert attempt[1] == "2"
    assert attempt[2].startswith("HTTP 202 in ")
