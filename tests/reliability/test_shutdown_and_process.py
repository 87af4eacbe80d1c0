"""Shutdown never hangs; process life (exit, fork, dropped clients) loses nothing, leaks nothing."""

from __future__ import annotations

import gc
import os
import socket
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator

import pytest
from tests.sdk.conftest import API_KEY, INSTANCE_ID, ScriptedServer, make_config, make_event

from mosaicstack_telemetry import TelemetryClient

SENDER = "mosaicstack-telemetry-sender"


def _senders() -> int:
    return sum(t.name == SENDER for t in threading.enumerate())


@pytest.fixture
def silent_server() -> Iterator[str]:
    """Accepts connections and reads requests, but never answers."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    held: list[socket.socket] = []
    done = threading.Event()

    def accept() -> None:
        listener.settimeout(0.05)
        while not done.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            held.append(conn)

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    done.set()
    thread.join(5)
    for conn in held:
        conn.close()
    listener.close()


@pytest.fixture
def dribbling_server() -> Iterator[str]:
    """Answers with a valid response, one byte every 50 ms, for as long as it is read."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    done = threading.Event()
    response = (
        b"HTTP/1.1 202 Accepted\r\nContent-Type: application/json\r\n"
        + b"X-Padding: "
        + b"a" * 2000
        + b"\r\nContent-Length: 2\r\n\r\n{}"
    )

    def serve(conn: socket.socket) -> None:
        with conn:
            conn.recv(65536)
            for byte in response:
                if done.is_set():
                    return
                try:
                    conn.sendall(bytes([byte]))
                except OSError:
                    return
                time.sleep(0.05)

    def accept() -> None:
        listener.settimeout(0.05)
        while not done.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=serve, args=(conn,), daemon=True).start()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    done.set()
    thread.join(5)
    listener.close()


def test_stop_returns_by_its_deadline_against_a_server_that_never_answers(
    silent_server: str,
) -> None:
    client = TelemetryClient(make_config(silent_server, request_timeout_seconds=30.0))
    client.start()
    client.track(make_event())
    start = time.monotonic()
    client.stop(timeout=1.0)
    assert time.monotonic() - start < 1.0 + 3.0  # the deadline, plus a generous margin
    assert client.queue_size == 1
    assert client.stats().sent == 0


async def test_stop_async_returns_by_its_deadline_against_a_server_that_never_answers(
    silent_server: str,
) -> None:
    client = TelemetryClient(make_config(silent_server, request_timeout_seconds=0.5))
    await client.start_async()
    client.track(make_event())
    start = time.monotonic()
    await client.stop_async(timeout=1.0)
    assert time.monotonic() - start < 1.0 + 3.0
    assert client.queue_size == 1


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_a_dribbling_server_cannot_stretch_a_request(dribbling_server: str, mode: str) -> None:
    import asyncio

    from mosaicstack_telemetry._transport import HttpWire
    from mosaicstack_telemetry._wire import EVENTS, Budget, Request

    # The full answer takes > 100 s at one byte per 50 ms; each byte arrives well inside
    # a per-read timeout, so only a whole-request bound can stop it.
    transport = HttpWire(make_config(dribbling_server, request_timeout_seconds=0.5))
    request = Request(EVENTS, b'{"events": []}', 0)

    def send() -> object:
        budget = Budget(time.monotonic() + 0.5)
        if mode == "sync":
            return transport.send(request, budget)
        return asyncio.run(transport.send_async(request, budget))

    start = time.monotonic()
    with pytest.raises(Exception, match=r"(?i)timeout|timed out|exceeded"):
        send()
    assert time.monotonic() - start < 0.5 + 3.0
    transport.close()


def test_flush_reports_what_happened(server: ScriptedServer) -> None:
    from tests.sdk.conftest import Reply

    client = TelemetryClient(make_config(server.url))
    for _ in range(3):
        client.track(make_event())
    server.script(Reply(400))
    client.track(make_event())  # the 400 drops the first batch of all four
    result = client.flush()
    assert (result.sent, result.dropped, result.remaining) == (0, 4, 0)
    for _ in range(2):
        client.track(make_event())
    result = client.flush()
    assert (result.sent, result.rejected, result.dropped, result.remaining) == (2, 0, 0, 0)


