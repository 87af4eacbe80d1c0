"""What the CLI prints: every line scrubbed of the API key; the SDK's log on stderr.

The key is the one secret the CLI handles. Everything printed goes through `scrub`, which
removes the effective key and any other run of 64 hex digits (a key pasted in the wrong place
still never comes back out). The one exception is `serve`, which prints the fresh key of its
own local server on purpose: the user needs it to connect.
"""

from __future__ import annotations

import argparse
import logging
import re
import sys
from typing import NoReturn

#: Any run of 64 hex digits looks like a key: scrubbed from everything the CLI prints.
_KEYLIKE = re.compile(r"[0-9a-fA-F]{64}")
SDK_LOGGER = "mosaicstack_telemetry"
_state: dict[str, str] = {"key": ""}
_handlers: list[logging.Handler] = []


class UsageError(Exception):
    """Invalid input from the user: exit code 2."""


def scrub(text: str, key: str = "") -> str:
    """Remove the key (and anything shaped like one) from text about to be printed."""
    key = key or _state["key"]
    if key:
        text = text.replace(key, "<redacted>")
    return _KEYLIKE.sub("<redacted>", text)


def remember_key(key: object) -> None:
    """The effective key of this run, so every message printed can be scrubbed of it."""
    _state["key"] = key if isinstance(key, str) else ""


def err(message: str) -> None:
    print(scrub(message), file=sys.stderr)


def out(message: str) -> None:
    print(scrub(message))


class Parser(argparse.ArgumentParser):
    """argparse, with its error messages scrubbed: a mistyped command line may hold the key."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: error: {scrub(message)}\n")


class _Scrub(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = scrub(record.getMessage())
        record.args = ()
        return True


class _Formatter(logging.Formatter):
    """One line per SDK message; tracebacks only with -vv; scrubbed as a whole, tracebacks too."""

    def __init__(self, tracebacks: bool) -> None:
        super().__init__("mosaic-telemetry: %(levelname)s: %(message)s")
        self._tracebacks = tracebacks

    def format(self, record: logging.LogRecord) -> str:
        if record.exc_info and not self._tracebacks:
            record = logging.makeLogRecord({**record.__dict__, "exc_info": None, "exc_text": None})
        return scrub(super().format(record))


class _Attempts(logging.Filter):
    """Only the sender's one line per HTTP attempt ("POST <url>: N items, HTTP 503 in ...")."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno == logging.DEBUG and record.getMessage().startswith(("POST ", "GET "))


def _add(handler: logging.Handler) -> None:
    handler.addFilter(_Scrub())
    logging.getLogger(SDK_LOGGER).addHandler(handler)
    _handlers.append(handler)


def setup_logging(verbose: int) -> None:
    """The SDK's warnings (why a batch failed) on stderr; -v for INFO, -vv for DEBUG."""
    log = logging.getLogger(SDK_LOGGER)
    while _handlers:  # main() may run again in-process (tests): one set of handlers
        log.removeHandler(_handlers.pop())
    level = logging.DEBUG if verbose > 1 else logging.INFO if verbose else logging.WARNING
    handler = logging.StreamHandler(sys.stderr)
    handler.setLevel(level)
    handler.setFormatter(_Formatter(tracebacks=verbose > 1))
    _add(handler)
    log.setLevel(level)


def show_attempts() -> None:
    """Print each HTTP attempt as the sender logs it, when stderr is not a terminal.

    A `flush` from cron or a hook is otherwise silent while it retries; on a terminal the
    progress bar says enough. With -vv the attempts are already shown with the rest.
    """
    log = logging.getLogger(SDK_LOGGER)
    if sys.stderr.isatty() or log.level == logging.DEBUG:
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setLevel(logging.DEBUG)
    handler.addFilter(_Attempts())
    handler.setFormatter(logging.Formatter("mosaic-telemetry: %(message)s"))
    _add(handler)
    log.setLevel(logging.DEBUG)
