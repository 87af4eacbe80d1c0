"""The request log: bounded in memory, generic about what an answer carries, and complete for
requests whose answer was lost. Plus where the server listens: loopback by default, a warning
otherwise."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.ui._workload import INSTANCE, KEY, stored_rows

from mosaicstack_telemetry.server import FaultConfig, RequestRecord, start_server
from mosaicstack_telemetry.server._requestlog import REQUEST_LOG_SIZE, Exchange
from mosaicstack_telemetry.server._run import exposure_warning, page_url
from mosaicstack_telemetry.server._state import ServerState

AUTH = {"Authorization": f"Bearer {KEY}"}
EVENTS = "/v1/events/batch"
ROOT = Path(__file__).resolve().parents[2]


def _exchange(path: str, status: int, body: bytes, chunks: int = 1) -> RequestRecord:
    scope = {"method": "POST", "path": path, "headers": [(b"user-agent", b"x" * 1000)]}
    exchange = Exchange(scope, None, INSTANCE)
    exchange.observe({"type": "http.response.start", "status": status, "headers": []})
    size = -(-len(body) // chunks)
    parts = [body[i : i + size] for i in range(0, len(body), size)] or [b""]
    for n, part in enumerate(parts):
        last = exchange.observe(
            {"type": "http.response.body", "body": part, "more_body": n < len(parts) - 1}
        )
        assert last == (n == len(parts) - 1)
    return exchange.record(status)


def test_the_log_keeps_the_last_requests_only() -> None:
    state = ServerState({KEY: INSTANCE}, ":memory:", None, 1024)
    try:
        total = REQUEST_LOG_SIZE + 500
        for n in range(total):
            state.record(RequestRecord("GET", f"/{n}", 200, None))
        kept = state.requests
        assert len(kept) == REQUEST_LOG_SIZE
        assert state.requests_recorded == total
        assert [r.seq for r in kept] == list(range(501, total + 1))
        assert kept[-1].path == f"/{total - 1}"
    finally:
        state.store.close()


def test_a_record_keeps_any_status_and_field_and_is_bounded() -> None:
    results = [{"event_id": str(uuid.uuid4()), "status": "accepted", "error": None}] * 3
    results += [
        {"event_id": "a", "status": "duplicate", "index": 3, "code": "already_stored"},
        {"event_id": "b", "status": "quarantined", "error": "x" * 5000, "extra": {"k": [1]}},
        "not an object",
    ]
    results += [{"event_id": "c", "status": "rejected", "error": "bad"}] * 150
    body = json.dumps({"accepted": 3, "rejected": 150, "results": results}).encode()
    record = _exchange(EVENTS, 202, body, chunks=7)
    assert record.counts == {
        "accepted": 3,
        "duplicate": 1,
        "quarantined": 1,
        "unreadable": 1,
        "rejected": 150,
    }
    assert len(record.results) == 100  # kept per request: a batch's worth
    duplicate, quarantined = record.results[:2]
    assert duplicate == {
        "index": 3,
        "event_id": "a",
        "status": "duplicate",
        "code": "already_stored",
    }
    assert quarantined["index"] == 4  # its position, when the answer gives none
    assert len(quarantined["error"]) == 300
    assert quarantined["extra"] == '{"k": [1]}'
    assert record.instance == INSTANCE
    assert record.client is not None
    assert len(record.client) == 300


def test_an_answer_too_large_to_read_is_recorded_without_results() -> None:
    body = json.dumps({"results": [{"status": "rejected", "error": "e" * 1000}] * 300}).encode()
    record = _exchange(EVENTS, 202, body, chunks=5)
    assert (record.status, record.counts, record.results) == (202, {}, ())


def test_error_details_are_one_bounded_line() -> None:
    problems = [{"loc": ["body", "events", i], "msg": "bad", "type": "t"} for i in range(12)]
    record = _exchange(EVENTS, 422, json.dumps({"detail": problems}).encode())
    assert record.detail is not None
    assert record.detail.startswith("body.events.0: bad; body.events.1: bad")
    assert record.detail.endswith("; …")
    assert _exchange(EVENTS, 415, b"<html>nope</html>").detail == "<html>nope</html>"
    assert _exchange(EVENTS, 413, json.dumps({"detail": "d" * 900}).encode()).detail == (
        "d" * 299 + "…"
    )


def test_a_dropped_answer_still_shows_what_was_processed() -> None:
    faults = FaultConfig(rate=1.0, kinds=("drop",), seed=1)
    with start_server(keys={KEY: INSTANCE}, faults=faults) as srv:
        events = [e for _, e in stored_rows(3, seed=5)]
        with pytest.raises(httpx.TransportError):
            httpx.post(srv.url + EVENTS, json={"events": events}, headers=AUTH)
        deadline = time.monotonic() + 5
        while not srv.requests and time.monotonic() < deadline:
            time.sleep(0.01)
        (record,) = srv.requests
        assert (record.status, record.fault) == (None, "drop")
        assert record.counts == {"accepted": 3}  # stored, though the client never heard it


def test_start_server_listens_on_loopback_and_does_not_warn(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="mosaicstack_telemetry.server")
    with start_server(keys={KEY: INSTANCE}) as srv:
        assert srv.url.startswith("http://127.0.0.1:")
    assert not caplog.records


class _Sock:
    def __init__(self, *address: Any) -> None:
        self.address = address

    def getsockname(self) -> tuple[Any, ...]:
        return self.address


@pytest.mark.parametrize(
    ("address", "warns"),
    [
        (("127.0.0.1", 8000), False),
        (("127.0.0.2", 8000), False),
        (("::1", 8000, 0, 0), False),
        (("0.0.0.0", 8000), True),
        (("::", 8000, 0, 0), True),
        (("192.168.1.20", 8000), True),
        (("fe80::1%eth0", 8000, 0, 2), True),
    ],
)
def test_exposure_warning(address: tuple[Any, ...], warns: bool) -> None:
    warning = exposure_warning(_Sock(*address))  # type: ignore[arg-type]
    assert (warning is not None) is warns
    if warning:
        assert f"listens on {address[0]}" in warning
        assert "needs no key" in warning
        assert "--host 127.0.0.1" in warning


def test_page_url_of_a_wildcard_bind_is_loopback() -> None:
    assert page_url(_Sock("0.0.0.0", 8000)) == "http://127.0.0.1:8000/"  # type: ignore[arg-type]
    assert page_url(_Sock("::", 8000, 0, 0)) == "http://[::1]:8000/"  # type: ignore[arg-type]
    assert page_url(_Sock("127.0.0.1", 81)) == "http://127.0.0.1:81/"  # type: ignore[arg-type]


# The command line, in a subprocess: its default is loopback, it prints the page's address,
# and `serve_forever` warns on stderr when the address is not loopback (forced here by
# replacing the check, so no test ever listens beyond loopback).
_SERVE = """
import sys
import mosaicstack_telemetry.server._run as run
if sys.argv[1] == "exposed":
    run.exposure_warning = lambda sock: "TEST: listening beyond loopback"
from mosaicstack_telemetry.server.__main__ import main
sys.exit(main(["--port", "0", "--log-level", "warning", "--key", sys.argv[2]]))
"""


@pytest.mark.parametrize("mode", ["default", "exposed"])
def test_the_command_line_prints_the_page_and_warns_beyond_loopback(mode: str) -> None:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    proc = subprocess.Popen(
        [sys.executable, "-c", _SERVE, mode, f"{KEY}:{INSTANCE}"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env=env,
    )
    try:
        assert proc.stdout is not None
        page = None
        for _ in range(10):  # bounded: the lines it prints before serving
            line = proc.stdout.readline()
            if line.startswith("live page: "):
                page = line.split()[2]
                break
        assert page is not None
        assert page.startswith("http://127.0.0.1:")
        deadline = time.monotonic() + 10
        while True:
            try:
                response = httpx.get(page)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline
                time.sleep(0.02)
        assert response.status_code == 200
        assert KEY not in response.text
    finally:
        proc.terminate()
        _, stderr = proc.communicate(timeout=30)
    warned = "warning: TEST: listening beyond loopback" in stderr
    assert warned is (mode == "exposed"), stderr
