"""Process lifecycle hooks: deliver at exit, and start afresh in a forked child.

A process can end three ways that matter here: the interpreter exits (`atexit`), a
`multiprocessing` child returns (it ends with `os._exit` after running its own finalizers, so
`atexit` never runs: a `multiprocessing.util.Finalize` does the same work), or it forks
(gunicorn `--preload`, `multiprocessing` with fork): the child resets every lock and starts
its own sender, as OpenTelemetry's BatchProcessor does.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import sys
import time
import weakref
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from collections.abc import Callable
    from types import TracebackType

    from mosaicstack_telemetry._delivery import Delivery
    from mosaicstack_telemetry._runners import Runner


class _Exits(Protocol):
    def _exit_flush(self) -> None: ...
    def _exit_give_up(self) -> None: ...
    def _after_fork(self) -> None: ...


#: Every live enabled client; weak, so it keeps none alive.
_CLIENTS: weakref.WeakSet[_Exits] = weakref.WeakSet()
#: The deliveries of clients garbage-collected while holding events that no sender will send
#: (never started, tracked after stop(), or an asyncio sender whose loop no longer runs), with
#: that sender and their exit budget: sent at exit too, all within one budget.
_LEFT: list[tuple[Delivery, Runner | None, float]] = []
_hooked_pid = 0
_flushed_pid = 0
#: Negative: multiprocessing runs it in its last round of finalizers, after the user's own
#: (which may still track events), just before the child ends.
_FINALIZER_PRIORITY = -10


def register(client: _Exits) -> None:
    _CLIENTS.add(client)
    # In a multiprocessing child (spawn, forkserver) the main module, and so this client, is
    # made before the child knows it is one: hook whenever multiprocessing is loaded. In the
    # main process the finalizer only repeats the atexit flush, which does nothing twice.
    _hook_multiprocessing()


def adopt(delivery: Delivery, runner: Runner | None, budget: float) -> None:
    """Deliver at exit what a garbage-collected client left queued (see `_LEFT`); with its
    sender still making a last flush, the exit flush waits for that first."""
    _LEFT.append((delivery, runner, budget))


def forget(delivery: Delivery) -> None:
    """`delivery` holds nothing any more (its orphaned sender's last flush sent it all)."""
    for entry in [e for e in _LEFT if e[0] is delivery]:
        with contextlib.suppress(ValueError):  # the exit flush took it meanwhile
            _LEFT.remove(entry)


def flush_all() -> None:
    """Deliver what every client still holds, each within its exit budget. Once per process:
    `atexit` and multiprocessing's exit function may both call it."""
    global _flushed_pid  # noqa: PLW0603  # per-process state, by design
    if _flushed_pid == os.getpid():
        return
    _flushed_pid = os.getpid()
    try:
        interrupted = False
        for client in list(_CLIENTS):
            interrupted = _each(client._exit_flush, client._exit_give_up, interrupted)
        # One budget for all of them, however many clients were dropped: exit stays bounded.
        deadline = time.monotonic() + max((budget for _, _, budget in _LEFT), default=0.0)
        while _LEFT:
            from functools import partial

            from mosaicstack_telemetry._runners import finish, give_up_at_exit

            delivery, runner, _ = _LEFT.pop(0)
            interrupted = _each(
                partial(finish, delivery, runner, deadline, exiting=True),
                partial(give_up_at_exit, delivery, runner),
                interrupted,
            )
    finally:
        _keep_sigint_exit()


def _each(flush: Callable[[], None], give_up: Callable[[], None], interrupted: bool) -> bool:
    """One client's exit flush; after a Ctrl-C (this one's or an earlier one's), no more
    sending: each says at once what it loses. Returns whether a Ctrl-C came. A failure of one
    client must not stop the others."""
    if not interrupted:
        try:
            flush()
            return False
        except KeyboardInterrupt:
            pass  # the user wants out: what is left is lost, and said so, at once
        except Exception:  # the next client's flush goes on
            return False
    with contextlib.suppress(Exception):
        give_up()
    return True


def _keep_sigint_exit() -> None:
    """After a KeyboardInterrupt nothing caught, CPython ends the process by SIGINT once it
    has finalized (a shell sees 130 and stops a loop of such commands), if its record of that
    interrupt is still set. Every `exec()` of source clears it, and the exit flush's imports
    run some (dataclasses, attrs): the process exited 1. An `exec()` that raises
    KeyboardInterrupt sets the record again, as the main module's own did.

    Only for the main module's own: an interactive session (`python -i`, `code.interact`, a
    REPL) records each interrupted command in `sys.last_value` too, and ends normally.
    """
    if hasattr(sys, "ps1") or sys.flags.interactive:
        return
    if isinstance(getattr(sys, "last_value", None), KeyboardInterrupt) and _through_main(
        getattr(sys, "last_traceback", None)
    ):
        with contextlib.suppress(KeyboardInterrupt):
            exec("raise KeyboardInterrupt")  # noqa: S102  # constant source, see above


def _through_main(tb: TracebackType | None) -> bool:
    """Whether the traceback passes through the main module's top level."""
    while tb is not None:
        frame = tb.tb_frame
        if frame.f_code.co_name == "<module>" and frame.f_globals.get("__name__") == "__main__":
            return True
        tb = tb.tb_next
    return False


def _after_fork_in_child() -> None:
    _LEFT.clear()  # the parent delivers them
    for client in list(_CLIENTS):
        client._after_fork()
    if _CLIENTS:
        _hook_multiprocessing()


class _Anchor:
    """What multiprocessing's after-fork registry keys our hook on (it holds it weakly)."""


_ANCHOR = _Anchor()


def _hook_multiprocessing() -> None:
    global _hooked_pid  # noqa: PLW0603  # per-process state, by design
    util = sys.modules.get("multiprocessing.util")
    if util is None or _hooked_pid == os.getpid():
        return
    _hooked_pid = os.getpid()
    # Run by multiprocessing's exit function, before os._exit. A child of a plain os.fork
    # (gunicorn) exits through atexit instead, maybe both: flush_all is idempotent.
    util.Finalize(None, flush_all, exitpriority=_FINALIZER_PRIORITY)
    # A multiprocessing child clears its finalizers as it starts (Process._bootstrap), after
    # this fork hook ran; its after-fork callbacks run next, and put ours back.
    util.register_after_fork(_ANCHOR, _refinalize)


def _refinalize(anchor: object) -> None:
    util = sys.modules.get("multiprocessing.util")
    if util is not None:
        util.Finalize(None, flush_all, exitpriority=_FINALIZER_PRIORITY)


atexit.register(flush_all)
if hasattr(os, "register_at_fork"):  # not on Windows
    os.register_at_fork(after_in_child=_after_fork_in_child)
