"""What the CLI prints: every line scrubbed of the API key; the SDK's log on stderr.

The key is the one secret the CLI handles. Everything printed goes through `scrub`, which
removes the effective key and any other run of 64 hex digits (a key pasted in the wrong place
still never comes back out). The one exception is `serve`, which prints the fresh key of its
own local server on purpose: the user needs it to connect.
"""

from __future__ import annotations

import argparse
import os
import re
import sys

# typing.TYPE_CHECKING without importing typing, a few percent of every CLI run: type checkers
# take any name TYPE_CHECKING as true.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, NoReturn

#: Any run of 64 hex digits looks like a key: scrubbed from everything the CLI prints.
_KEYLIKE = re.compile(r"[0-9a-fA-F]{64}")
#: A configured "key" shorter than this is no secret (a real one has 64 digits), and replacing
#: it everywhere would mangle messages: a key of "x" made "hexadecimal" read "he<redacted>...".
_SECRET_LENGTH = 8
SDK_LOGGER = "mosaicstack_telemetry"
_state: dict[str, str] = {"key": ""}
#: The verbosity of a logging set-up put off until something may log (`setup_logging(defer=)`).
_pending: list[int] = []


class UsageError(Exception):
    """Invalid input from the user: exit code 2."""


def scrub(text: str, key: str = "") -> str:
    """Remove the key (and anything shaped like one) from text about to be printed."""
    key = key or _state["key"]
    if len(key) >= _SECRET_LENGTH:
        text = text.replace(key, "<redacted>")
    return _KEYLIKE.sub("<redacted>", text)


def remember_key(key: object) -> None:
    """The effective key of this run, so every message printed can be scrubbed of it."""
    _state["key"] = key if isinstance(key, str) else ""


def err(message: str) -> None:
    print(scrub(message), file=sys.stderr)


def out(message: str) -> None:
    print(scrub(message))


#: The longest deadline a command takes: about 11 days (sockets and clocks overflow on more).
MAX_SECONDS = 1_000_000.0


def seconds(text: str) -> float:
    """argparse's type for a deadline: a number of seconds from 0 to `MAX_SECONDS`."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not 0 <= value <= MAX_SECONDS:  # NaN and inf too
        raise argparse.ArgumentTypeError(
            f"must be from 0 to {MAX_SECONDS:,.0f} seconds, not {text}"
        )
    return value


def reason(exc: BaseException) -> str:
    """An exception as the reason in a message: its text, else its type."""
    return str(exc) or type(exc).__name__


#: Less free space than this where a spool lives is a full disk: SQLite needs room for an
#: event and its journal.
FULL_BELOW = 1 << 20


def free_space(path: str) -> int | None:
    """The free bytes of the disk that holds `path` (or would, once made); None if unknown,
    if that file system is read-only, or has no size (/proc, /sys): they report 0 free, which
    does not mean full."""
    import shutil
    from pathlib import Path

    where = Path(path).expanduser().absolute()
    directory = next((p for p in where.parents if p.is_dir()), None)
    if directory is None:
        return None
    try:
        if hasattr(os, "statvfs") and os.statvfs(directory).f_flag & os.ST_RDONLY:
            return None
        usage = shutil.disk_usage(directory)
        return usage.free if usage.total else None
    except OSError:
        return None


def spool_remedy(
    why: str, path: str, otherwise: str = "make the file and its directory writable"
) -> str:
    """What to do about a spool that could not be written. A full disk, another process's
    lock, a directory or a file that is not a spool is not fixed by permissions; a full disk
    may only say "disk I/O error" (its journal could not be made), so the free space is
    looked at too."""
    text = why.lower()
    if "locked" in text or "busy" in text:
        return "another process holds it locked: try again in a moment"
    if "read-only file system" in text:
        return "make its file system writable"
    free = free_space(path)
    if (
        "disk is full" in text
        or "no space left" in text
        or (free is not None and free < FULL_BELOW)
    ):
        return "free some space on the disk that holds it"
    if os.path.isdir(os.path.expanduser(path)):
        return "it is a directory: give the path of a file"
    if "not a database" in text or "malformed" in text:
        return "repair the file or move it aside"
    return otherwise


_width: list[int] = []


def _columns() -> int:
    """The terminal's width as `shutil.get_terminal_size().columns` reads it (`COLUMNS`, then
    stdout's terminal, else 80), without importing shutil and the compression modules it
    imports: argparse asks for it on every `add_argument`, so every run would pay for them.
    Read once: a command's parser is built in a moment."""
    if _width:
        return _width[0]
    try:
        columns = int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            columns = 0
    _width.append(columns if columns > 0 else 80)
    return _width[0]


class _HelpFormatter(argparse.HelpFormatter):
    """argparse's formatter, its width from `_columns()` (what argparse itself would use)."""

    def __init__(
        self,
        prog: str,
        indent_increment: int = 2,
        max_help_position: int = 24,
        width: int | None = None,
    ) -> None:
        super().__init__(
            prog, indent_increment, max_help_position, _columns() - 2 if width is None else width
        )


class Parser(argparse.ArgumentParser):
    """argparse, with its error messages scrubbed: a mistyped command line may hold the key."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _HelpFormatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: error: {scrub(message)}\n")


def setup_logging(verbose: int, *, defer: bool = False) -> None:
    """The SDK's warnings (why a batch failed) on stderr; -v for INFO, -vv for DEBUG.

    `defer`: only when `ensure_logging()` is called, i.e. when something may log. `logging`
    is a sizeable part of a `track` that logs nothing (it is imported only for the set-up).
    """
    _pending.clear()
    if defer:
        _pending.append(verbose)
        return
    from mosaicstack_telemetry.cli import _logs

    _logs.setup(verbose)


def ensure_logging() -> None:
    """Set up the logging that `setup_logging(defer=True)` put off (once)."""
    if _pending:
        setup_logging(_pending.pop())


def show_attempts() -> None:
    """Print each HTTP attempt as the sender logs it, when stderr is not a terminal."""
    ensure_logging()
    from mosaicstack_telemetry.cli import _logs

    _logs.show_attempts()
