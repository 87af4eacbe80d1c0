"""The generated pydantic models enforce exactly the contract's constraints.

Every bound is read from openapi/telemetry-v1.yaml, so the cases follow the contract; each case is
also checked against the contract itself (JSON Schema, with jsonschema_rs), so the model and the
contract must agree on every value tried. REFERENCE_* below are the SDK reference's numbers,
written out once: a contract that silently moved a bound fails there.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest
import yaml
from pydantic import BaseModel, ValidationError

# The SDK first: importing the generated models alone trips a circular import (see
# test_generated_models_import_on_their_own below).
import mosaicstack_telemetry  # noqa: F401

# isort: split
from _mosaicstack_telemetry_generated import models, prediction_models

ROOT = Path(__file__).resolve().parents[2]
CONTRACT_PATH = ROOT / "openapi" / "telemetry-v1.yaml"


def _load_contract() -> dict[str, Any]:
    with CONTRACT_PATH.open(encoding="utf-8") as f:
        loaded = yaml.safe_load(f)
    assert isinstance(loaded, dict)
    return loaded


CONTRACT = _load_contract()
SCHEMAS: dict[str, Any] = CONTRACT["components"]["schemas"]
EVENT = SCHEMAS["TaskCompletionEvent"]
EVENT_PROPS: dict[str, Any] = EVENT["properties"]

# The reference's table (sdk-reference.md, TaskCompletionEvent and BatchEventRequest) and the
# decisions' 1..50 queries, literally.
REFERENCE_RANGES: dict[str, tuple[int | float, int | float]] = {
    "task_duration_ms": (0, 86_400_000),
    "estimated_input_tokens": (0, 10_000_000),
    "estimated_output_tokens": (0, 10_000_000),
    "actual_input_tokens": (0, 10_000_000),
    "actual_output_tokens": (0, 10_000_000),
    "estimated_cost_usd_micros": (0, 100_000_000),
    "actual_cost_usd_micros": (0, 100_000_000),
    "context_compactions": (0, 100),
    "context_rotations": (0, 50),
    "context_utilization_final": (0.0, 1.0),
    "retry_count": (0, 20),
}
REFERENCE_LENGTHS: dict[str, tuple[int | None, int]] = {"model": (1, 100), "language": (None, 30)}
REFERENCE_BATCHES: dict[str, tuple[str, int, int]] = {
    "BatchEventRequest": ("events", 1, 100),
    "PredictionBatchRequest": ("queries", 1, 50),
}

# One step past a bound: integers move by 1; the one float field by 0.0001.
FLOAT_STEP = 0.0001

INSTANCE_ID = "12345678-1234-4234-8234-123456789abc"
VALID_EVENT: dict[str, Any] = {
    "instance_id": INSTANCE_ID,
    "task_duration_ms": 1_000,
    "task_type": "testing",
    "complexity": "low",
    "harness": "aider",
    "model": "claude-sonnet-4",
    "provider": "anthropic",
    "estimated_input_tokens": 10,
    "estimated_output_tokens": 20,
    "actual_input_tokens": 30,
    "actual_output_tokens": 40,
    "estimated_cost_usd_micros": 50,
    "actual_cost_usd_micros": 60,
    "quality_gate_passed": True,
    "context_compactions": 1,
    "context_rotations": 2,
    "context_utilization_final": 0.5,
    "outcome": "success",
    "retry_count": 3,
}
FULL_EVENT: dict[str, Any] = {
    **VALID_EVENT,
    "event_id": "9b2f8a3e-7c1d-4e5f-8a9b-0c1d2e3f4a5b",
    "schema_version": "1.0",
    "timestamp": "2026-01-02T03:04:05.678000Z",
    "quality_gates_run": ["build", "lint", "test"],
    "quality_gates_failed": ["test"],
    "language": "python",
    "repo_size_category": "medium",
}
VALID_QUERY: dict[str, Any] = {
    "task_type": "implementation",
    "model": "gpt-4o",
    "provider": "openai",
    "complexity": "high",
}


def contract_validator(name: str) -> jsonschema_rs.Validator:
    """A JSON Schema validator of one component, with the contract's components resolvable."""
    wrapper = {"$ref": f"#/components/schemas/{name}", "components": CONTRACT["components"]}
    return jsonschema_rs.Draft202012Validator(wrapper, validate_formats=True)


