"""The `mosaic-telemetry` command line (also `python -m mosaicstack_telemetry`).

Exit codes: 0 ok; 1 a runtime problem (delivery incomplete, doctor found a problem, the server
extra missing); 2 invalid usage or input (bad options, a bad event, an incomplete config).
Every command takes the connection options of `_cli_config`; nothing printed, in any mode,
contains the API key (all output goes through `scrub`).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import threading
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, NoReturn, TextIO

from mosaicstack_telemetry._cli_config import (
    Effective,
    UsageError,
    add_config_options,
    resolve,
    scrub,
)

if TYPE_CHECKING:
    from mosaicstack_telemetry._models import TaskCompletionEvent

#: `flush` shows progress on a terminal, or anywhere once the spool holds this many events.
PROGRESS_THRESHOLD = 500
_current_key = ""  # the effective key, so every message printed can be scrubbed of it
_handler: logging.Handler | None = None


class _Parser(argparse.ArgumentParser):
    """argparse, with its error messages scrubbed: a mistyped command line may hold the key."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: error: {scrub(message)}\n")


def _err(message: str) -> None:
    print(scrub(message, _current_key), file=sys.stderr)


def _out(message: str) -> None:
    print(scrub(message, _current_key))


class _ScrubFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = scrub(record.getMessage(), _current_key)
        record.args = ()
        return True


class _CliFormatter(logging.Formatter):
    """One line per SDK message; tracebacks only with -vv; scrubbed as a whole, tracebacks too."""

    def __init__(self, tracebacks: bool) -> None:
        super().__init__("mosaic-telemetry: %(levelname)s: %(message)s")
        self._tracebacks = tracebacks

    def format(self, record: logging.LogRecord) -> str:
        if record.exc_info and not self._tracebacks:
            record = logging.makeLogRecord({**record.__dict__, "exc_info": None, "exc_text": None})
        return scrub(super().format(record), _current_key)


def _setup_logging(verbose: int) -> None:
    """The SDK's warnings (why a batch failed) on stderr; -v for INFO, -vv for DEBUG."""
    global _handler  # noqa: PLW0603  # one handler, replaced when main() runs again in-process
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_CliFormatter(tracebacks=verbose > 1))
    handler.addFilter(_ScrubFilter())
    log = logging.getLogger("mosaicstack_telemetry")
    if _handler is not None:
        log.removeHandler(_handler)
    log.addHandler(handler)
    _handler = handler
    log.setLevel(logging.DEBUG if verbose > 1 else logging.INFO if verbose else logging.WARNING)


def _config(args: argparse.Namespace, required: bool = True) -> Effective:
    """The effective config; with `required`, an invalid one is a usage error (exit 2)."""
    global _current_key  # noqa: PLW0603  # the CLI is one command per process
    eff = resolve(args)
    key = eff.config.api_key
    _current_key = key if isinstance(key, str) else ""
    if required and eff.config.enabled:
        problems = eff.config.validate()
        if problems:
            lines = "\n".join(f"  {p}" for p in problems)
            raise UsageError(
                "the telemetry config is incomplete or invalid:\n"
                f"{lines}\n"
                "set MOSAIC_TELEMETRY_SERVER_URL, MOSAIC_TELEMETRY_API_KEY and "
                "MOSAIC_TELEMETRY_INSTANCE_ID (or --server-url, --api-key-file, --instance-id); "
                "see `mosaic-telemetry config`"
            )
    return eff


def _disabled(eff: Effective) -> bool:
    if eff.config.enabled:
        return False
    _err("mosaic-telemetry: telemetry is disabled (MOSAIC_TELEMETRY_ENABLED); nothing done")
    return True


# -- track -----------------------------------------------------------------------------------


def cmd_track(args: argparse.Namespace) -> int:
    from mosaicstack_telemetry._cli_track import build_event

    eff = _config(args)
    if _disabled(eff):  # the kill switch: nothing is validated, stored or sent
        return 0
    event = build_event(args, eff.config.instance_id)
    if args.flush:
        return _track_and_flush(eff, event, args.flush_timeout)
    # Straight to disk with the SDK's own spool: no client, no network stack to import.
    from mosaicstack_telemetry._spool import Spool

    spool = Spool(eff.config.spool_path, eff.config.spool_max_events)
    try:
        if spool.add_events([event]):
            _err("mosaic-telemetry: the spool was full: its oldest event was evicted")
    except Exception as exc:
        _err(f"mosaic-telemetry: could not write the event to {spool.path}: {exc}")
        return 1
    finally:
        spool.close()
    _out(str(event.event_id))
    return 0


