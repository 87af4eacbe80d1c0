"""A minimal loopback endpoint that accepts both SDKs' batches: the fair ground for e2e.

The same handler, the same work per request (read the body, parse the JSON, count the
events), for our `POST /v1/events/batch` (answered 202 with the per-event results the SDK
reads) and posthog's `POST /batch/` (answered 200 `{"status": 1}`). No validation, no
storage: it measures the clients, not a server.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

OURS_PATH = "/v1/events/batch"
POSTHOG_PATH = "/batch/"


def batch_answer(path: str, data: Any) -> tuple[list[dict[str, Any]], int, bytes]:
    """The events of a batch body and the success answer each SDK expects for it.

    Ours: `{"events": [...]}` -> 202 with one `accepted` result per event (each event's id is
    its `event_id`). posthog: `{"batch": [...]}` -> 200 `{"status": 1}` (its id is `uuid`).
    """
    if path.startswith(OURS_PATH):
        events = data["events"]
        answer: dict[str, Any] = {
            "accepted": len(events),
            "rejected": 0,
            "results": [
                {"event_id": e.get("event_id"), "status": "accepted", "error": None} for e in events
            ],
        }
        return events, 202, json.dumps(answer).encode()
    return data["batch"], 200, b'{"status": 1}'


class Sink(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.lock = threading.Lock()
        self.events = 0
        self.requests = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def count(self, n: int) -> None:
        with self.lock:
            self.events += n
            self.requests += 1

    def reset(self) -> None:
        with self.lock:
            self.events = self.requests = 0


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as both SDKs' pools expect
    disable_nagle_algorithm = True  # else each answer waits out a delayed ACK (40 ms)
    server: Sink

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        events, status, payload = batch_answer(self.path, json.loads(body))
        self.server.count(len(events))
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def running_sink() -> Iterator[Sink]:
    sink = Sink()
    thread = threading.Thread(target=sink.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    try:
        yield sink
    finally:
        sink.shutdown()
        sink.server_close()
        thread.join(5)
