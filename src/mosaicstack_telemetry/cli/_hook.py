"""`mosaic-telemetry hook claude-code`: Claude Code's `Stop` hook, one event per finished turn.

Claude Code runs it with the hook's JSON payload on stdin (`session_id`, `transcript_path`,
`hook_event_name`, `cwd`, ...). It sums the turn's token usage from the transcript (JSONL; the
turn is what follows the last prompt the user typed), takes the model and the duration from
it, prices the tokens (genai-prices, when installed) and spools the event: no network wait.
`mosaic-telemetry flush` delivers it later.

Claude Code writes one API response as several transcript lines (one per content block) that
share `message.id` and repeat the same `usage`: each `message.id` is counted once.

A hook must never break the harness: whatever happens it exits 0 and prints nothing on stdout
(exit 2 would block Claude from stopping); problems go to stderr, which Claude Code shows in
its verbose mode. Wire it to `Stop` only: a `SubagentStop` payload points at the main
session's transcript, so the same turn would be counted twice.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import datetime, timezone

from mosaicstack_telemetry.cli import _settings
from mosaicstack_telemetry.cli._output import err

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (see _output)
if TYPE_CHECKING:
    from typing import Any

_INPUT_KEYS = ("input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens")
_USAGE_KEYS = (*_INPUT_KEYS, "output_tokens")
_MAX_TOKENS = 10_000_000  # the contract's bound on a token count


#: How much of the transcript is read at a time, from its end backwards.
_BLOCK = 1 << 20


def _parse(line: bytes) -> dict[str, Any] | None:
    """One transcript line, or None: a line Claude Code is still writing (not yet JSON, or cut
    inside a multi-byte character: UnicodeDecodeError is a ValueError), or not an object."""
    try:
        entry = json.loads(line)
    except ValueError:
        return None
    return entry if isinstance(entry, dict) else None


def _last_turn(path: str) -> tuple[list[dict[str, Any]], int]:
    """The transcript's last turn (its lines from the last prompt typed on; all of them if
    there is none) and the file's size. Read from the end backwards: a long session's
    transcript runs to hundreds of megabytes, and the turn is its tail."""
    if not path:
        err("telemetry hook: the payload names no transcript_path: the turn has no token counts")
        return [], 0
    turn: list[dict[str, Any]] = []
    try:
        with open(os.path.expanduser(path), "rb") as fh:
            size = end = fh.seek(0, os.SEEK_END)
            tail: list[bytes] = []  # the end of a line that starts further back, last first
            while end > 0:
                start = max(0, end - _BLOCK)
                fh.seek(start)
                block = fh.read(end - start)
                end = start
                cut = block.find(b"\n") if start > 0 else -1
                if start > 0 and cut < 0:  # the block is inside one (long) line
                    tail.append(block)
                    continue
                lines = block[cut + 1 :].split(b"\n")
                lines[-1] += b"".join(reversed(tail))  # joined once: linear in the line
                tail = [block[:cut]] if start > 0 else []
                for line in reversed(lines):
                    entry = _parse(line)
                    if entry is None:
                        continue
                    turn.append(entry)
                    if _is_prompt(entry):
                        turn.reverse()
                        return turn, size
    except OSError as exc:
        err(f"telemetry hook: cannot read the transcript {path!r}: {exc.strerror or exc}")
        return [], 0
    turn.reverse()
    return turn, size


def _is_prompt(entry: dict[str, Any]) -> bool:
    """A message the user typed: not a tool result (which also has type "user"), nor the
    summary Claude Code writes after compacting the context (`isCompactSummary`), which
    continues the same turn."""
    if entry.get("type") != "user" or entry.get("isMeta") or entry.get("isCompactSummary"):
        return False
    message = entry.get("message")
    content = message.get("content") if isinstance(message, dict) else None
    if isinstance(content, str):
        return True
    return isinstance(content, list) and any(
        isinstance(c, dict) and c.get("type") == "text" for c in content
    )


def _time(entry: dict[str, Any]) -> datetime | None:
    """The line's time; one without a zone is taken as UTC (Claude Code writes UTC), so
    lines of both kinds can be compared."""
    try:
        when = datetime.fromisoformat(str(entry["timestamp"]).replace("Z", "+00:00"))
    except (KeyError, ValueError):
        return None
    return when if when.tzinfo is not None else when.replace(tzinfo=timezone.utc)


def _count(value: object) -> int:
    """A token count as the transcript gives it; anything that is not one counts 0."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return 0
    try:
        return max(int(value or 0), 0)
    except (ValueError, OverflowError):  # "abc", NaN; 3e400 is infinite
        return 0


def turn_usage(turn: list[dict[str, Any]]) -> tuple[str, dict[str, int]]:
    """The turn's model and its token usage, each API response (`message.id`) counted once.

    The lines of one response repeat its usage; a later line may carry a larger output count
    while it streams, so each key takes its largest value over the response's lines.
    """
    model = "unknown"
    responses: dict[str, dict[str, int]] = {}
    for index, entry in enumerate(turn):
        message = entry.get("message")
        if entry.get("type") != "assistant" or not isinstance(message, dict):
            continue
        model = str(message.get("model") or model)
        usage = message.get("usage")
        if not isinstance(usage, dict):
            continue
        key = str(message.get("id") or f"line-{index}")  # no id: each line its own response
        seen = responses.setdefault(key, dict.fromkeys(_USAGE_KEYS, 0))
        for name in _USAGE_KEYS:
            seen[name] = max(seen[name], _count(usage.get(name)))
    totals = {name: sum(r[name] for r in responses.values()) for name in _USAGE_KEYS}
    return model, totals


