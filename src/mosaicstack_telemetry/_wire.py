"""The one seam between the delivery core and the network: what a request and an answer are.

Three wires implement it: the HTTP wire (`_transport.py`, the only module that talks to the
generated client), the dry-run wire below, and the in-memory wire of the pytest plugin. The
core never sees httpx: a wire answers with an `Answer` or raises `WireError`, the same way in
the blocking and the async path.
"""

from __future__ import annotations

import contextlib
import os
from _thread import allocate_lock, get_ident
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from mosaicstack_telemetry._log import DEBUG, logger

if TYPE_CHECKING:
    from asyncio import AbstractEventLoop, Task

    from mosaicstack_telemetry._config import TelemetryConfig

EVENTS = "events"
PREDICTIONS = "predictions"
_T = TypeVar("_T")


@dataclass(frozen=True)
class Request:
    """One POST: which operation (`EVENTS` or `PREDICTIONS`), its JSON body, how many items."""

    operation: str
    body: bytes
    count: int


class Budget:
    """When a request must be over (a `time.monotonic()` value). Mutable: `stop()` may cut a
    request already in flight short, and the wire checks `end` while it waits."""

    __slots__ = ("end",)

    def __init__(self, end: float) -> None:
        self.end = end


@dataclass(frozen=True)
class Answer:
    """An HTTP answer. `data` is a 2xx body decoded from JSON, or None when it could not be
    decoded (`problem` then says why); `_answers` judges what it means."""

    status: int
    headers: Mapping[str, str] = field(default_factory=dict)
    content: bytes | None = b""  # None: larger than the wire reads
    elapsed: float = 0.0
    data: Any = None
    problem: str | None = None
    dry_run: bool = False  # nothing was sent: the dry-run wire's answer

    @property
    def retry_after(self) -> str | None:
        return self.headers.get("retry-after")

    def detail(self, limit: int = 300) -> str:
        """The start of the body, for a log line (a server's error detail)."""
        if not self.content:
            return ""
        return self.content[:limit].decode("utf-8", "replace")


class WireError(Exception):
    """No answer: the request could not be sent or its answer did not arrive in time.

    `kind` is `timeout`, `connect` (refused, unreachable, DNS), `tls`, or `network` (reset,
    protocol errors, anything else). `hopeless` means retrying now cannot help: nothing
    listens, the name does not resolve, TLS cannot be agreed.
    """

    def __init__(self, kind: str, message: str, *, hopeless: bool = False) -> None:
        super().__init__(message)
        self.kind = kind
        self.hopeless = hopeless


class Wire(Protocol):
    """Sends requests; thread-safe; the async methods run on one event loop at a time."""

    url: str  # the server URL, for messages

    def send(self, request: Request, budget: Budget) -> Answer: ...
    async def send_async(self, request: Request, budget: Budget) -> Answer: ...
    def has_pool(self, loop: AbstractEventLoop) -> bool: ...
    def open_pool(self, loop: AbstractEventLoop) -> None: ...
    def close(self) -> None: ...
    async def aclose(self) -> None: ...


class DryRunWire:
    """Dry-run: each events batch is logged instead of sent and answered as accepted."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._target = f"{url}/v1/events/batch"

    def send(self, request: Request, budget: Budget) -> Answer:
        logger.info("[DRY RUN] Would submit batch of %d events to %s", request.count, self._target)
        return Answer(202, dry_run=True)

    async def send_async(self, request: Request, budget: Budget) -> Answer:
        return self.send(request, budget)

    def has_pool(self, loop: AbstractEventLoop) -> bool:
        return True

    def open_pool(self, loop: AbstractEventLoop) -> None:
        pass

    def close(self) -> None:
        pass

    async def aclose(self) -> None:
        pass


#: A factory that replaces every client's wire (the pytest plugin's in-memory wire). Private:
#: set through `monkeypatch` by `captured_telemetry` only.
_override: Callable[[TelemetryConfig], Wire] | None = None


def background(task: Task[_T]) -> Task[_T]:
    """A request's task, let go quietly with its loop: a loop closed without `stop_async()`
    drops its tasks, which is no error of the host's (the exit flush sends their events)."""
    task._log_destroy_pending = False  # type: ignore[attr-defined]
    return task


def abandon(task: Task[Any]) -> None:
    """Cancel a request's task as its flush ends. When the loop is closed (the garbage
    collector closing the flush's coroutine after `loop.close()`), nothing can run it any more:
    its coroutine is closed instead (cancelling would call into the closed loop and raise)."""
    if not task.get_loop().is_closed():
        task.cancel()
        return
    coro: Any = task.get_coro()  # None for an eager task that ran to its end (3.12+)
    with contextlib.suppress(RuntimeError):  # its own clean-up may call into the loop
        if coro is not None:
            coro.close()