async def test_flush_async_reports_what_happened(server: ScriptedServer) -> None:
    client = TelemetryClient(make_config(server.url))
    client.track(make_event())
    result = await client.flush_async()
    assert (result.sent, result.remaining) == (1, 0)


def test_dropped_client_does_not_leak_its_thread_and_flushes(server: ScriptedServer) -> None:
    from mosaicstack_telemetry import _exit

    before = _senders()
    adopted = len(_exit._LEFT)
    for _ in range(20):
        client = TelemetryClient(make_config(server.url))
        client.start()
        client.track(make_event())
        del client
        gc.collect()
    deadline = time.monotonic() + 20
    while _senders() > before and time.monotonic() < deadline:
        time.sleep(0.02)
    assert _senders() == before
    # Each orphaned sender flushed before it ended; on a loaded machine a last flush (2 s) may
    # not finish, and what it could not send is kept for the exit flush, never dropped.
    kept = _exit._LEFT[adopted:]
    del _exit._LEFT[adopted:]  # this server is gone by the time pytest exits
    assert len(server.event_ids()) + sum(d.source.queue.size for d, _, _ in kept) == 20


def _run_python(code: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MOSAIC_TELEMETRY_")}
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        check=False,
    )


def test_started_client_flushes_at_interpreter_exit(server: ScriptedServer) -> None:
    result = _run_python(f"""
        from mosaicstack_telemetry import EventBuilder, TelemetryClient, TelemetryConfig
        config = TelemetryConfig(server_url="{server.url}", api_key="{API_KEY}",
                                 instance_id="{INSTANCE_ID}", submit_interval_seconds=3600)
        client = TelemetryClient(config)
        client.start()
        for _ in range(5):
            client.track(EventBuilder(config.instance_id).build())
        print("exiting without stop()")
    """)
    assert result.returncode == 0, result.stderr
    assert len(server.event_ids()) == 5
    assert result.stderr == ""


def test_exit_flush_is_bounded_when_the_server_never_answers(silent_server: str) -> None:
    start = time.monotonic()
    result = _run_python(f"""
        from mosaicstack_telemetry import EventBuilder, TelemetryClient, TelemetryConfig
        config = TelemetryConfig(server_url="{silent_server}", api_key="{API_KEY}",
                                 instance_id="{INSTANCE_ID}", submit_interval_seconds=3600)
        client = TelemetryClient(config)
        client.start()
        client.track(EventBuilder(config.instance_id).build())
    """)
    elapsed = time.monotonic() - start
    assert result.returncode == 0, result.stderr
    assert elapsed < 2.0 + 10.0  # the 2 s exit budget, plus interpreter start-up, generously


def test_loop_closed_without_stop_async_prints_no_traceback(server: ScriptedServer) -> None:
    result = _run_python(f"""
        import asyncio, gc
        from mosaicstack_telemetry import EventBuilder, TelemetryClient, TelemetryConfig
        config = TelemetryConfig(server_url="{server.url}", api_key="{API_KEY}",
                                 instance_id="{INSTANCE_ID}", submit_interval_seconds=3600)
        client = TelemetryClient(config)
        async def main():
            await client.start_async()
            client.track(EventBuilder(config.instance_id).build())
        asyncio.run(main())
        gc.collect()
        client.stop()  # the loop is gone: stop() still delivers, synchronously
        print("sent", client.stats().sent)
    """)
    assert result.returncode == 0, result.stderr
    assert "sent 1" in result.stdout
    assert "Traceback" not in result.stderr
    assert "destroyed" not in result.stderr
    assert len(server.event_ids()) == 1


