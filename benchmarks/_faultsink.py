"""A loopback endpoint for both SDKs that injects one seeded fault sequence and stores events.

Request number i to a batch endpoint (ours `POST /v1/events/batch`, posthog's `POST /batch/`)
gets fault number i of a sequence drawn from `random.Random(seed)`, whichever SDK sends it:
with the same seed, both peers meet the same faults in the same order. A fault is one of

- `429`: Too Many Requests with `Retry-After` (1 s); nothing stored.
- `500`, `503`: an error body; nothing stored.
- `reset`: the events are stored, then the connection is reset (RST, no answer), as the
  reference server's `drop` fault does: the client sees a network error and must re-send.
- `slow`: the answer comes after `slow_seconds` (3 s); the events are stored when it is sent.
  A client that hangs up during the wait is not served and nothing is stored, as by a server
  that had not started on the request yet.

Events are stored by id (ours `event_id`, posthog's `uuid`), each once: a re-send counts as a
duplicate, not as a second event. Every request's arrival time is kept, for requests/s.
Real sockets on 127.0.0.1, one thread per connection (`ThreadingHTTPServer`).
"""

from __future__ import annotations

import json
import random
import select
import socket
import struct
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from benchmarks._sink import OURS_PATH, POSTHOG_PATH, batch_answer

KINDS = ("429", "500", "503", "reset", "slow")
_LINGER_RESET = struct.pack("ii", 1, 0)  # SO_LINGER on, 0 s: close() sends RST


@dataclass(frozen=True)
class Faults:
    """What to inject: a fraction `rate` of the batch requests gets one of `kinds`."""

    rate: float = 0.3
    seed: int = 0
    kinds: tuple[str, ...] = KINDS
    retry_after: str = "1"  # on 429 only
    slow_seconds: float = 3.0

    def __post_init__(self) -> None:
        if not 0.0 <= self.rate <= 1.0:
            raise ValueError(f"fault rate must be within 0..1, not {self.rate}")
        if not self.kinds or set(self.kinds) - set(KINDS):
            raise ValueError(f"fault kinds must be among {KINDS}, not {self.kinds}")

    def sequence(self, n: int) -> list[str | None]:
        """The first `n` draws (for tests and reports): what requests 0..n-1 will get."""
        draw = _Draw(self)
        return [draw()[1] for _ in range(n)]


class _Draw:
    """Fault number i for the i-th batch request, one seeded RNG under a lock."""

    def __init__(self, faults: Faults) -> None:
        self._faults = faults
        self._random = random.Random(faults.seed)  # test faults, not crypto
        self._lock = threading.Lock()

        self._count = 0

    def __call__(self) -> tuple[int, str | None]:
        """(i, fault of request i): i counts the batch requests from 0."""
        with self._lock:
            # Always two draws per request, so request i's fault does not depend on the
            # faults before it.
            hit = self._random.random() < self._faults.rate
            kind = self._random.choice(self._faults.kinds)
            index, self._count = self._count, self._count + 1
        return index, kind if hit else None


@dataclass(frozen=True)
class Arrival:
    """One batch request: its number, when it arrived (time.monotonic), what it got."""

    index: int  # the i of "fault i": in arrival order, as far as the handlers' threads go
    at: float
    path: str
    events: int
    fault: str | None
    stored: bool  # False: the fault stored nothing, or the client hung up while slow