VALIDATORS = {name: contract_validator(name) for name in SCHEMAS}


#: The generated models modules: the event's (imported with the SDK) and the predictions'.
MODULES = (models, prediction_models)
#: What importing the SDK defines (issue 16): the event, its batch and the batch's answer.
EVENT_SIDE = {"TaskCompletionEvent", "BatchEventRequest", "BatchEventResult", "BatchEventResponse"}


def defined_in(module: Any) -> set[str]:
    """The model classes `module` defines (not those it imports, such as the enums)."""
    return {
        name
        for name, value in vars(module).items()
        if isinstance(value, type)
        and issubclass(value, BaseModel)
        and value.__module__ == module.__name__
    }


def model_of(name: str) -> type[BaseModel]:
    """The generated class of a contract schema, from the one module that defines it."""
    owners = [m for m in MODULES if name in defined_in(m)]
    assert len(owners) == 1, f"{name} is defined in {[m.__name__ for m in owners]}"
    cls = getattr(owners[0], name)
    assert issubclass(cls, BaseModel)
    return cls


def check_both(name: str, data: dict[str, Any], ok: bool, *, field: str | None = None) -> None:
    """The contract and the generated model both accept `data` (ok) or both reject it; a
    rejection by the model is for `field` alone; an accepted value dumps to contract-valid JSON."""
    assert VALIDATORS[name].is_valid(data) is ok, (
        "the test's expectation disagrees with the contract"
    )
    model = model_of(name)
    if ok:
        for parsed in (model.model_validate(data), model.model_validate_json(json.dumps(data))):
            dumped = parsed.model_dump(mode="json", exclude_unset=True)
            VALIDATORS[name].validate(dumped)
            if field is not None:
                assert dumped[field] == data[field]
        return
    for attempt in (
        lambda: model.model_validate(data),
        lambda: model_of(name).model_validate_json(json.dumps(data)),
    ):
        with pytest.raises(ValidationError) as info:
            attempt()
        if field is not None:
            assert {e["loc"][0] for e in info.value.errors()} == {field}, info.value.errors()


# --- bounds, derived from the contract -----------------------------------------------------


def numeric_bounds() -> dict[str, tuple[int | float, int | float]]:
    return {
        field: (prop["minimum"], prop["maximum"])
        for field, prop in EVENT_PROPS.items()
        if "minimum" in prop or "maximum" in prop
    }


def length_bounds() -> dict[str, tuple[int | None, int]]:
    return {
        field: (prop.get("minLength"), prop["maxLength"])
        for field, prop in EVENT_PROPS.items()
        if "minLength" in prop or "maxLength" in prop
    }


def test_contract_bounds_are_the_reference_numbers() -> None:
    assert numeric_bounds() == REFERENCE_RANGES
    assert length_bounds() == REFERENCE_LENGTHS
    for name, (field, low, high) in REFERENCE_BATCHES.items():
        prop = SCHEMAS[name]["properties"][field]
        assert (prop["minItems"], prop["maxItems"]) == (low, high)


def _bound_cases() -> Iterator[Any]:
    for field, (low, high) in numeric_bounds().items():
        kind = EVENT_PROPS[field]["type"]
        assert kind in {"integer", "number"}, field
        step: int | float = 1 if kind == "integer" else FLOAT_STEP
        if kind == "number":
            low, high = float(low), float(high)
        yield pytest.param(field, low, True, id=f"{field}-min")
        yield pytest.param(field, high, True, id=f"{field}-max")
        yield pytest.param(field, low - step, False, id=f"{field}-below-min")
        yield pytest.param(field, high + step, False, id=f"{field}-above-max")
    for field, (shortest, longest) in length_bounds().items():
        yield pytest.param(field, "x" * (shortest or 0), True, id=f"{field}-len-{shortest or 0}")
        yield pytest.param(field, "x" * longest, True, id=f"{field}-len-{longest}")
        # Lengths count characters, not bytes, in both the contract and the model.
        yield pytest.param(field, "\u00fc" * longest, True, id=f"{field}-len-{longest}-non-ascii")
        if shortest:
            yield pytest.param(field, "x" * (shortest - 1), False, id=f"{field}-len-{shortest - 1}")
        yield pytest.param(field, "x" * (longest + 1), False, id=f"{field}-len-{longest + 1}")


BOUND_CASES = list(_bound_cases())


