"""`mosaic-telemetry track`: one event from options and/or a JSON object, into the spool.

The event starts from `EventBuilder`'s defaults, then the JSON object (if any), then the
options given explicitly: so a hook can pipe a partial JSON object and still override a field
on the command line. `TaskCompletionEvent` validates the result (unknown keys included). With
no actual cost given, the cost comes from genai-prices when it is installed (`--no-prices`
turns that off).
"""

from __future__ import annotations

import argparse
import json
import sys

from mosaicstack_telemetry.cli import _settings
from mosaicstack_telemetry.cli._output import (
    SDK_LOGGER,
    UsageError,
    ensure_logging,
    err,
    out,
    reason,
    seconds,
    show_attempts,
    spool_remedy,
)

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (see _output)
if TYPE_CHECKING:
    from typing import Any

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


def _values(enum_name: str) -> list[str]:
    import mosaicstack_telemetry

    return [member.value for member in getattr(mosaicstack_telemetry, enum_name)]


def _gates(text: str) -> list[str]:
    """A comma-separated gate list ("build,lint"); "" is the empty list."""
    gates = [g.strip() for g in text.split(",") if g.strip()]
    allowed = _values("QualityGate")
    for gate in gates:
        if gate not in allowed:
            raise argparse.ArgumentTypeError(
                f"unknown gate {gate!r} (choose from {', '.join(allowed)})"
            )
    return gates


