"""`python -m mosaicstack_telemetry.server`: the reference server on the command line."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from mosaicstack_telemetry.server._app import BODY_LIMIT, create_app
from mosaicstack_telemetry.server._faults import FAULT_KINDS, FaultConfig
from mosaicstack_telemetry.server._run import serve_forever

# For demos only, used when no key is given (and announced): never use it beyond localhost.
DEMO_KEY = "d" * 64
DEMO_INSTANCE = "00000000-0000-4000-8000-000000000001"


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


def build_parser() -> argparse.ArgumentParser:
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
    parser.add_argument("--body-limit", type=int, default=BODY_LIMIT, help="bytes")
    parser.add_argument("--fault-rate", type=float, default=0.0, help="0..1 of v1 requests")
    parser.add_argument(
        "--fault-kinds", default=",".join(FAULT_KINDS), help=f"comma-separated: {FAULT_KINDS}"
    )
    parser.add_argument("--fault-seed", type=int, default=None)
    parser.add_argument("--fault-retry-after", default="1", help="Retry-After of a 429")
    parser.add_argument("--fault-delay", type=float, default=0.5, help="seconds of a delay")
    parser.add_argument("--log-level", default="info")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        keys = dict(args.key)
        if args.keys_file is not None:
            keys.update(parse_keys_file(args.keys_file))
        if not keys:
            keys = {DEMO_KEY: DEMO_INSTANCE}
            print(f"no --key given: demo key {DEMO_KEY} -> {DEMO_INSTANCE}", flush=True)
        faults = FaultConfig(
            rate=args.fault_rate,
            kinds=tuple(k.strip() for k in args.fault_kinds.split(",") if k.strip()),
            seed=args.fault_seed,
            retry_after=args.fault_retry_after,
            delay_seconds=args.fault_delay,
        )
        app = create_app(keys, db=args.db, faults=faults, body_limit=args.body_limit)
    except (ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    serve_forever(
        app,
        args.host,
        args.port,
        args.log_level,
        ready=lambda url: print(f"serving on {url}", flush=True),
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