def _track_and_flush(eff: Effective, event: TaskCompletionEvent, timeout: float) -> int:
    """`track --flush`: spool the event through a client, then try to deliver the spool."""
    from mosaicstack_telemetry._client import TelemetryClient

    client = TelemetryClient(eff.config)
    client.track(event)
    assert client._delivery is not None
    try:
        client._delivery.source.persist()
        if client.queue_size:  # persist() kept it in memory: the spool cannot be written
            _err(f"mosaic-telemetry: could not write the event to {eff.config.spool_path}")
            return 1
        _out(str(event.event_id))
        result = client.flush(timeout=timeout)
        if result.remaining:
            last = client.stats().last_error
            _err(
                f"mosaic-telemetry: not delivered yet ({last or 'deadline'}); "
                f"{result.remaining} events stay in the spool for the next `flush`"
            )
            return 1
        return 0
    finally:
        client.close()


# -- flush -----------------------------------------------------------------------------------


class _Progress:
    """A text progress bar on stderr: redrawn in place on a terminal, every 10% elsewhere."""

    def __init__(self, total: int, stream: TextIO) -> None:
        self.total, self.stream = total, stream
        self.tty = stream.isatty()
        self._last_step = -1

    def show(self, done: int) -> None:
        done = min(max(done, 0), self.total)
        fraction = done / self.total if self.total else 1.0
        if self.tty:
            bar = "#" * int(fraction * 30)
            self.stream.write(f"\r[{bar:<30}] {done}/{self.total} ({fraction:4.0%})")
        else:
            step = int(fraction * 10)
            if step == self._last_step:
                return
            self._last_step = step
            self.stream.write(f"flush: {done}/{self.total} ({fraction:.0%})\n")
        self.stream.flush()

    def end(self, done: int) -> None:
        self.show(done)
        if self.tty:
            self.stream.write("\n")
            self.stream.flush()


def cmd_flush(args: argparse.Namespace) -> int:
    from mosaicstack_telemetry._client import TelemetryClient
    from mosaicstack_telemetry._spool import Spool
    from mosaicstack_telemetry._stats import FlushResult

    eff = _config(args)
    if _disabled(eff):
        return 0
    watcher = Spool(eff.config.spool_path)
    total = watcher.count()
    show = args.progress
    if show is None:
        show = sys.stderr.isatty() or total >= PROGRESS_THRESHOLD
    client = TelemetryClient(eff.config)
    results: list[FlushResult] = []
    worker = threading.Thread(
        target=lambda: results.append(client.flush(timeout=args.timeout)), daemon=True
    )
    worker.start()
    progress = _Progress(total, sys.stderr) if show and total else None
    while worker.is_alive():
        worker.join(0.1)
        if progress is not None:
            progress.show(total - watcher.count())
    result = results[0] if results else FlushResult(0, 0, 0, watcher.count())
    if progress is not None:
        progress.end(total - result.remaining)
    stats = client.stats()
    client.close()
    watcher.close()
    if args.json:
        summary: dict[str, Any] = {
            "sent": result.sent,
            "rejected": result.rejected,
            "dropped": result.dropped,
            "remaining": result.remaining,
            "last_error": stats.last_error if result.remaining else None,
        }
        _out(json.dumps(summary))
    else:
        _out(
            f"sent {result.sent}, rejected {result.rejected}, dropped {result.dropped}, "
            f"remaining {result.remaining}"
        )
        if result.remaining:
            _err(f"mosaic-telemetry: {result.remaining} events remain ({stats.last_error})")
    return 1 if result.remaining else 0


# -- predict ---------------------------------------------------------------------------------


