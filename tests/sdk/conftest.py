"""Fixtures for the SDK's wire tests: a scripted HTTP server on 127.0.0.1.

The reference server (mosaicstack_telemetry.server) implements the real semantics; this one
answers exactly what a test scripts, status by status, and records every request, so the
retry policy can be tested one status at a time over real HTTP.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from mosaicstack_telemetry import EventBuilder, TaskCompletionEvent, TelemetryConfig, TelemetryStats
from mosaicstack_telemetry._drivers import Mailbox
from mosaicstack_telemetry._retry import _scaled_time

API_KEY = "0123456789abcdef" * 4
DROP = 0  # a Reply status: close the connection without answering
INSTANCE_ID = "12345678-1234-4234-8234-123456789abc"


@dataclass
class Reply:
    status: int
    body: Any = None  # dict/list -> JSON; bytes -> raw; None -> a default for the status
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Seen:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float

    def json(self) -> Any:
        return json.loads(self.body)


class ScriptedServer:
    """Answers each request with the next scripted reply, then with 2xx accepting all."""

    def __init__(self) -> None:
        self.replies: deque[Reply] = deque()
        self.seen: list[Seen] = []
        self.lock = threading.Lock()
        self.delay = 0.0  # seconds before every answer
        self.active = 0  # requests being handled now
        self.peak = 0  # the most handled at once
        self.answered: list[tuple[float, int]] = []  # (when, status) of each answer sent
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                with outer.lock:
                    outer.active += 1
                    outer.peak = max(outer.peak, outer.active)
                try:
                    self._post()
                finally:
                    with outer.lock:
                        outer.active -= 1

            def _post(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with outer.lock:
                    outer.seen.append(
                        Seen(
                            self.path,
                            {k.lower(): v for k, v in self.headers.items()},
                            body,
                            time.monotonic(),
                        )
                    )
                    reply = outer.replies.popleft() if outer.replies else None
                if reply is not None and reply.status == DROP:
                    # Hang up without an answer: the client sees a dropped connection.
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                status, payload, headers = outer.render(self.path, body, reply)
                if outer.delay:
                    time.sleep(outer.delay)
                with outer.lock:
                    outer.answered.append((time.monotonic(), status))
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.httpd.server_port}"

    @staticmethod
    def render(path: str, body: bytes, reply: Reply | None) -> tuple[int, bytes, dict[str, str]]:
        headers = {"Content-Type": "application/json"}
        if reply is not None:
            headers.update(reply.headers)
            if isinstance(reply.body, bytes):
                return reply.status, reply.body, headers
            if reply.body is not None or reply.status >= 300:
                payload = reply.body if reply.body is not None else {"detail": "scripted"}
                return reply.status, json.dumps(payload).encode(), headers
        request = json.loads(body)
        if path == "/v1/events/batch":
            results = [{"event_id": e["event_id"], "status": "accepted"} for e in request["events"]]
            payload = {"accepted": len(results), "rejected": 0, "results": results}
            return (reply.status if reply else 202), json.dumps(payload).encode(), headers
        preds = [
            {
                "prediction": None,
                "metadata": {"sample_size": 0, "fallback_level": -1, "confidence": "none"},
            }
            for _ in request["queries"]
        ]
        return (reply.status if reply else 200), json.dumps({"results": preds}).encode(), headers

    def script(self, *replies: Reply) -> None:
        with self.lock:
            self.replies.extend(replies)

    def events_posts(self) -> list[Seen]:
        return [s for s in self.seen if s.path == "/v1/events/batch"]

    def event_ids(self) -> list[str]:
        return [e["event_id"] for s in self.events_posts() for e in s.json()["events"]]

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    srv = ScriptedServer()
    yield srv
    srv.close()


@pytest.fixture
def fast_retries() -> Iterator[None]:
    """Every retry wait shrunk 1000x: a 1 s backoff takes 1 ms."""
    with _scaled_time(0.001):
        yield


def make_config(url: str, **overrides: Any) -> TelemetryConfig:
    settings: dict[str, Any] = {
        "server_url": url,
        "api_key": API_KEY,
        "instance_id": INSTANCE_ID,
        "submit_interval_seconds": 3600.0,
        "request_timeout_seconds": 5.0,
    }
    settings.update(overrides)
    return TelemetryConfig(**settings)


def make_event(**fields: Any) -> TaskCompletionEvent:
    builder = EventBuilder(INSTANCE_ID).model("claude-sonnet-4-5").duration_ms(1000)
    event = builder.build()
    return event.model_copy(update=fields) if fields else event


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("ENABLED", "SERVER_URL", "API_KEY", "INSTANCE_ID"):
        monkeypatch.delenv(f"MOSAIC_TELEMETRY_{name}", raising=False)


def background_flush(client: Any) -> bool:
    """One flush as the background sender makes it (no deadline, `max_retries`); True when
    it sent everything, False when a batch had to go back."""
    assert client._delivery is not None
    return bool(client._delivery.flush(Mailbox(), None).complete)


def accounted(stats: TelemetryStats) -> int:
    """The accounting identity: every event tracked by an enabled client is in exactly one of
    these counters, at every moment."""
    return (
        stats.sent
        + stats.rejected
        + stats.duplicate
        + stats.dry_run
        + sum(stats.dropped.values())
        + stats.evicted
        + stats.queued
        + stats.spooled
        + stats.in_flight
    )
