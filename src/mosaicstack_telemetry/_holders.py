"""Who holds a spool lease: a process, told apart from a later one with the same pid.

A lease names its process by pid, and a pid alone is not a process: a container restarted on
the same volume runs its first process as pid 1 again, an unreaped child (a zombie) still
answers `kill(pid, 0)`, and pids are reused. On Linux a lease also records its process's start
(the boot, and the start time in `/proc`): a holder whose pid now names another process, or a
zombie, has died, and what it held is free again at once. Elsewhere the pid and `kill(pid, 0)`
decide, and a lease's expiry does the rest. A live holder in another pid namespace sharing the
file (two containers, one volume) looks dead too: its batch may then be sent twice, and the
server stores it once.

Imports nothing but `os` and `sys`: `mosaic-telemetry track` opens a spool on every run.
"""

from __future__ import annotations

import os
import sys

_own: tuple[int, str] = (0, "")  # (pid, start mark) of this process, made once per pid
_boot: str | None = None


def own_mark() -> str:
    """This process's start mark, recorded with each lease it takes ('' where none can be
    read: a lease then names its pid only)."""
    global _own  # noqa: PLW0603  # per process, by design
    pid = os.getpid()
    if _own[0] != pid:  # first use, or a forked child
        found = _stat(pid)
        _own = (pid, "" if found is None else _mark(found[1]))
    return _own[1]


def is_own(pid: int, mark: str) -> bool:
    """Whether a lease is this process's (one recorded without a mark: by its pid)."""
    return pid == os.getpid() and (not mark or mark == own_mark())


def has_ended(pid: int, mark: str) -> bool:
    """Whether the process that took a lease as (`pid`, `mark`) has ended."""
    if pid <= 0 or sys.platform == "win32":  # no cheap, safe probe there: trust lease expiry
        return False
    if pid == os.getpid():  # this pid, not this process: the one before it (a restart)
        return bool(mark) and mark != own_mark()
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # pragma: no cover  # someone else's process: /proc tells
        pass
    found = _stat(pid)
    if found is None:
        return False  # no /proc to ask: alive, as kill() says
    state, start = found
    return state in ("Z", "X") or (bool(mark) and mark != _mark(start))


def _mark(start: str) -> str:
    global _boot  # noqa: PLW0603  # read once
    if _boot is None:
        try:
            with open("/proc/sys/kernel/random/boot_id", encoding="ascii") as file:
                _boot = file.read().strip()
        except OSError:
            _boot = ""
    return f"{_boot}:{start}"


def _stat(pid: int) -> tuple[str, str] | None:
    """A process's state and start time (clock ticks after boot) from `/proc/<pid>/stat`, or
    None where there is no such file."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as file:
            text = file.read()
    except OSError:
        return None
    # The name, in parentheses, may hold spaces and parentheses: the fields follow the last.
    fields = text[text.rfind(b")") + 2 :].split()
    if len(fields) < 20:  # pragma: no cover  # not the stat file this reads
        return None
    return fields[0].decode("ascii", "replace"), fields[19].decode("ascii", "replace")