def _queries(args: argparse.Namespace) -> list[Any]:
    """One query per position of the repeated options; an option given once applies to all."""
    from pydantic import ValidationError

    from mosaicstack_telemetry._models import PredictionQuery

    columns = {
        "task_type": args.task_type or [],
        "model": args.model or [],
        "provider": args.provider or [],
        "complexity": args.complexity or [],
    }
    missing = [name for name, values in columns.items() if not values]
    if missing:
        flags = ", ".join("--" + m.replace("_", "-") for m in missing)
        raise UsageError(f"predict needs {flags}")
    count = max(len(v) for v in columns.values())
    for name, values in columns.items():
        if len(values) not in (1, count):
            raise UsageError(
                f"--{name.replace('_', '-')} given {len(values)} times; give it once "
                f"or {count} times (once per query)"
            )
    queries = []
    for i in range(count):
        row = {name: values[i if len(values) > 1 else 0] for name, values in columns.items()}
        try:
            queries.append(PredictionQuery.model_validate(row))
        except ValidationError as exc:
            raise UsageError(f"invalid query {row}: {exc.errors()[0]['msg']}") from None
    return queries


def _table(rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in rows
    )


def cmd_predict(args: argparse.Namespace) -> int:
    from mosaicstack_telemetry._client import TelemetryClient

    queries = _queries(args)
    eff = _config(args)
    if _disabled(eff):
        return 1
    client = TelemetryClient(eff.config)
    try:
        client.refresh_predictions_sync(queries)
        answers = [client.get_prediction(q) for q in queries]
    finally:
        client.close()
    if any(a is None for a in answers):
        _err("mosaic-telemetry: could not fetch predictions (see the messages above)")
        return 1
    if args.json:
        out = [
            {"query": q.model_dump(mode="json"), **a.model_dump(mode="json")}
            for q, a in zip(queries, answers, strict=True)
            if a is not None
        ]
        _out(json.dumps(out, indent=2))
        return 0
    header = ["TASK", "MODEL", "PROVIDER", "CPLX", "CONF", "N", "IN p50", "OUT p50", "COST p50"]
    rows = [[*header, "TIME p50", "PASS"]]
    for q, a in zip(queries, answers, strict=True):
        assert a is not None
        meta, data = a.metadata, a.prediction
        row = [str(q.task_type), q.model, str(q.provider), str(q.complexity)]
        row += [str(meta.confidence), str(meta.sample_size)]
        if data is None:
            row += ["-"] * 5
        else:
            row += [
                str(data.input_tokens.median),
                str(data.output_tokens.median),
                f"${data.cost_usd_micros['median'] / 1_000_000:.4f}",
                f"{data.duration_ms['median'] / 1000:.1f}s",
                f"{data.quality.gate_pass_rate:.0%}",
            ]
        rows.append(row)
    _out(_table(rows))
    notes = [
        a.metadata.fallback_note for a in answers if a is not None and a.metadata.fallback_note
    ]
    for note in notes:
        _out(f"note: {note}")
    return 0


# -- serve -----------------------------------------------------------------------------------


def cmd_serve(argv: list[str]) -> int:
    """Hand the command line to the server's own entry point (its options, its --help)."""
    try:
        from mosaicstack_telemetry.server.__main__ import main
    except ImportError as exc:
        _err(
            "mosaic-telemetry: the local server needs the `server` extra "
            f"(pip install 'mosaicstack-telemetry[server]'): {exc}"
        )
        return 1
    saved = sys.stdout, sys.stderr
    # The server announces a demo key when none is given: no key is printed by this CLI.
    sys.stdout, sys.stderr = _Scrubbed(sys.stdout), _Scrubbed(sys.stderr)
    try:
        code = main(argv)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    finally:
        sys.stdout, sys.stderr = saved
    return int(code) if isinstance(code, int) else 0


class _Scrubbed:
    """A text stream that scrubs key-like strings from what is written through it."""

    def __init__(self, inner: TextIO) -> None:
        self._inner = inner

    def write(self, text: str) -> int:
        self._inner.write(scrub(text))
        return len(text)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


# -- doctor, config --------------------------------------------------------------------------


