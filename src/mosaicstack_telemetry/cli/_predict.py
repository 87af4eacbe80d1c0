"""`mosaic-telemetry predict`: query predictions and print them as a table (or JSON)."""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from typing import Any

from mosaicstack_telemetry.cli import _settings
from mosaicstack_telemetry.cli._output import UsageError, err, out


def queries(args: argparse.Namespace) -> list[Any]:
    """One query per position of the repeated options; an option given once applies to all."""
    from pydantic import ValidationError

    from mosaicstack_telemetry import PredictionQuery

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
    found = []
    for i in range(count):
        row = {name: values[i if len(values) > 1 else 0] for name, values in columns.items()}
        try:
            found.append(PredictionQuery.model_validate(row))
        except ValidationError as exc:
            raise UsageError(f"invalid query {row}: {exc.errors()[0]['msg']}") from None
    return found


def table(rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in rows
    )


def run(args: argparse.Namespace) -> int:
    from mosaicstack_telemetry import TelemetryClient

    wanted = queries(args)
    eff = _settings.required(args)
    if _settings.disabled(eff):
        return 1
    client = TelemetryClient(eff.config)
    try:
        client.refresh_predictions_sync(wanted)
        answers = [client.get_prediction(q) for q in wanted]
    finally:
        client.close()
    if any(a is None for a in answers):
        err("mosaic-telemetry: could not fetch predictions (see the messages above)")
        return 1
    if args.json:
        dumped = [
            {"query": q.model_dump(mode="json"), **a.model_dump(mode="json")}
            for q, a in zip(wanted, answers, strict=True)
            if a is not None
        ]
        out(json.dumps(dumped, indent=2))
        return 0
    header = ["TASK", "MODEL", "PROVIDER", "CPLX", "CONF", "N", "IN p50", "OUT p50", "COST p50"]
    rows = [[*header, "TIME p50", "PASS"]]
    for q, a in zip(wanted, answers, strict=True):
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
    out(table(rows))
    for q, a in zip(wanted, answers, strict=True):
        if a is not None and a.metadata.fallback_note:  # which row it is about, when several
            where = (
                f" ({q.task_type}, {q.model}, {q.provider}, {q.complexity})"
                if len(wanted) > 1
                else ""
            )
            out(f"note{where}: {a.metadata.fallback_note}")
    return 0


def add_parser(sub: Any, common: argparse.ArgumentParser) -> None:
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
    predict.set_defaults(func=run)
