"""`python -m mosaicstack_telemetry.server`: the reference server on the command line.

Without `--key` (or `--keys-file`) it makes a fresh random key bound to a fresh instance id and
prints both once, in full, with the `export` lines to paste: a local server's key is useless if
nobody can read it, and a fixed demo key would be a public one. Without the `server` extra it
says which extra to install and exits 1.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import sys
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from mosaicstack_telemetry.server import load


def parse_keys_file(path: Path) -> dict[str, str]:
    """JSON (`{"KEY": "INSTANCE", ...}`) or lines of `KEY INSTANCE` (`#` starts a comment)."""
    text = path.read_text(encoding="utf-8")
    if text.lstrip().startswith("{"):
        loaded = json.loads(text)
        if not isinstance(loaded, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in loaded.items()
        ):
            raise ValueError(f"{path}: expected a JSON object of key -> instance_id")
        return dict(loaded)
    keys: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        parts = line.replace(":", " ", 1).split()
        if len(parts) != 2:
            raise ValueError(f"{path}:{number}: expected 'KEY INSTANCE_ID'")
        keys[parts[0]] = parts[1]
    return keys


def _key_arg(value: str) -> tuple[str, str]:
    key, sep, instance = value.partition(":")
    if not sep:
        raise argparse.ArgumentTypeError("expected KEY:INSTANCE_ID")
    return key, instance


def fresh_key() -> tuple[str, str]:
    """A random 64-hex key and a random instance id, for a server started without `--key`."""
    return secrets.token_hex(32), str(uuid.uuid4())


def announce(url: str, key: str, instance: str) -> str:
    """What a server started without `--key` prints once it serves: the key, in full."""
    return (
        f"serving on {url}\n"
        "no --key given: a fresh random key for this local server only (it is printed once; "
        "pass --key KEY:INSTANCE_ID to keep one across restarts).\n"
        "paste these lines into the shell of the app or CLI that will send to it:\n\n"
        f"  export MOSAIC_TELEMETRY_SERVER_URL={url}\n"
        f"  export MOSAIC_TELEMETRY_API_KEY={key}\n"
        f"  export MOSAIC_TELEMETRY_INSTANCE_ID={instance}\n"
    )


def build_parser(body_limit: int, fault_kinds: Sequence[str]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m mosaicstack_telemetry.server",
        description="Local reference server of the Mosaic Stack Telemetry v1 API.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000, help="0 picks a free port")
    parser.add_argument("--db", default=":memory:", help="SQLite file (default: in memory)")
    parser.add_argument(
        "--key",
        action="append",
        type=_key_arg,
        default=[],
        metavar="KEY:INSTANCE_ID",
        help="an API key (64 hex) and the instance it is bound to; repeatable",
    )
    parser.add_argument("--keys-file", type=Path, help="JSON object or 'KEY INSTANCE' lines")
    parser.add_argument("--body-limit", type=int, default=body_limit, help="bytes")
    parser.add_argument("--fault-rate", type=float, default=0.0, help="0..1 of v1 requests")
    parser.add_argument(
        "--fault-kinds",
        default=",".join(fault_kinds),
        help=f"comma-separated: {tuple(fault_kinds)}",
    )
    parser.add_argument("--fault-seed", type=int, default=None)
    parser.add_argument("--fault-retry-after", default="1", help="Retry-After of a 429")
    parser.add_argument("--fault-delay", type=float, default=0.5, help="seconds of a delay")
    parser.add_argument("--log-level", default="info")
    return parser


def _modules() -> tuple[Any, Any, Any] | None:
    try:
        return load("_app"), load("_faults"), load("_run")
    except ModuleNotFoundError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return None


def main(argv: Sequence[str] | None = None) -> int:
    modules = _modules()
    if modules is None:
        return 1
    app_module, faults_module, run_module = modules
    args = build_parser(app_module.BODY_LIMIT, faults_module.FAULT_KINDS).parse_args(argv)
    FaultConfig, create_app = faults_module.FaultConfig, app_module.create_app
    fresh: tuple[str, str] | None = None
    try:
        keys = dict(args.key)
        if args.keys_file is not None:
            keys.update(parse_keys_file(args.keys_file))
        if not keys:
            fresh = fresh_key()
            keys = {fresh[0]: fresh[1]}
        from mosaicstack_telemetry.server._state import normalize_keys

        normalize_keys(keys)  # a bad key is the command line's, not a runtime problem
        faults = FaultConfig(
            rate=args.fault_rate,
            kinds=tuple(k.strip() for k in args.fault_kinds.split(",") if k.strip()),
            seed=args.fault_seed,
            retry_after=args.fault_retry_after,
            delay_seconds=args.fault_delay,
        )
    except (ValueError, OSError) as exc:  # what the command line asked for
        print(f"error: {exc}", file=sys.stderr)
        return 2
    import sqlite3

    try:
        app = create_app(keys, db=args.db, faults=faults, body_limit=args.body_limit)
    except sqlite3.Error as exc:  # a runtime problem: the database
        print(f"error: the database {args.db} cannot be used: {exc}", file=sys.stderr)
        return 1
    except (ValueError, OSError) as exc:  # the contract against the store, the file system
        print(f"error: {exc}", file=sys.stderr)
        return 1

    def ready(url: str) -> None:
        print(f"serving on {url}" if fresh is None else announce(url, *fresh), flush=True)

    try:
        run_module.serve_forever(app, args.host, args.port, args.log_level, ready=ready)
    except KeyboardInterrupt:  # Ctrl-C: uvicorn has shut down and said so; no traceback
        _die_by_sigint()
        return 130  # where a process cannot end by its own signal
    return 0


def _die_by_sigint() -> None:
    """End as Ctrl-C ends a program: by SIGINT itself, not an exit code, so that a shell
    running the server in a loop or a script stops too (it looks at how a child ended)."""
    if os.name != "posix":
        return
    sys.stdout.flush()
    sys.stderr.flush()
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    os.kill(os.getpid(), signal.SIGINT)


if __name__ == "__main__":
    sys.exit(main())