def test_bound_cases_cover_every_constrained_field() -> None:
    fields = {case.values[0] for case in BOUND_CASES}
    assert fields == set(REFERENCE_RANGES) | set(REFERENCE_LENGTHS)
    # Four cases per numeric field; the string cases include 1 and 100 (model), 30 (language).
    assert len(BOUND_CASES) >= 4 * len(REFERENCE_RANGES) + 4 * len(REFERENCE_LENGTHS)
    ids = {case.id for case in BOUND_CASES}
    assert {"model-len-1", "model-len-100", "model-len-0", "model-len-101"} <= ids
    assert {"language-len-30", "language-len-31"} <= ids
    assert {"context_utilization_final-min", "context_utilization_final-max"} <= ids


@pytest.mark.parametrize(("field", "value", "ok"), BOUND_CASES)
def test_event_bounds(field: str, value: Any, ok: bool) -> None:
    check_both("TaskCompletionEvent", {**VALID_EVENT, field: value}, ok, field=field)


@pytest.mark.parametrize(
    ("value", "ok"),
    [(0.0, True), (1.0, True), (-0.0001, False), (1.0001, False)],
)
def test_context_utilization_literal_bounds(value: float, ok: bool) -> None:
    check_both(
        "TaskCompletionEvent",
        {**VALID_EVENT, "context_utilization_final": value},
        ok,
        field="context_utilization_final",
    )


# --- required, optional, unknown fields ----------------------------------------------------


def test_valid_event_holds_exactly_the_required_fields() -> None:
    assert set(VALID_EVENT) == set(EVENT["required"])
    assert set(FULL_EVENT) == set(EVENT_PROPS)
    check_both("TaskCompletionEvent", VALID_EVENT, True)
    check_both("TaskCompletionEvent", FULL_EVENT, True)


@pytest.mark.parametrize("field", EVENT["required"])
def test_missing_required_field_is_rejected(field: str) -> None:
    data = {k: v for k, v in VALID_EVENT.items() if k != field}
    check_both("TaskCompletionEvent", data, False, field=field)
    with pytest.raises(ValidationError) as info:
        model_of("TaskCompletionEvent").model_validate(data)
    assert [e["type"] for e in info.value.errors()] == ["missing"]


@pytest.mark.parametrize("field", [f for f in EVENT_PROPS if f not in EVENT["required"]])
def test_optional_field_may_be_omitted(field: str) -> None:
    data = {k: v for k, v in FULL_EVENT.items() if k != field}
    check_both("TaskCompletionEvent", data, True)
    parsed = model_of("TaskCompletionEvent").model_validate(data)
    assert field not in parsed.model_fields_set
    default = EVENT_PROPS[field].get("default")
    assert getattr(parsed, field) == default


@pytest.mark.parametrize(
    "name",
    ["TaskCompletionEvent", "PredictionQuery", "BatchEventRequest", "PredictionBatchRequest"],
)
def test_unknown_field_is_rejected(name: str) -> None:
    valid: dict[str, Any] = {
        "TaskCompletionEvent": VALID_EVENT,
        "PredictionQuery": VALID_QUERY,
        "BatchEventRequest": {"events": [VALID_EVENT]},
        "PredictionBatchRequest": {"queries": [VALID_QUERY]},
    }[name]
    check_both(name, valid, True)
    check_both(name, {**valid, "unexpected": 1}, False, field="unexpected")
    with pytest.raises(ValidationError) as info:
        model_of(name).model_validate({**valid, "unexpected": 1})
    assert [e["type"] for e in info.value.errors()] == ["extra_forbidden"]


# MedianStatistics is a map in Python (dict[str, int], a type-override): checked below.
MAPS = {"MedianStatistics"}


@pytest.mark.parametrize(
    "name", sorted(n for n, s in SCHEMAS.items() if s.get("type") == "object" and n not in MAPS)
)
def test_extra_forbid_follows_additional_properties(name: str) -> None:
    """Request bodies (additionalProperties: false) forbid unknown fields; response bodies do
    not, so a server that adds a field does not break the SDK."""
    forbids = model_of(name).model_config.get("extra") == "forbid"
    assert forbids == (SCHEMAS[name].get("additionalProperties") is False)


# --- enum fields ---------------------------------------------------------------------------


