"""Fault injection (each kind), the down window, and `python -m mosaicstack_telemetry.server`
as a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.server._helpers import AUTH, INSTANCE, KEY, make_event

from mosaicstack_telemetry.server import FaultConfig, start_server
from mosaicstack_telemetry.server.__main__ import main, parse_keys_file

EVENTS = "/v1/events/batch"
PREDICT = "/v1/predictions/batch"
QUERY = {"task_type": "testing", "model": "m", "provider": "openai", "complexity": "low"}


@pytest.fixture
def faulty(request: pytest.FixtureRequest) -> Iterator[Any]:
    config = FaultConfig(
        rate=1.0, kinds=(request.param,), seed=1, retry_after="7", delay_seconds=0.2
    )
    with start_server(keys={KEY: INSTANCE}, faults=config) as srv:
        yield srv


@pytest.mark.parametrize("faulty", ["429", "500", "503"], indirect=True)
def test_status_faults(faulty: Any) -> None:
    event = make_event()
    response = httpx.post(faulty.url + EVENTS, json={"events": [event]}, headers=AUTH)
    code = response.status_code
    assert code in (429, 500, 503)
    assert set(response.json()) == {"detail"}
    if response.status_code == 429:
        assert response.headers["retry-after"] == "7"
    assert httpx.post(faulty.url + PREDICT, json={"queries": [QUERY]}).status_code == code
    assert faulty.event_count() == 0  # nothing was processed
    # not on the operational endpoints
    assert httpx.get(faulty.url + "/healthz").status_code == 200
    assert httpx.get(faulty.url + "/openapi.json").status_code == 200
    assert [(r.path, r.status, r.fault) for r in faulty.requests] == [
        (EVENTS, code, str(code)),
        (PREDICT, code, str(code)),
        ("/healthz", 200, None),
        ("/openapi.json", 200, None),
    ]


@pytest.mark.parametrize("faulty", ["drop"], indirect=True)
def test_drop_is_a_connection_error_after_processing(faulty: Any) -> None:
    event = make_event()
    with httpx.Client(base_url=faulty.url) as client:
        with pytest.raises(httpx.TransportError):
            client.post(EVENTS, json={"events": [event]}, headers=AUTH)
        with pytest.raises(httpx.TransportError):
            client.post(PREDICT, json={"queries": [QUERY]})
        assert client.get("/healthz").status_code == 200  # a fresh connection works
    assert faulty.event_count() == 1  # stored: only the answer was lost
    assert [(r.status, r.fault) for r in faulty.requests[:2]] == [(None, "drop"), (None, "drop")]


@pytest.mark.parametrize("faulty", ["delay"], indirect=True)
def test_delay_then_a_normal_answer(faulty: Any) -> None:
    started = time.monotonic()
    response = httpx.post(faulty.url + EVENTS, json={"events": [make_event()]}, headers=AUTH)
    assert response.status_code == 202
    assert time.monotonic() - started >= 0.2  # a lower bound: the delay really happened
    assert faulty.requests[0].fault == "delay"
    assert faulty.event_count() == 1


def test_faults_are_seeded_and_at_the_configured_rate() -> None:
    def run() -> list[str | None]:
        config = FaultConfig(rate=0.5, kinds=("429", "500", "503"), seed=42)
        with start_server(keys={KEY: INSTANCE}, faults=config) as srv:
            with httpx.Client(base_url=srv.url) as client:
                for _ in range(200):
                    client.post(PREDICT, json={"queries": [QUERY]})
            return [r.fault for r in srv.requests]

    first, second = run(), run()
    assert first == second
    faults = [f for f in first if f]
    assert 60 < len(faults) < 140
    assert set(faults) == {"429", "500", "503"}


def test_fault_config_is_validated() -> None:
    with pytest.raises(ValueError, match="rate"):
        FaultConfig(rate=1.5)
    with pytest.raises(ValueError, match="kinds"):
        FaultConfig(kinds=("418",))
    with pytest.raises(ValueError, match="kinds"):
        FaultConfig(kinds=())


def test_set_down_fails_at_the_network_level(srv: Any) -> None:
    with httpx.Client(base_url=srv.url, headers=AUTH) as client:
        assert client.post(EVENTS, json={"events": [make_event()]}).status_code == 202
        srv.set_down(True)
        for _ in range(3):  # a kept-alive connection, then fresh ones
            with pytest.raises(httpx.TransportError):
                client.post(EVENTS, json={"events": [make_event()]})
        with pytest.raises(httpx.TransportError):
            httpx.get(srv.url + "/healthz")
        srv.set_down(False)
        assert client.post(EVENTS, json={"events": [make_event()]}).status_code == 202
    assert srv.event_count() == 2


def test_keys_file_formats(tmp_path: Path) -> None:
    as_json = tmp_path / "keys.json"
    as_json.write_text(json.dumps({KEY: INSTANCE}))
    lines = tmp_path / "keys.txt"
    lines.write_text(f"# comment\n{KEY} {INSTANCE}\n\n{'a' * 64}:{INSTANCE}  # trailing\n")
    assert parse_keys_file(as_json) == {KEY: INSTANCE}
    assert parse_keys_file(lines) == {KEY: INSTANCE, "a" * 64: INSTANCE}
    broken = tmp_path / "broken.txt"
    broken.write_text("only-one-field\n")
    with pytest.raises(ValueError, match=r"broken\.txt:1"):
        parse_keys_file(broken)


def test_cli_refuses_a_bad_key(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--key", f"short:{INSTANCE}", "--port", "0"]) == 2
    assert "64 hexadecimal" in capsys.readouterr().err
    # Which value is wrong, not uuid's bare "badly formed hexadecimal UUID string".
    assert main(["--key", f"{KEY}:not-an-instance", "--port", "0"]) == 2
    assert "must be a UUID, not 'not-an-instance'" in capsys.readouterr().err


def test_a_database_that_cannot_be_opened_is_a_runtime_problem(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Exit 1 with the path named (docs/cli.md: 2 is for usage); it was a bare traceback.
    where = tmp_path / "a-file"
    where.write_text("not a directory")
    assert main(["--db", str(where / "x.db"), "--port", "0"]) == 1
    err = capsys.readouterr().err
    assert f"the database {where / 'x.db'} cannot be used" in err
    assert "Traceback" not in err


def _start_cli(*args: str, dev: bool = False) -> tuple[subprocess.Popen[str], str]:
    """`python -m mosaicstack_telemetry.server`, with `dev`: in development mode (`-X dev`,
    every warning shown, a ResourceWarning for an unclosed database)."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    flags = ["-X", "dev"] if dev else []
    proc = subprocess.Popen(
        [sys.executable, *flags, "-m", "mosaicstack_telemetry.server", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    assert proc.stdout is not None
    for _ in range(20):  # bounded: the ready line comes within the first few lines
        line = proc.stdout.readline()
        if line.startswith("serving on "):
            return proc, line.split()[-1]
        if not line and proc.poll() is not None:
            break
    proc.kill()
    raise AssertionError("the server did not announce itself")


def when_serving(request: Callable[[], httpx.Response]) -> httpx.Response:
    """`request`'s answer, retried for up to 10 s: uvicorn may need a moment after binding."""
    deadline = time.monotonic() + 10
    while True:
        try:
            return request()
        except httpx.TransportError:
            assert time.monotonic() < deadline
            time.sleep(0.02)


def test_python_m_server_answers(tmp_path: Path) -> None:
    keys = tmp_path / "keys.txt"
    other = "b" * 64
    keys.write_text(f"{other} {INSTANCE}\n")
    db = tmp_path / "events.sqlite3"
    args = ["--host", "127.0.0.1", "--key", f"{KEY}:{INSTANCE}", "--keys-file", str(keys)]
    proc, url = _start_cli(*args, "--db", str(db), "--log-level", "warning")
    try:
        assert when_serving(lambda: httpx.get(url + "/healthz")).status_code == 200
        event = make_event()
        for key in (KEY, other):
            response = httpx.post(
                url + EVENTS, json={"events": [event]}, headers={"Authorization": f"Bearer {key}"}
            )
            assert response.status_code == 202
        assert httpx.post(url + EVENTS, json={"events": [event]}).status_code == 401
        result = httpx.post(url + PREDICT, json={"queries": [QUERY]}).json()
        assert result["results"][0]["metadata"]["confidence"] == "none"
    finally:
        proc.terminate()
        proc.wait(10)
    assert db.exists()  # persisted: a second run would see the event
    proc, url = _start_cli("--key", f"{KEY}:{INSTANCE}", "--db", str(db), "--log-level", "warning")
    try:
        query = {k: event[k] for k in ("task_type", "model", "provider", "complexity")}
        result = when_serving(lambda: httpx.post(url + PREDICT, json={"queries": [query]})).json()
        assert result["results"][0]["metadata"]["sample_size"] == 1
    finally:
        proc.terminate()
        proc.wait(10)


def test_cli_faults() -> None:
    proc, url = _start_cli("--fault-rate", "1", "--fault-kinds", "503", "--fault-seed", "3",
                           "--log-level", "warning")  # fmt: skip
    try:
        response = when_serving(lambda: httpx.post(url + PREDICT, json={"queries": [QUERY]}))
        assert response.status_code == 503
    finally:
        proc.terminate()
        proc.communicate(timeout=10)


@pytest.mark.parametrize("faulty", ["delay"], indirect=True)
def test_a_client_that_gives_up_during_a_delay_is_not_served(faulty: Any) -> None:
    """The delay fault models a server that has not started on the request: a client cut off
    before its answer is not served, so nothing it was not told about is stored."""
    event = make_event()
    with pytest.raises(httpx.ReadTimeout):
        httpx.post(faulty.url + EVENTS, json={"events": [event]}, headers=AUTH, timeout=0.05)
    deadline = time.monotonic() + 5
    while not faulty.requests and time.monotonic() < deadline:
        time.sleep(0.01)
    assert [(r.path, r.status, r.fault) for r in faulty.requests] == [(EVENTS, None, "delay")]
    time.sleep(0.3)  # past the delay: still nothing processed
    assert faulty.event_count() == 0
    assert faulty.deliveries() == {}
    # a patient client is served after the delay, with the body it sent
    response = httpx.post(faulty.url + EVENTS, json={"events": [event]}, headers=AUTH)
    assert response.status_code == 202
    assert faulty.event_count() == 1


def test_deliveries_count_each_event_id_per_authenticated_request(srv: Any) -> None:
    first, second = make_event(), make_event()
    for events in ([first], [first, second]):
        response = httpx.post(srv.url + EVENTS, json={"events": events}, headers=AUTH)
        assert response.status_code == 202
    httpx.post(srv.url + EVENTS, json={"events": [second]})  # 401: not a delivery
    assert srv.deliveries() == {first["event_id"]: 2, second["event_id"]: 1}
    assert srv.event_count() == 2


def test_ctrl_c_ends_the_server_quietly(tmp_path: Path) -> None:
    # uvicorn passes Ctrl-C on once it has shut down: the server printed a KeyboardInterrupt
    # traceback; its socket and database were left unclosed.
    import signal

    db = tmp_path / "events.sqlite3"
    proc, url = _start_cli("--key", f"{KEY}:{INSTANCE}", "--db", str(db), dev=True)
    # Serving: uvicorn's own Ctrl-C handling is in place.
    assert when_serving(lambda: httpx.get(url + "/healthz")).status_code == 200
    proc.send_signal(signal.SIGINT)
    output, _ = proc.communicate(timeout=30)
    assert proc.returncode == -signal.SIGINT, output  # as Ctrl-C ends a program: a shell stops
    assert "Traceback" not in output
    assert "ResourceWarning" not in output
    assert "Shutting down" in output
