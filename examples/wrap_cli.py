#!/usr/bin/env python3
"""Run any coding tool and record it as one telemetry event: `wrap_cli.py [options] -- CMD ...`.

    python examples/wrap_cli.py --task-type debugging --model gpt-5 --provider openai -- aider ...

It times the command, takes success or failure from its exit code, spools the event through
`mosaic-telemetry track` (no network wait; `--flush` to deliver at once) and exits with the
command's own exit code, so it can replace the command in scripts. The harness is guessed from
the command's name (aider, opencode, claude, ollama) unless `--harness` says otherwise.
"""

from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys
import time
from pathlib import Path

HARNESSES = {
    "aider": "aider",
    "opencode": "opencode",
    "claude": "claude_code",
    "ollama": "ollama_local",
}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if "--" not in argv:
        print(
            "usage: wrap_cli.py [--task-type T] [--model M] ... -- COMMAND [ARGS...]",
            file=sys.stderr,
        )
        return 2
    split = argv.index("--")
    parser = argparse.ArgumentParser(prog="wrap_cli.py")
    parser.add_argument("--task-type", default="implementation")
    parser.add_argument("--model", default="unknown")
    parser.add_argument("--provider", default="unknown")
    parser.add_argument("--complexity", default="medium")
    parser.add_argument("--harness")
    parser.add_argument("--flush", action="store_true", help="deliver right away")
    opts = parser.parse_args(argv[:split])
    command = argv[split + 1 :]
    if not command:
        parser.error("no command after --")

    start = time.monotonic()
    try:
        code = subprocess.call(command)  # noqa: S603  # running the user's command is the point
    except OSError as exc:  # not found, not executable
        print(f"wrap_cli.py: cannot run {command[0]}: {exc}", file=sys.stderr)
        code = 127
    duration_ms = min(int((time.monotonic() - start) * 1000), 86_400_000)

    harness = opts.harness or HARNESSES.get(Path(command[0]).name, "custom")
    cli_cmd = os.environ.get("MOSAIC_TELEMETRY_CLI")
    cli = shlex.split(cli_cmd) if cli_cmd else [sys.executable, "-m", "mosaicstack_telemetry"]
    track = [
        *cli, "track",
        "--task-type", opts.task_type, "--model", opts.model, "--provider", opts.provider,
        "--complexity", opts.complexity, "--harness", harness,
        "--outcome", "success" if code == 0 else "failure",
        "--duration-ms", str(duration_ms),
        "--quality-passed" if code == 0 else "--no-quality-passed",
    ]  # fmt: skip
    if opts.flush:
        track.append("--flush")
    try:  # whatever happens to telemetry, the wrapped command's exit code is ours
        recorded = subprocess.run(  # noqa: S603  # our own CLI, arguments as a list
            track, capture_output=True, text=True, timeout=60, check=False
        )
    except (OSError, subprocess.SubprocessError) as exc:
        print(f"wrap_cli.py: telemetry not recorded: {exc}", file=sys.stderr)
        return code
    if recorded.returncode != 0:
        print(f"wrap_cli.py: telemetry not recorded: {recorded.stderr.strip()}", file=sys.stderr)
    return code


if __name__ == "__main__":
    sys.exit(main())