def _enum_of(prop: dict[str, Any]) -> tuple[str, bool, bool] | None:
    """(enum component, nullable, is a list) of an enum-typed property, else None."""
    if "$ref" in prop:
        return prop["$ref"].rsplit("/", 1)[-1], False, False
    if "anyOf" in prop:
        refs = [p["$ref"] for p in prop["anyOf"] if "$ref" in p]
        if refs:
            return refs[0].rsplit("/", 1)[-1], {"type": "null"} in prop["anyOf"], False
    if prop.get("type") == "array" and "$ref" in prop["items"]:
        return prop["items"]["$ref"].rsplit("/", 1)[-1], False, True
    return None


ENUM_FIELDS = {f: e for f, p in EVENT_PROPS.items() if (e := _enum_of(p))}


def test_enum_fields_are_found() -> None:
    assert set(ENUM_FIELDS) == {
        "task_type",
        "complexity",
        "harness",
        "provider",
        "outcome",
        "quality_gates_run",
        "quality_gates_failed",
        "repo_size_category",
    }


def _wrap(value: Any, as_list: bool) -> Any:
    return [value] if as_list else value


@pytest.mark.parametrize("field", sorted(ENUM_FIELDS))
def test_enum_field_accepts_every_contract_value(field: str) -> None:
    enum, _, as_list = ENUM_FIELDS[field]
    for value in SCHEMAS[enum]["enum"]:
        check_both(
            "TaskCompletionEvent", {**FULL_EVENT, field: _wrap(value, as_list)}, True, field=field
        )


@pytest.mark.parametrize("field", sorted(ENUM_FIELDS))
@pytest.mark.parametrize("kind", ["unknown", "upper-case", "member-name", "empty"])
def test_enum_field_rejects_other_strings(field: str, kind: str) -> None:
    enum, _, as_list = ENUM_FIELDS[field]
    first = SCHEMAS[enum]["enum"][0]
    bad = {
        "unknown": "not_a_real_value",
        "upper-case": first.upper(),
        "member-name": SCHEMAS[enum]["x-enum-varnames"][0],
        "empty": "",
    }[kind]
    assert bad not in SCHEMAS[enum]["enum"]
    check_both(
        "TaskCompletionEvent", {**FULL_EVENT, field: _wrap(bad, as_list)}, False, field=field
    )


@pytest.mark.parametrize(
    "field", sorted(f for f, (_, _, as_list) in ENUM_FIELDS.items() if not as_list)
)
def test_enum_field_null_only_where_nullable(field: str) -> None:
    _, nullable, _ = ENUM_FIELDS[field]
    check_both("TaskCompletionEvent", {**FULL_EVENT, field: None}, nullable, field=field)


def test_naive_timestamp_is_rejected() -> None:
    """RFC 3339 needs an offset: the model (AwareDatetime) and `format: date-time` agree."""
    check_both(
        "TaskCompletionEvent", {**VALID_EVENT, "timestamp": "2026-01-02T03:04:05+02:00"}, True
    )
    check_both(
        "TaskCompletionEvent",
        {**VALID_EVENT, "timestamp": "2026-01-02T03:04:05"},
        False,
        field="timestamp",
    )


def test_instance_id_must_be_a_uuid() -> None:
    check_both(
        "TaskCompletionEvent",
        {**VALID_EVENT, "instance_id": "not-a-uuid"},
        False,
        field="instance_id",
    )


# --- batch sizes ---------------------------------------------------------------------------


def _batch_cases() -> Iterator[Any]:
    for name, (field, _, _) in REFERENCE_BATCHES.items():
        prop = SCHEMAS[name]["properties"][field]
        low, high = prop["minItems"], prop["maxItems"]
        for size, ok in [(low, True), (high, True), (low - 1, False), (high + 1, False)]:
            yield pytest.param(name, field, size, ok, id=f"{name}-{size}")


@pytest.mark.parametrize(("name", "field", "size", "ok"), list(_batch_cases()))
def test_batch_size(name: str, field: str, size: int, ok: bool) -> None:
    item = VALID_EVENT if field == "events" else VALID_QUERY
    check_both(name, {field: [item] * size}, ok, field=field)


@pytest.mark.parametrize(
    ("name", "field", "sizes"),
    [
        ("BatchEventRequest", "events", (1, 100, 0, 101)),
        ("PredictionBatchRequest", "queries", (1, 50, 0, 51)),
    ],
)
def test_batch_literal_sizes(name: str, field: str, sizes: tuple[int, int, int, int]) -> None:
    item = VALID_EVENT if field == "events" else VALID_QUERY
    for size, ok in zip(sizes, (True, True, False, False), strict=True):
        check_both(name, {field: [item] * size}, ok, field=field)