def cmd_doctor(args: argparse.Namespace) -> int:
    from mosaicstack_telemetry import _cli_doctor

    eff = _config(args, required=False)
    checks = _cli_doctor.run(eff, args.timeout)
    _out(_cli_doctor.report(eff, checks))
    failed = sum(c.status == "FAIL" for c in checks)
    _out(f"{failed} problem(s) found" if failed else "no problems found")
    return 1 if failed else 0


def cmd_config(args: argparse.Namespace) -> int:
    eff = _config(args, required=False)
    rows = eff.rows()
    if args.json:
        _out(json.dumps({name: {"value": v, "source": s} for name, v, s in rows}, indent=2))
    else:
        _out(_table([("FIELD", "VALUE", "SOURCE"), *rows]))
        problems = eff.config.validate()
        for problem in problems:
            _out(f"invalid: {problem}")
    return 0


# -- the parser ------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    common = _Parser(add_help=False)
    add_config_options(common)
    common.add_argument(
        "-v", "--verbose", action="count", default=0, help="more log output (-vv: debug)"
    )
    parser = _Parser(
        prog="mosaic-telemetry",
        description="Record AI coding task telemetry, deliver it, and read predictions.",
        epilog="exit codes: 0 ok, 1 runtime problem, 2 invalid usage or input",
    )
    from mosaicstack_telemetry._version import __version__

    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    from mosaicstack_telemetry._cli_track import add_event_options

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
        "--flush-timeout", type=float, default=5.0, metavar="S", help="deadline of --flush (5)"
    )
    add_event_options(track)
    track.set_defaults(func=cmd_track)

    flush = sub.add_parser(
        "flush",
        parents=[common],
        help="deliver everything the spool holds",
        description="Deliver the spool; prints sent / rejected / dropped / remaining. "
        "Exit 1 if events remain.",
    )
    flush.add_argument("--timeout", type=float, default=120.0, metavar="S", help="deadline (120)")
    flush.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help=f"progress on stderr (default: on a terminal or from {PROGRESS_THRESHOLD} events)",
    )
    flush.add_argument("--json", action="store_true", help="the summary as JSON")
    flush.set_defaults(func=cmd_flush)

    predict = sub.add_parser(
        "predict",
        parents=[common],
        help="query predictions and print a table",
        description="Repeat the four options for several queries; one given once applies "
        "to every query.",
    )
    predict.add_argument("--task-type", action="append", metavar="TYPE")
    predict.add_argument("--model", action="append")
    predict.add_argument("--provider", action="append")
    predict.add_argument("--complexity", action="append")
    predict.add_argument("--json", action="store_true", help="the responses as JSON")
    predict.set_defaults(func=cmd_predict)

    sub.add_parser(
        "serve",
        help="run the local reference server (the `server` extra); options are the server's",
        add_help=False,
    )

    doctor = sub.add_parser(
        "doctor",
        parents=[common],
        help="check config, network, auth and spool",
        description="Check the config, DNS, TCP, TLS, the key (an empty batch: nothing is "
        "stored) and the spool. Exit 1 on any problem.",
    )
    doctor.add_argument("--timeout", type=float, default=5.0, metavar="S", help="per check (5)")
    doctor.set_defaults(func=cmd_doctor)

    config = sub.add_parser(
        "config",
        parents=[common],
        help="print the effective config and where each value came from",
    )
    config.add_argument("--json", action="store_true", help="as JSON")
    config.set_defaults(func=cmd_config)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one command; returns its exit code (the console script exits with it)."""
    args_list = sys.argv[1:] if argv is None else list(argv)
    if args_list[:1] == ["serve"]:
        return cmd_serve(args_list[1:])
    parser = build_parser()
    args = parser.parse_args(args_list)
    if getattr(args, "func", None) is None:
        parser.print_help(sys.stderr)
        return 2
    _setup_logging(args.verbose)
    start = time.monotonic()
    try:
        code: int = args.func(args)
    except UsageError as exc:
        _err(f"mosaic-telemetry {args.command}: {exc}")
        return 2
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        _err(f"mosaic-telemetry {args.command}: unexpected error: {type(exc).__name__}: {exc}")
        return 1
    logging.getLogger("mosaicstack_telemetry").debug(
        "%s took %.3f s", args.command, time.monotonic() - start
    )
    return code