def add_event_options(parser: argparse.ArgumentParser) -> None:
    """Every event field as an option; unset options keep the JSON's or the builder's value."""
    e = parser.add_argument_group("event fields (defaults as EventBuilder's)")
    e.add_argument("--task-type", choices=_values("TaskType"), help="default: unknown")
    e.add_argument("--model", help='model identifier (default: "unknown")')
    e.add_argument("--provider", choices=_values("Provider"), help="default: unknown")
    e.add_argument("--harness", choices=_values("Harness"), help="default: unknown")
    e.add_argument("--complexity", choices=_values("Complexity"), help="default: medium")
    e.add_argument("--outcome", choices=_values("Outcome"), help="default: failure")
    e.add_argument("--duration-ms", type=int, metavar="N", help="task wall-clock time")
    e.add_argument("--estimated-in", type=int, metavar="N", help="estimated input tokens")
    e.add_argument("--estimated-out", type=int, metavar="N", help="estimated output tokens")
    e.add_argument("--actual-in", type=int, metavar="N", help="actual input tokens")
    e.add_argument("--actual-out", type=int, metavar="N", help="actual output tokens")
    e.add_argument("--estimated-cost", type=int, metavar="MICROS", help="in microdollars")
    e.add_argument(
        "--cost",
        type=int,
        metavar="MICROS",
        help="actual cost in microdollars (default: priced from the model and tokens)",
    )
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
    e.add_argument("--repo-size", choices=_values("RepoSizeCategory"))
    e.add_argument("--event-id", metavar="UUID", help="default: a fresh UUIDv4")
    e.add_argument("--timestamp", metavar="ISO8601", help="default: now (UTC)")
    e.add_argument(
        "--event-instance-id",
        dest="instance_id_field",
        metavar="UUID",
        help="the event's instance_id (default: the configured instance id)",
    )
    e.add_argument(
        "--prices",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="with no actual cost given, price the tokens with genai-prices when installed "
        "(the `prices` extra; default: yes)",
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


def price(data: dict[str, Any], cache_read: int = 0, cache_write: int = 0) -> int:
    """The actual cost of `data`'s model and tokens in microdollars; 0 when not known.

    Prices through the builder's public opt-in; without genai-prices installed it says so at
    DEBUG and returns 0 (the CLI prices by default, so a missing extra is not a warning).
    """
    import importlib.util
    import logging

    from mosaicstack_telemetry import EventBuilder

    ensure_logging()

    if importlib.util.find_spec("genai_prices") is None:
        logging.getLogger(SDK_LOGGER).debug(
            "no cost computed: genai-prices is not installed "
            "(pip install 'mosaicstack-telemetry[prices]')"
        )
        return 0
    try:
        event = (
            EventBuilder(_settings.PLACEHOLDER_INSTANCE)
            .model(str(data.get("model", "unknown")))
            .provider(data.get("provider", "unknown"))
            .tokens(
                actual_in=data.get("actual_input_tokens", 0),
                actual_out=data.get("actual_output_tokens", 0),
            )
            .cost_from_prices(cache_read_tokens=cache_read, cache_write_tokens=cache_write)
            .build()
        )
    except ValueError:  # invalid fields: the real validation below reports them
        return 0
    return event.actual_cost_usd_micros


def invalid_event(exc: ValueError) -> str:
    """pydantic's errors of an event, one line per field."""
    from pydantic import ValidationError

    if not isinstance(exc, ValidationError):
        return f"invalid event: {exc}"
    lines = [
        f"  {'.'.join(str(p) for p in e['loc']) or '(event)'}: {e['msg']}" for e in exc.errors()
    ]
    return "invalid event:\n" + "\n".join(lines)


def not_stored(path: str, exc: BaseException) -> str:
    """Why an event is not in the spool, and that it was not sent either: the CLI never falls
    back to a client, whose exit flush would send an event reported as failed."""
    why = reason(exc)
    return (
        f"could not write the event to {path} ({why}): it was neither recorded nor sent; "
        f"{spool_remedy(why, path)}, or choose another spool (--spool, MOSAIC_TELEMETRY_SPOOL_PATH)"
    )


def event_fields(args: argparse.Namespace, instance_id: str) -> dict[str, Any]:
    """The fields of a `track` command line: the JSON object, then the options over it; what
    is missing takes the builder's default in `EventSpool.add`."""
    data: dict[str, Any] = {"instance_id": instance_id}
    if args.json is not None:
        data.update(read_json(args.json))
    for dest, field in _FIELDS.items():
        value = getattr(args, dest, None)
        if value is not None:
            data[field] = value
    # No tokens, nothing to price (and no genai-prices to load): `price` gives 0 for them too.
    tokens = data.get("actual_input_tokens") or data.get("actual_output_tokens")
    # A cost given is kept, 0 too (a free or flat-rate run): only a missing one is priced.
    if getattr(args, "prices", False) and data.get("actual_cost_usd_micros") is None and tokens:
        data["actual_cost_usd_micros"] = price(data)
    return data


def record(args: argparse.Namespace, eff: _settings.Effective) -> int:
    """Validate the event and add it to the spool, with no client (`EventSpool`: no pydantic
    for an event in plain JSON form, no thread, no network); print its id."""
    from mosaicstack_telemetry import EventSpool

    data = event_fields(args, eff.config.instance_id)  # stdin, if any, is read here, once
    spool = EventSpool(eff.config.spool_path, eff.config.spool_max_events)
    try:
        event_id = spool.add(data)
    except ValueError as exc:  # pydantic's ValidationError: the model's own messages
        raise UsageError(invalid_event(exc)) from None
    except Exception as exc:  # sqlite3.Error, OSError: the file cannot be written
        err(f"mosaic-telemetry: {not_stored(eff.config.spool_path, exc)}")
        return 1
    finally:
        spool.close()
    out(event_id)
    if spool.evicted:
        err("mosaic-telemetry: the spool was full: its oldest event was evicted")
    _other_instance(str(data["instance_id"]), str(eff.config.instance_id))
    return 0


def _other_instance(event: str, configured: str) -> None:
    """Say so when the event names another instance: a flush sends only the events of its
    config's instance (the server refuses the others' for good), so this one waits for a
    flush configured with that instance and its key."""
    import uuid  # both are valid UUIDs by now (the event was stored), in any spelling

    if uuid.UUID(event) != uuid.UUID(configured):
        err(
            f"mosaic-telemetry: recorded for instance {event}, not this config's ({configured}): "
            "only a flush configured with that instance (and its API key) sends it"
        )


def run(args: argparse.Namespace) -> int:
    eff = _settings.required(args)
    if _settings.disabled(eff):  # the kill switch: nothing is validated, stored or sent
        return 0
    code = record(args, eff)
    if code or not args.flush:
        return code
    return send(args, eff)


def send(args: argparse.Namespace, eff: _settings.Effective) -> int:
    """`--flush`: deliver the spool, which now holds the event, through a client."""
    from mosaicstack_telemetry import TelemetryClient
    from mosaicstack_telemetry.cli._flush import left_after

    ensure_logging()
    client = TelemetryClient(eff.config)
    try:
        total = client.stats().spooled
        show_attempts()
        result = client.flush(timeout=args.flush_timeout)
        last = client.stats().last_error
    finally:
        client.close()
    remaining, why = left_after(
        result, total, eff.config.spool_path, last, str(eff.config.instance_id)
    )
    if remaining == 0:
        return 0
    left = "its" if remaining is None else str(remaining)
    err(
        f"mosaic-telemetry: not delivered yet ({why}); {left} events stay in the spool for "
        "the next `flush`"
    )
    return 1


def add_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    track = sub.add_parser(
        "track",
        parents=[common],
        help="record one event in the spool (no network unless --flush)",
        description="Record one event in the spool and return at once; the next `flush` "
        "delivers it. Fields come from EventBuilder's defaults, then --json, then the options.",
    )
    track.add_argument(
        "--json",
        metavar="FILE",
        help="read a JSON object of event fields from FILE ('-' = stdin); options override it",
    )
    track.add_argument("--flush", action="store_true", help="also try to deliver right away")
    track.add_argument(
        "--flush-timeout", type=seconds, default=5.0, metavar="S", help="deadline of --flush (5)"
    )
    add_event_options(track)
    track.set_defaults(func=run)