class FaultSink(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 64  # several clients' connections at once must not be refused

    def __init__(self, faults: Faults) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.faults = faults
        self._draw = _Draw(faults)
        self._lock = threading.Lock()
        self._stored: dict[str, int] = {}  # event id -> times the server was handed it
        self._arrivals: list[Arrival] = []
        self._active = 0
        self.other_requests = 0  # paths that are neither batch endpoint (answered 404)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    # -- what the handler reports --------------------------------------------------------

    def draw(self) -> tuple[int, str | None]:
        return self._draw()

    def store(self, ids: list[str]) -> None:
        with self._lock:
            for key in ids:
                self._stored[key] = self._stored.get(key, 0) + 1

    def arrived(self, arrival: Arrival) -> None:
        with self._lock:
            self._arrivals.append(arrival)

    def other(self) -> None:
        with self._lock:
            self.other_requests += 1

    def busy(self, delta: int) -> None:
        with self._lock:
            self._active += delta

    # -- what a benchmark reads ----------------------------------------------------------

    @property
    def unique(self) -> int:
        """Distinct events stored."""
        with self._lock:
            return len(self._stored)

    @property
    def duplicates(self) -> int:
        """Events stored again by a re-send (kept once)."""
        with self._lock:
            return sum(self._stored.values()) - len(self._stored)

    def arrivals(self) -> list[Arrival]:
        """Every batch request so far, by its number."""
        with self._lock:
            return sorted(self._arrivals, key=lambda a: a.index)

    def faults_met(self) -> Counter[str]:
        """Requests per outcome: a fault kind, or `ok`."""
        return Counter(a.fault or "ok" for a in self.arrivals())

    def requests_between(self, start: float, end: float) -> int:
        return sum(1 for a in self.arrivals() if start <= a.at <= end)

    def peak(self, start: float, end: float, window: float = 1.0) -> int:
        """The most requests that arrived within any `window` seconds of [start, end]."""
        times = sorted(a.at for a in self.arrivals() if start <= a.at <= end)
        best, lo = 0, 0
        for hi, t in enumerate(times):
            while t - times[lo] > window:
                lo += 1
            best = max(best, hi - lo + 1)
        return best

    def settle(self, timeout: float = 5.0) -> bool:
        """Wait (bounded) until no request is being handled; True if none is."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            with self._lock:
                if self._active == 0:
                    return True
            time.sleep(0.01)
        return False


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as both SDKs' pools expect
    disable_nagle_algorithm = True  # else each answer waits out a delayed ACK (40 ms)
    server: FaultSink

    def do_POST(self) -> None:
        at = time.monotonic()
        self.server.busy(+1)
        try:
            self._post(at)
        finally:
            self.server.busy(-1)

    def _post(self, at: float) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        path = self.path.split("?", 1)[0]
        if path not in (OURS_PATH, POSTHOG_PATH):
            self.server.other()
            self._send(404, b'{"detail": "not found"}')
            return
        try:
            events, status, payload = batch_answer(path, json.loads(body))
            key = "event_id" if path == OURS_PATH else "uuid"
            ids = [str(e[key]) for e in events]
        except (ValueError, KeyError, TypeError) as exc:
            self._send(400, json.dumps({"detail": f"malformed batch: {exc}"}).encode())
            return
        index, fault = self.server.draw()
        stored = fault not in ("429", "500", "503")
        if fault == "slow" and self._hung_up_within(self.server.faults.slow_seconds):
            stored = False
        self.server.arrived(Arrival(index, at, path, len(ids), fault, stored))
        if stored:
            self.server.store(ids)
        if fault == "429":
            self._send(429, b'{"detail": "injected 429"}', self.server.faults.retry_after)
        elif fault in ("500", "503"):
            self._send(int(fault), f'{{"detail": "injected {fault}"}}'.encode())
        elif fault == "reset":
            self._reset()
        elif stored:
            self._send(status, payload)
        else:
            self.close_connection = True  # slow, and the client is gone

    def _send(self, status: int, payload: bytes, retry_after: str | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        if retry_after is not None:
            self.send_header("Retry-After", retry_after)
        self.end_headers()
        self.wfile.write(payload)

    def _reset(self) -> None:
        """Close with RST: the client gets a connection reset, not an answer or a clean EOF
        (tested). The buffered reader holds a reference to the socket: closing it too makes
        the close happen now, not when the handler ends."""
        self.close_connection = True
        self.rfile.close()
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_RESET)
        self.connection.close()

    def _hung_up_within(self, seconds: float) -> bool:
        """Wait `seconds`; True as soon as the client closes its end (it gave up)."""
        end = time.monotonic() + seconds
        while (left := end - time.monotonic()) > 0:
            readable, _, _ = select.select([self.connection], [], [], left)
            if not readable:
                return False
            try:
                if not self.connection.recv(1, socket.MSG_PEEK):
                    return True  # EOF
            except OSError:
                return True  # reset by the client
            time.sleep(min(left, 0.05))  # bytes of a next request: not gone; keep waiting
        return False

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def running_fault_sink(faults: Faults) -> Iterator[FaultSink]:
    sink = FaultSink(faults)
    thread = threading.Thread(target=sink.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    try:
        yield sink
    finally:
        sink.shutdown()
        sink.server_close()
        thread.join(5)
