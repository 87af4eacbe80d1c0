#!/usr/bin/env python3
"""A Claude Code `Stop` hook that records each finished turn as telemetry.

Claude Code runs it with the hook's JSON payload on stdin (`session_id`, `transcript_path`,
`hook_event_name`, `cwd`, ...). It sums the token usage of the turn from the transcript
(JSONL; the turn = what follows the last prompt typed by the user), takes the model and the
duration from it, and hands the event to `mosaic-telemetry track --json -`, which only writes
it to the local spool: the hook returns in well under a second, whatever the network does.
`mosaic-telemetry flush` (cron, a login script, or `track --flush`) delivers it later.

Wire it to `Stop` only: a `SubagentStop` payload points at the main session's transcript, so
the same turn's tokens would be counted again when `Stop` fires. It always exits 0: for a Stop
hook, exit code 2 would block Claude from stopping. Problems go to stderr (shown in Claude
Code's verbose mode).

Wire it in `.claude/settings.json` (see `claude_code_settings.json` next to this file):

    {"hooks": {"Stop": [{"hooks": [{"type": "command",
        "command": "python3 /path/to/examples/claude_code_hook.py"}]}]}}

Environment: the MOSAIC_TELEMETRY_* variables of the CLI; MOSAIC_TASK_TYPE (default
`implementation`) and MOSAIC_COMPLEXITY (default `medium`) describe the work; the CLI command
is `python -m mosaicstack_telemetry` with this interpreter unless MOSAIC_TELEMETRY_CLI is set
(e.g. `mosaic-telemetry`).
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any


def _entries(path: str) -> list[dict[str, Any]]:
    entries = []
    try:
        with Path(path).expanduser().open(encoding="utf-8") as fh:
            for line in fh:
                try:
                    entry = json.loads(line)
                except ValueError:
                    continue  # a line being written right now
                if isinstance(entry, dict):
                    entries.append(entry)
    except OSError:
        return []
    return entries


def _is_prompt(entry: dict[str, Any]) -> bool:
    """A message the user typed (not a tool result, which also has type "user")."""
    if entry.get("type") != "user" or entry.get("isMeta"):
        return False
    content = (entry.get("message") or {}).get("content")
    if isinstance(content, str):
        return True
    return isinstance(content, list) and any(
        isinstance(c, dict) and c.get("type") == "text" for c in content
    )


def _time(entry: dict[str, Any]) -> datetime | None:
    try:
        return datetime.fromisoformat(str(entry["timestamp"]).replace("Z", "+00:00"))
    except (KeyError, ValueError):
        return None


def summarize(payload: dict[str, Any]) -> dict[str, Any]:
    """The event fields this hook can derive from the payload and the transcript."""
    entries = _entries(str(payload.get("transcript_path") or ""))
    starts = [i for i, e in enumerate(entries) if _is_prompt(e)]
    turn = entries[starts[-1] :] if starts else entries
    tokens_in = tokens_out = compactions = 0
    model = "unknown"
    for entry in turn:
        if entry.get("type") == "system" and entry.get("subtype") == "compact_boundary":
            compactions += 1
        message = entry.get("message") or {}
        if entry.get("type") != "assistant" or not isinstance(message, dict):
            continue
        model = str(message.get("model") or model)
        usage = message.get("usage") or {}
        tokens_in += sum(
            int(usage.get(k) or 0)
            for k in ("input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens")
        )
        tokens_out += int(usage.get("output_tokens") or 0)
    times = [t for t in (_time(e) for e in turn) if t is not None]
    duration = int((max(times) - min(times)).total_seconds() * 1000) if len(times) > 1 else 0
    # One id per turn: the hook firing twice for the same turn records it once.
    last = str(turn[-1].get("uuid", len(entries))) if turn else "empty"
    session = str(payload.get("session_id") or "no-session")
    event_id = uuid.uuid5(uuid.NAMESPACE_URL, f"claude-code:{session}:{last}")
    return {
        "event_id": str(event_id),
        "task_type": os.environ.get("MOSAIC_TASK_TYPE", "implementation"),
        "complexity": os.environ.get("MOSAIC_COMPLEXITY", "medium"),
        "harness": "claude_code",
        "provider": "anthropic",
        "model": model[:100] or "unknown",
        "outcome": "success",  # the turn ran to its end
        "task_duration_ms": min(max(duration, 0), 86_400_000),
        "actual_input_tokens": min(tokens_in, 10_000_000),
        "actual_output_tokens": min(tokens_out, 10_000_000),
        "context_compactions": min(compactions, 100),
    }


def main() -> int:
    try:
        payload = json.loads(sys.stdin.read() or "{}")
        if not isinstance(payload, dict):
            payload = {}
        fields = summarize(payload)
        command = os.environ.get("MOSAIC_TELEMETRY_CLI")
        cli = shlex.split(command) if command else [sys.executable, "-m", "mosaicstack_telemetry"]
        done = subprocess.run(  # noqa: S603  # our own CLI, arguments as a list
            [*cli, "track", "--json", "-"],
            input=json.dumps(fields),
            capture_output=True,
            text=True,
            timeout=15,
            check=False,
        )
        if done.returncode != 0:
            print(f"telemetry hook: track failed: {done.stderr.strip()}", file=sys.stderr)
    except Exception as exc:  # a telemetry hook must never disturb the session
        print(f"telemetry hook: {type(exc).__name__}: {exc}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