def override() -> Callable[[TelemetryConfig], Wire] | None:
    """The test wire's factory while a `captured_telemetry` test runs, else None."""
    return _override


#: Held while a thread does a first flush's one-time work: loading the HTTP stack (httpx, the
#: generated client, the connection pool and CA bundle: about 0.2 s, on the sender's thread)
#: and pydantic-core's first serialization. A fork waits for it: a child forked in the middle
#: of an import finds the module half-made (ImportError), or an import lock or pydantic-core's
#: first-use state held by a thread it does not have (it hangs for ever on its first flush).
_loading = allocate_lock()
#: The threads whose fork hook holds `_loading` (a fork thread's id).
_holders: set[int] = set()
#: How long a fork waits for a load to end, at most (a load takes well under a second).
FORK_WAIT_SECONDS = 5.0


def make_wire(config: TelemetryConfig, warm_up: Callable[[], None]) -> Wire:
    """The HTTP wire for `config`. httpx loads here, on first use, with everything its
    requests would load later on other threads, and `warm_up` runs: the rest of a first
    flush's one-time work (see `_loading`)."""
    hook_forks()
    with _loading:
        from mosaicstack_telemetry._transport import HttpWire

        wire = HttpWire(config)
        if "prepared" not in _once:  # once per process: each client makes its own wire
            wire.prepare()
            _once["prepared"] = True
        _warm(warm_up)
    return wire


def make_dry_run_wire(url: str, warm_up: Callable[[], None]) -> Wire:
    """The dry-run wire. Its flushes serialize for real, so `warm_up` runs first here too."""
    if "warm" not in _once:
        hook_forks()
        with _loading:
            _warm(warm_up)
    return DryRunWire(url)


def _warm(warm_up: Callable[[], None]) -> None:
    """Run `warm_up` once per process; the caller holds `_loading`."""
    if "warm" not in _once:
        warm_up()
        _once["warm"] = True


#: What this process has done once: "fork" (the hooks registered), "prepared" (the HTTP
#: stack loaded), "warm" (the first serialization).
_once: dict[str, object] = {}


def hook_forks() -> None:
    """Make forks wait for a load: once, before the first load. A sender calls it as it
    starts, on the starting thread: the `logging` import below must not be on the sender's
    thread either, or a child forked during it hangs on that module's import lock."""
    token = object()
    # setdefault is atomic: one caller registers, and no lock is held that a fork could copy.
    if not hasattr(os, "register_at_fork") or _once.setdefault("fork", token) is not token:
        return
    # Fork hooks run last-registered first. logging's takes its module lock, which the load
    # needs (httpx makes its loggers): loaded first (httpx loads it anyway), so that ours runs
    # before it and waits while that lock is still free.
    import logging  # noqa: F401

    os.register_at_fork(
        before=_before_fork,
        after_in_parent=_after_fork_in_parent,
        after_in_child=_after_fork_in_child,
    )


def _before_fork() -> None:
    # Per forking thread: two threads may fork at once, and only the one whose wait ended
    # with the lock may release it (a shared flag let the other's timeout leak it for good).
    if _loading.acquire(timeout=FORK_WAIT_SECONDS):
        _holders.add(get_ident())


def _after_fork_in_parent() -> None:
    me = get_ident()
    if me in _holders:
        _holders.discard(me)
        _loading.release()


def _after_fork_in_child() -> None:
    global _loading  # noqa: PLW0603  # the child's own, never the parent's
    _loading = allocate_lock()
    _holders.clear()


def log_request(request: Request, url: str, answer: Answer | None, error: str | None) -> None:
    """One DEBUG line per request: what was sent, and how it ended."""
    if not logger.isEnabledFor(DEBUG):
        return
    if answer is not None and answer.dry_run:
        logger.debug(
            "[DRY RUN] POST %s/v1/%s/batch: %d items, not sent",
            url,
            request.operation,
            request.count,
        )
    elif answer is not None:
        logger.debug(
            "POST %s/v1/%s/batch: %d items, HTTP %d in %.3f s",
            url,
            request.operation,
            request.count,
            answer.status,
            answer.elapsed,
        )
    else:
        logger.debug(
            "POST %s/v1/%s/batch: %d items, failed: %s",
            url,
            request.operation,
            request.count,
            error,
        )