@pytest.mark.parametrize("close", [True, False], ids=["closed", "left-open"])
def test_a_hand_made_loop_ended_without_stop_async_prints_nothing(
    server: ScriptedServer, close: bool
) -> None:
    """The pre-asyncio.run idiom: new_event_loop(), run_until_complete(), then close() (or not).
    Nothing cancels the sender there, and the task `wait_for` made around its sleep was
    reported on stderr: "Task was destroyed but it is pending!", "never awaited"."""
    result = _run_python(f"""
        import asyncio
        from mosaicstack_telemetry import EventBuilder, TelemetryClient, TelemetryConfig
        config = TelemetryConfig(server_url="{server.url}", api_key="{API_KEY}",
                                 instance_id="{INSTANCE_ID}", submit_interval_seconds=3600)
        client = TelemetryClient(config)
        loop = asyncio.new_event_loop()
        loop.run_until_complete(client.start_async())
        for _ in range(3):
            client.track(EventBuilder(config.instance_id).build())
        loop.run_until_complete(asyncio.sleep(0.05))
        if {close}:
            loop.close()
    """)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert len(server.event_ids()) == 3  # the exit hook delivered them


@pytest.mark.skipif(not hasattr(os, "fork"), reason="os.fork() is POSIX-only")
def test_fork_child_gets_a_working_client_even_if_a_lock_was_held(
    server: ScriptedServer,
) -> None:
    client = TelemetryClient(make_config(server.url))
    client.start()
    parent_event = make_event()
    client.track(parent_event)
    # Another thread holds the queue lock at the moment of fork.
    held, release = threading.Event(), threading.Event()

    def hold() -> None:
        with client._queue._lock:
            held.set()
            release.wait(10)

    holder = threading.Thread(target=hold)
    holder.start()
    assert held.wait(5)
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: must not deadlock on the inherited, held lock
        code = 1
        try:
            os.close(read_fd)
            child_event = make_event()
            client.track(child_event)
            running = client.is_running
            client.stop(timeout=10)
            ok = running and client.stats().sent >= 1 and client.queue_size == 0
            os.write(write_fd, f"{ok} {child_event.event_id}".encode())
            code = 0
        finally:
            os._exit(code)
    os.close(write_fd)
    release.set()
    holder.join(10)
    _, status = os.waitpid(pid, 0)
    report = os.read(read_fd, 200).decode()
    os.close(read_fd)
    assert os.waitstatus_to_exitcode(status) == 0
    ok, child_id = report.split()
    assert ok == "True"
    client.stop()
    ids = server.event_ids()
    assert child_id in ids
    assert str(parent_event.event_id) in ids


def test_two_threads_forking_at_once_leave_the_load_lock_free(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The fork hooks of `_wire`, as two threads forking at once run them: A's hook holds the
    load lock, B's wait times out. Only A may release it; with one shared flag, B's timeout
    made A skip its release, and every later flush hung on the lock."""
    from mosaicstack_telemetry import _wire

    monkeypatch.setattr(_wire, "FORK_WAIT_SECONDS", 0.05)
    a_holds, b_done = threading.Event(), threading.Event()

    def thread_a() -> None:
        _wire._before_fork()
        a_holds.set()
        assert b_done.wait(5)
        _wire._after_fork_in_parent()

    def thread_b() -> None:
        assert a_holds.wait(5)
        _wire._before_fork()  # times out: A holds it
        _wire._after_fork_in_parent()
        b_done.set()

    threads = [threading.Thread(target=thread_a), threading.Thread(target=thread_b)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert not _wire._loading.locked()
    assert _wire._holders == set()


def test_at_exit_a_failing_client_does_not_stop_the_next_and_a_ctrl_c_stops_all() -> None:
    """The exit flush, client by client: one failing goes on to the next; a Ctrl-C makes that
    client and every later one give up at once (each says what it loses)."""
    from mosaicstack_telemetry._exit import _each

    done: list[str] = []

    def failing() -> None:
        raise RuntimeError("a client's own failure")

    def interrupted() -> None:
        raise KeyboardInterrupt

    assert _each(failing, lambda: done.append("gave up 1"), False) is False
    assert _each(lambda: done.append("flushed 2"), lambda: done.append("gave up 2"), False) is False
    assert _each(interrupted, lambda: done.append("gave up 3"), False) is True
    assert _each(lambda: done.append("flushed 4"), lambda: done.append("gave up 4"), True) is True
    assert done == ["flushed 2", "gave up 3", "gave up 4"]
