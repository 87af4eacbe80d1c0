"""`mosaic-telemetry track`: one event from options and/or a JSON object, into the spool.

The event starts from `EventBuilder`'s defaults, then the JSON object (if any), then the
options given explicitly: so a hook can pipe a partial JSON object and still override a field
on the command line. `TaskCompletionEvent` validates the result (unknown keys included).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from pydantic import ValidationError

from mosaicstack_telemetry._builder import _DEFAULTS as _BUILDER_DEFAULTS
from mosaicstack_telemetry._cli_config import UsageError
from mosaicstack_telemetry._enums import (
    Complexity,
    Harness,
    Outcome,
    Provider,
    QualityGate,
    RepoSizeCategory,
    TaskType,
)
from mosaicstack_telemetry._models import TaskCompletionEvent

#: option dest -> event field, for the options that map one to one.
_FIELDS = {
    "task_type": "task_type",
    "model": "model",
    "provider": "provider",
    "harness": "harness",
    "complexity": "complexity",
    "outcome": "outcome",
    "duration_ms": "task_duration_ms",
    "estimated_in": "estimated_input_tokens",
    "estimated_out": "estimated_output_tokens",
    "actual_in": "actual_input_tokens",
    "actual_out": "actual_output_tokens",
    "estimated_cost": "estimated_cost_usd_micros",
    "cost": "actual_cost_usd_micros",
    "quality_passed": "quality_gate_passed",
    "gates_run": "quality_gates_run",
    "gates_failed": "quality_gates_failed",
    "compactions": "context_compactions",
    "rotations": "context_rotations",
    "utilization": "context_utilization_final",
    "retry_count": "retry_count",
    "language": "language",
    "repo_size": "repo_size_category",
    "event_id": "event_id",
    "timestamp": "timestamp",
    "instance_id_field": "instance_id",
}


def _values(enum: type[Any]) -> list[str]:
    return [member.value for member in enum]


def _gates(text: str) -> list[str]:
    """A comma-separated gate list ("build,lint"); "" is the empty list."""
    gates = [g.strip() for g in text.split(",") if g.strip()]
    allowed = _values(QualityGate)
    for gate in gates:
        if gate not in allowed:
            raise argparse.ArgumentTypeError(
                f"unknown gate {gate!r} (choose from {', '.join(allowed)})"
            )
    return gates


def add_event_options(parser: argparse.ArgumentParser) -> None:
    """Every event field as an option; unset options keep the JSON's or the builder's value."""
    e = parser.add_argument_group("event fields (defaults as EventBuilder's)")
    e.add_argument("--task-type", choices=_values(TaskType), help="default: unknown")
    e.add_argument("--model", help='model identifier (default: "unknown")')
    e.add_argument("--provider", choices=_values(Provider), help="default: unknown")
    e.add_argument("--harness", choices=_values(Harness), help="default: unknown")
    e.add_argument("--complexity", choices=_values(Complexity), help="default: medium")
    e.add_argument("--outcome", choices=_values(Outcome), help="default: failure")
    e.add_argument("--duration-ms", type=int, metavar="N", help="task wall-clock time")
    e.add_argument("--estimated-in", type=int, metavar="N", help="estimated input tokens")
    e.add_argument("--estimated-out", type=int, metavar="N", help="estimated output tokens")
    e.add_argument("--actual-in", type=int, metavar="N", help="actual input tokens")
    e.add_argument("--actual-out", type=int, metavar="N", help="actual output tokens")
    e.add_argument("--estimated-cost", type=int, metavar="MICROS", help="in microdollars")
    e.add_argument("--cost", type=int, metavar="MICROS", help="actual cost in microdollars")
    e.add_argument(
        "--quality-passed",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="whether all quality gates passed (default: no)",
    )
    e.add_argument("--gates-run", type=_gates, metavar="G,G", help="e.g. build,lint,test")
    e.add_argument("--gates-failed", type=_gates, metavar="G,G", help="e.g. test")
    e.add_argument("--compactions", type=int, metavar="N", help="context compactions")
    e.add_argument("--rotations", type=int, metavar="N", help="context rotations")
    e.add_argument("--utilization", type=float, metavar="F", help="final context use, 0..1")
    e.add_argument("--retry-count", type=int, metavar="N")
    e.add_argument("--language", help="e.g. python")
    e.add_argument("--repo-size", choices=_values(RepoSizeCategory))
    e.add_argument("--event-id", metavar="UUID", help="default: a fresh UUIDv4")
    e.add_argument("--timestamp", metavar="ISO8601", help="default: now (UTC)")
    e.add_argument(
        "--event-instance-id",
        dest="instance_id_field",
        metavar="UUID",
        help="the event's instance_id (default: the configured instance id)",
    )


def read_json(source: str) -> dict[str, Any]:
    """The JSON object of `--json` ("-" is stdin)."""
    try:
        if source == "-":
            text = sys.stdin.read()
        else:
            with open(source, encoding="utf-8") as fh:
                text = fh.read()
    except OSError as exc:
        raise UsageError(f"cannot read {source}: {exc.strerror}") from None
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise UsageError(f"--json: not valid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise UsageError(f"--json: expected a JSON object, got {type(data).__name__}")
    return data


def build_event(args: argparse.Namespace, instance_id: str) -> TaskCompletionEvent:
    """The event of a `track` command line; raises `UsageError` on any invalid value."""
    # The builder's own defaults; event_id and timestamp are left to the model (fresh per event).
    data: dict[str, Any] = {
        k: v for k, v in _BUILDER_DEFAULTS.items() if k not in ("event_id", "timestamp")
    }
    data["instance_id"] = instance_id
    if args.json is not None:
        data.update(read_json(args.json))
    for dest, field in _FIELDS.items():
        value = getattr(args, dest, None)
        if value is not None:
            data[field] = value
    try:
        return TaskCompletionEvent.model_validate(data)
    except ValidationError as exc:
        lines = [
            f"  {'.'.join(str(p) for p in err['loc']) or '(event)'}: {err['msg']}"
            for err in exc.errors()
        ]
        raise UsageError("invalid event:\n" + "\n".join(lines)) from None