def summarize(payload: dict[str, Any], task_type: str, complexity: str) -> dict[str, Any]:
    """The event fields this hook derives from the payload and the transcript, plus the cache
    token counts (keys starting with "_") that pricing needs."""
    turn, size = _last_turn(str(payload.get("transcript_path") or ""))
    compactions = sum(
        1 for e in turn if e.get("type") == "system" and e.get("subtype") == "compact_boundary"
    )
    model, usage = turn_usage(turn)
    times = [t for t in (_time(e) for e in turn) if t is not None]
    duration = int((max(times) - min(times)).total_seconds() * 1000) if len(times) > 1 else 0
    # One id per turn: the hook firing twice for the same turn records it once.
    last = str(turn[-1].get("uuid", size)) if turn else "empty"
    session = str(payload.get("session_id") or "no-session")
    import uuid  # here, not at the top: the hook's other paths do without it

    event_id = uuid.uuid5(uuid.NAMESPACE_URL, f"claude-code:{session}:{last}")
    return {
        "event_id": str(event_id),
        "task_type": task_type,
        "complexity": complexity,
        "harness": "claude_code",
        "provider": "anthropic",
        "model": model[:100] or "unknown",
        "outcome": "success",  # the turn ran to its end
        "task_duration_ms": min(max(duration, 0), 86_400_000),
        "actual_input_tokens": min(sum(usage[k] for k in _INPUT_KEYS), _MAX_TOKENS),
        "actual_output_tokens": min(usage["output_tokens"], _MAX_TOKENS),
        "context_compactions": min(compactions, 100),
        "_cache_read": usage["cache_read_input_tokens"],
        "_cache_write": usage["cache_creation_input_tokens"],
    }


def _record(args: argparse.Namespace) -> None:
    from mosaicstack_telemetry.cli._track import price

    text = sys.stdin.read()  # read whatever happens: the harness writes it all
    eff = _settings.resolve(args)
    if not eff.config.enabled:
        return  # the kill switch: nothing parsed, nothing stored, nothing said
    try:
        payload = json.loads(text or "{}")
    except ValueError:
        err("telemetry hook: the hook payload on stdin is not JSON; nothing recorded")
        return
    if not isinstance(payload, dict):
        err("telemetry hook: the hook payload is not a JSON object; nothing recorded")
        return
    problems = eff.config.validate()
    if problems:
        err("telemetry hook: the telemetry config is invalid; nothing recorded:")
        for problem in problems:
            err(f"  {problem}")
        return
    fields = summarize(payload, args.task_type, args.complexity)
    cache_read, cache_write = fields.pop("_cache_read"), fields.pop("_cache_write")
    data = {**fields, "instance_id": eff.config.instance_id}
    if args.prices and (data["actual_input_tokens"] or data["actual_output_tokens"]):
        data["actual_cost_usd_micros"] = price(data, cache_read, cache_write)
    _store(data, eff)


def _store(data: dict[str, Any], eff: _settings.Effective) -> None:
    """Into the spool as `track` stores an event: `EventSpool`, no pydantic, no client (Claude
    Code waits for the hook after every turn). A file that cannot be written is said, and
    nothing is sent: a client's exit flush would make the hook wait on the network."""
    from mosaicstack_telemetry import EventSpool
    from mosaicstack_telemetry.cli._track import invalid_event, not_stored

    spool = EventSpool(eff.config.spool_path, eff.config.spool_max_events)
    try:
        spool.add(data)
    except ValueError as exc:  # pydantic's ValidationError: the model's own messages
        err(f"telemetry hook: nothing recorded: {invalid_event(exc)}")
    except Exception as exc:  # sqlite3.Error, OSError: the file
        err(f"telemetry hook: {not_stored(eff.config.spool_path, exc)}")
    finally:
        spool.close()


def run(args: argparse.Namespace) -> int:
    """Always 0, never a line on stdout: the harness must not notice the hook."""
    try:
        _record(args)
    except (Exception, KeyboardInterrupt) as exc:
        err(f"telemetry hook: {type(exc).__name__}: {exc}")
    return 0


def add_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    hook = sub.add_parser(
        "claude-code",
        parents=[common],
        help="Claude Code's Stop hook: reads the payload on stdin, spools one event per turn",
        description="Run by Claude Code as a Stop hook (see `hook install claude-code`). "
        "Always exits 0 and prints nothing on stdout; problems go to stderr.",
    )
    hook.add_argument(
        "--task-type",
        default=os.environ.get("MOSAIC_TASK_TYPE", "implementation"),
        help="the work's task type [MOSAIC_TASK_TYPE; default implementation]",
    )
    hook.add_argument(
        "--complexity",
        default=os.environ.get("MOSAIC_COMPLEXITY", "medium"),
        help="the work's complexity [MOSAIC_COMPLEXITY; default medium]",
    )
    hook.add_argument(
        "--prices",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="price the tokens with genai-prices when installed (default: yes)",
    )
    hook.set_defaults(func=run, hook=True)
