"""`mosaic-telemetry config`: the effective settings and where each came from."""

from __future__ import annotations

import argparse
import json
from typing import Any

from mosaicstack_telemetry.cli import _settings
from mosaicstack_telemetry.cli._output import out
from mosaicstack_telemetry.cli._predict import table


def run(args: argparse.Namespace) -> int:
    eff = _settings.resolve(args)
    values = eff.values()
    if args.json:  # real JSON values: numbers, booleans and strings as they are
        summary = {name: {"value": v, "source": s} for name, v, s in values}
        out(json.dumps(summary, indent=2, default=str))
        return 0
    rows = [
        (name, value if name == "api_key" else repr(value), source)
        for name, value, source in values
    ]
    out(table([("FIELD", "VALUE", "SOURCE"), *rows]))
    for problem in eff.config.validate():
        out(f"invalid: {problem}")
    return 0


def add_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    config = sub.add_parser(
        "config",
        parents=[common],
        help="print the effective config and where each value came from",
    )
    config.add_argument("--json", action="store_true", help="as JSON")
    config.set_defaults(func=run)
