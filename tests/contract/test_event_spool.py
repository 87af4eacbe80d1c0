"""`EventSpool` writes what the model would (issue 16): the event's JSON made without pydantic
(`_eventjson`, validated by the contract's generated JSON Schema validator) is byte for byte
`dump_event(TaskCompletionEvent.model_validate(fields))`, or it is not made at all and the
model decides, with its own errors."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from mosaicstack_telemetry import EventSpool, Provider, QualityGate, TaskCompletionEvent, TaskType
from mosaicstack_telemetry._defaults import BUILDER_DEFAULTS as _DEFAULTS
from mosaicstack_telemetry._eventjson import event_json
from mosaicstack_telemetry._models import dump_event

INSTANCE = "12345678-1234-4234-8234-123456789abc"

ints = st.one_of(
    st.integers(-2, 25), st.integers(0, 10**8 + 1), st.booleans(), st.floats(0, 50), st.just("7")
)
floats = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(0, 1),
    st.integers(-1, 2),
    st.sampled_from([1e-05, 0.0001, 5e-324, 1.0, 0.72, 0.1 + 0.2]),
)
texts = st.one_of(
    st.text(max_size=120),
    st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=110),
    st.sampled_from(["", "python", "x" * 30, "x" * 31, "é", "a\nb", "\x7f"]),
)
uuids = st.one_of(
    st.uuids().map(str),
    st.uuids().map(lambda u: str(u).upper()),
    st.uuids().map(lambda u: u.hex),
    st.uuids(),
    st.sampled_from(["not-a-uuid", "", "{12345678-1234-4234-8234-123456789abc}"]),
)
times = st.one_of(
    st.datetimes().map(lambda d: d.isoformat()),
    st.datetimes(timezones=st.timezones()).map(lambda d: d.isoformat()),
    st.datetimes().map(lambda d: d.isoformat() + "Z"),
    st.sampled_from(
        [
            "2025-01-02T03:04:05Z",
            "2025-01-02T03:04:05.1+02:00",
            "2025-01-02t03:04:05z",
            "2025-01-02T03:04:60Z",
            "2025-01-02T03:04:05.1234567Z",
            "0999-01-01T00:00:00Z",
            "9999-12-31T23:59:59-01:00",
            "2025-01-02 03:04:05Z",
        ]
    ),
)


def enum_values(enum: Any) -> st.SearchStrategy[Any]:
    members = list(enum)
    return st.one_of(
        st.sampled_from(members), st.sampled_from([m.value for m in members]), st.just("nope")
    )


gates = st.lists(enum_values(QualityGate), max_size=4) | st.tuples(st.just("build"))
FIELDS: dict[str, st.SearchStrategy[Any]] = {
    "instance_id": uuids,
    "event_id": uuids,
    "timestamp": times,
    "task_duration_ms": ints,
    "task_type": enum_values(TaskType),
    "model": texts,
    "provider": enum_values(Provider),
    "actual_input_tokens": ints,
    "actual_cost_usd_micros": ints,
    "quality_gate_passed": st.one_of(st.booleans(), st.just(1)),
    "quality_gates_run": gates,
    "quality_gates_failed": gates,
    "context_utilization_final": floats,
    "retry_count": ints,
    "language": st.one_of(st.none(), texts),
    "repo_size_category": st.sampled_from([None, "medium", "huge"]),
    "schema_version": st.sampled_from(["1.0", "2.0", 1]),
    "colour": st.just("red"),
}
events = st.fixed_dictionaries(
    {"instance_id": uuids}, optional={k: v for k, v in FIELDS.items() if k != "instance_id"}
)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(events)
def test_the_json_made_without_pydantic_is_the_models(fields: dict[str, Any]) -> None:
    data = {**_DEFAULTS, **fields}
    written = event_json(data)
    if written is None:
        return  # unsure: EventSpool asks the model (the next test)
    event_id, body = written
    sent = json.loads(body)
    # The same fields, with the id and time the fast path made when they were missing.
    event = TaskCompletionEvent.model_validate(
        {**data, "event_id": event_id, "timestamp": sent["timestamp"]}
    )
    assert dump_event(event) == body


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(events)
def test_the_spool_holds_what_the_model_makes_or_raises_its_errors(
    tmp_path_factory: pytest.TempPathFactory, fields: dict[str, Any]
) -> None:
    path = tmp_path_factory.mktemp("spool") / "spool.sqlite3"
    data = {**_DEFAULTS, **fields}
    try:
        expected: TaskCompletionEvent | None = TaskCompletionEvent.model_validate(data)
    except ValidationError as exc:
        expected, errors = None, exc.errors(include_context=False)
    with EventSpool(path) as spool:
        if expected is None:
            with pytest.raises(ValidationError) as info:
                spool.add(fields)
            assert info.value.errors(include_context=False) == errors
            return
        event_id = spool.add(fields)
        (body,) = [row[0] for row in sqlite3.connect(path).execute("SELECT body FROM events")]
    stored = TaskCompletionEvent.model_validate_json(body)
    assert str(stored.event_id) == event_id
    if "event_id" in fields:
        assert stored.event_id == expected.event_id
    if "timestamp" in fields:
        assert stored.timestamp == expected.timestamp
    same = {"event_id": stored.event_id, "timestamp": stored.timestamp}
    assert body == dump_event(expected.model_copy(update=same))


def test_a_hooks_event_takes_the_fast_path() -> None:
    # What `mosaic-telemetry track` and a hook pass: every kind of field in plain JSON form.
    fields = {
        "instance_id": INSTANCE,
        "event_id": "9b2f7c1e-4a5d-4e8f-9a0b-1c2d3e4f5a6b",
        "timestamp": "2025-01-02T03:04:05Z",
        "task_type": "implementation",
        "model": "claude-sonnet-4-5",
        "provider": Provider.ANTHROPIC,
        "task_duration_ms": 45000,
        "quality_gates_run": ["build", QualityGate.LINT],
        "context_utilization_final": 0.72,
        "language": "python",
        "repo_size_category": "medium",
    }
    assert event_json({**_DEFAULTS, **fields}) is not None
    assert event_json({**_DEFAULTS, "instance_id": INSTANCE}) is not None


def test_the_kill_switch_stores_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOSAIC_TELEMETRY_ENABLED", "false")
    spool = EventSpool(tmp_path / "spool.sqlite3")
    assert spool.add({"instance_id": INSTANCE, "event_id": INSTANCE}) == INSTANCE
    assert spool.add({"colour": "red"})  # not even validated
    assert spool.count() == 0
    assert not (tmp_path / "spool.sqlite3").exists()


def test_a_full_spool_evicts_the_oldest(tmp_path: Path) -> None:
    with EventSpool(tmp_path / "spool.sqlite3", max_events=2) as spool:
        first = spool.add({"instance_id": INSTANCE})
        spool.add({"instance_id": INSTANCE})
        assert spool.evicted == 0
        spool.add({"instance_id": INSTANCE})
        assert (spool.evicted, spool.count()) == (1, 2)
        ids = [
            r[0] for r in sqlite3.connect(spool_path(spool)).execute("SELECT event_id FROM events")
        ]
    assert first not in ids


def spool_path(spool: EventSpool) -> str:
    return repr(spool).split("'")[1]


def test_adding_loads_neither_pydantic_nor_the_models(tmp_path: Path) -> None:
    # Nor the standard library it can do without: each of these is a few percent of a
    # `mosaic-telemetry track` run (issue 16).
    code = (
        "import sys\n"
        "from mosaicstack_telemetry import EventSpool\n"
        f"EventSpool({str(tmp_path / 's.db')!r}).add({{'instance_id': {INSTANCE!r}}})\n"
        "heavy = ('pydantic', 'httpx', '_mosaicstack_telemetry_generated.models', 'typing',\n"
        "         'dataclasses', 'pathlib', 'decimal', 'threading', 'uuid')\n"
        "print(sorted(m for m in heavy if m in sys.modules))\n"
    )
    # Without coverage's start-up hook in the child: coverage itself imports these modules.
    env = {k: v for k, v in os.environ.items() if not k.startswith("COVERAGE_")}
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
        env=env,
    )
    assert done.stdout.strip() == "[]"
