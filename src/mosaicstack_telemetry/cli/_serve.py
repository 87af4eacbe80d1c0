"""`mosaic-telemetry serve`: the local reference server (the `server` extra).

The command line goes to the server's own entry point unchanged (its options, its --help).
Without `--key` the server makes a fresh random key and prints it once, in full, with the
environment lines to paste: the one place the CLI prints a key, by design (it is a new key of
a local server, and the user needs it to connect).
"""

from __future__ import annotations

import argparse
from typing import Any

from mosaicstack_telemetry.cli._output import err


def run(argv: list[str]) -> int:
    try:
        from mosaicstack_telemetry.server.__main__ import main
    except ImportError as exc:
        err(
            "mosaic-telemetry: the local server needs the `server` extra "
            f"(pip install 'mosaicstack-telemetry[server]'): {exc}"
        )
        return 1
    try:
        return int(main(argv))
    except SystemExit as exc:  # argparse: --help, usage errors
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)


def add_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    sub.add_parser(
        "serve",
        help="run the local reference server (the `server` extra); options are the server's",
        add_help=False,
    )