def test_bad_item_in_batch_is_located() -> None:
    data = {"events": [VALID_EVENT, {**VALID_EVENT, "retry_count": 21}]}
    with pytest.raises(ValidationError) as info:
        model_of("BatchEventRequest").model_validate(data)
    assert [e["loc"] for e in info.value.errors()] == [("events", 1, "retry_count")]


# --- importing -----------------------------------------------------------------------------


def test_the_event_module_defines_the_event_side_alone() -> None:
    """models.py is what importing the SDK defines: the event's classes and nothing else."""
    assert defined_in(models) == EVENT_SIDE


def test_every_schema_is_one_class_of_one_module() -> None:
    """Each schema that is not a hand-written type (the enums, MedianStatistics) is a class of
    exactly one generated module: the split loses none and makes none twice."""
    hand_written = {n for n, s in SCHEMAS.items() if "enum" in s} | MAPS
    expected = set(SCHEMAS) - hand_written
    assert defined_in(models) | defined_in(prediction_models) == expected
    assert not defined_in(models) & defined_in(prediction_models)


@pytest.mark.parametrize(
    "code",
    [
        "import _mosaicstack_telemetry_generated.models as m; m.TaskCompletionEvent",
        "import _mosaicstack_telemetry_generated.prediction_models as m; m.PredictionResponse",
    ],
)
def test_generated_models_import_on_their_own(tmp_path: Path, code: str) -> None:
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if result.returncode != 0 and "circular import" not in result.stderr:
        pytest.fail(f"the import failed for another reason:\n{result.stderr}")
    assert result.returncode == 0, result.stderr


# --- reading liberally: the answers' open enums and median maps -------------------------------


def test_median_maps_are_dicts_with_a_required_median() -> None:
    """decisions.md: `data.cost_usd_micros['median']` works, whatever other statistics come."""
    data = {
        "input_tokens": {"p10": 1, "p25": 2, "median": 3, "p75": 4, "p90": 5},
        "output_tokens": {"p10": 1, "p25": 2, "median": 3, "p75": 4, "p90": 5},
        "cost_usd_micros": {"median": 919200, "p90": 2000000},
        "duration_ms": {"median": 45000},
        "correction_factors": {"input": 1.0, "output": 1.0},
        "quality": {"gate_pass_rate": 0.5, "success_rate": 0.5},
    }
    parsed = model_of("PredictionData").model_validate(data)
    assert parsed.cost_usd_micros["median"] == 919200
    assert parsed.cost_usd_micros == {"median": 919200, "p90": 2000000}
    assert type(parsed.duration_ms) is dict
    with pytest.raises(ValidationError, match="median"):
        model_of("PredictionData").model_validate({**data, "duration_ms": {"p90": 1}})
    with pytest.raises(ValidationError):
        model_of("PredictionData").model_validate({**data, "duration_ms": {"median": "slow"}})


@pytest.mark.parametrize(
    ("model", "data", "field"),
    [
        (
            "BatchEventResult",
            {"event_id": "3f1c2a9e-8b7d-4c6e-9f0a-1b2c3d4e5f60", "status": "superseded"},
            "status",
        ),
        (
            "BatchEventResult",
            {
                "event_id": "3f1c2a9e-8b7d-4c6e-9f0a-1b2c3d4e5f60",
                "status": "rejected",
                "code": "quota_exceeded",
            },
            "code",
        ),
        (
            "PredictionMetadata",
            {"sample_size": 0, "fallback_level": -1, "confidence": "very_high"},
            "confidence",
        ),
    ],
)
def test_open_enums_keep_a_value_they_do_not_know(
    model: str, data: dict[str, Any], field: str
) -> None:
    """A newer server's value is kept as sent (not a failure of the whole answer)."""
    parsed = model_of(model).model_validate(data)
    value = getattr(parsed, field)
    assert value == data[field]
    assert str(value) == data[field]
    assert value.known is False
    assert parsed.model_dump(mode="json")[field] == data[field]


def test_request_enums_stay_strict() -> None:
    with pytest.raises(ValidationError):
        model_of("PredictionQuery").model_validate(
            {"task_type": "a_new_type", "model": "m", "provider": "anthropic", "complexity": "low"}
        )
