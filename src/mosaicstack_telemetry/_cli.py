"""The mosaic-telemetry command line (placeholder until the CLI lands)."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    print("mosaic-telemetry: not implemented yet", file=sys.stderr)
    return 1
