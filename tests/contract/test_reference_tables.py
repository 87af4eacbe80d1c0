"""The contract against the SDK reference's tables, and the hand-written enums against the contract.

shared/spec/sdk-reference.md lists every field, constraint and enum member; the contract must say
the same. The hand-written enums (mosaicstack_telemetry._enums, which the generated models import
instead of generating their own) must equal the contract's, name for name and value for value:
nothing else checks that the import datamodel-code-generator emits points at the right values.
"""

from __future__ import annotations

import json
import re
from enum import Enum
from pathlib import Path
from typing import Any

import pytest
import yaml

import mosaicstack_telemetry
from mosaicstack_telemetry import _enums

# isort: split
# After the SDK: the generated models cannot be imported first (see test_generated_models.py).
from _mosaicstack_telemetry_generated import models, prediction_models
from _mosaicstack_telemetry_generated.client.models import (
    complexity,
    harness,
    outcome,
    provider,
    quality_gate,
    repo_size_category,
    task_type,
)

ROOT = Path(__file__).resolve().parents[2]
CONTRACT_PATH = ROOT / "openapi" / "telemetry-v1.yaml"
REFERENCE_PATH = Path(__file__).resolve().parents[2].parent / "shared" / "spec" / "sdk-reference.md"

ENUMS = [
    "TaskType",
    "Complexity",
    "Harness",
    "Provider",
    "Outcome",
    "QualityGate",
    "RepoSizeCategory",
]
# The answers' open enums (x-open-enum): the reference types these fields `str`; the SDK's
# types are str enums that keep unknown values (docs/wire.md). Their members are checked in
# tests/contract/test_reachability.py, with every other enum of the contract.
OPEN_ENUMS = ["EventStatus", "RejectionCode", "Confidence"]
# Contract fields the reference predates (contract 1.1, docs/wire.md), by model.
BEYOND_REFERENCE = {"BatchEventResult": ["index", "code"], "BatchEventResponse": ["duplicate"]}


def _load_contract() -> dict[str, Any]:
    with CONTRACT_PATH.open(encoding="utf-8") as f:
        loaded = yaml.safe_load(f)
    assert isinstance(loaded, dict)
    return loaded


CONTRACT = _load_contract()
SCHEMAS: dict[str, Any] = CONTRACT["components"]["schemas"]
EVENT = SCHEMAS["TaskCompletionEvent"]


# --- the reference's markdown tables -------------------------------------------------------

Table = list[dict[str, str]]


def _cells(line: str) -> list[str]:
    """The cells of a markdown table row; `\\|` is a literal pipe inside a cell."""
    inner = line.strip()[1:-1]
    return [c.strip().replace("\\|", "|") for c in re.split(r"(?<!\\)\|", inner)]


def parse_tables(markdown: str, names: set[str]) -> dict[str, Table]:
    """The first table under each heading named in `names` (a sub-heading such as "Fields"
    stays with its section; any other heading at the same or a higher level ends it)."""
    tables: dict[str, Table] = {}
    current: str | None = None
    current_level = 0
    lines = markdown.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        heading = re.match(r"^(#{1,6})\s+(.*?)\s*$", line)
        if heading:
            level, text = len(heading.group(1)), heading.group(2).strip("` ")
            if text in names:
                current, current_level = text, level
            elif level <= current_level:
                current, current_level = None, 0
            i += 1
            continue
        if current and current not in tables and line.startswith("|"):
            header = _cells(line)
            assert re.fullmatch(r"\|[\s|:-]+\|", lines[i + 1].strip()), lines[i + 1]
            rows: Table = []
            i += 2
            while i < len(lines) and lines[i].startswith("|"):
                cells = _cells(lines[i])
                assert len(cells) == len(header), lines[i]
                rows.append(dict(zip(header, cells, strict=True)))
                i += 1
            tables[current] = rows
            continue
        i += 1
    return tables


def code(cell: str) -> str:
    """A cell's text without its backticks (`"testing"` -> "testing" for values)."""
    return cell.strip().strip("`")


@pytest.fixture(scope="module")
def reference() -> dict[str, Table]:
    if not REFERENCE_PATH.exists():
        pytest.skip(
            f"the SDK reference is not at {REFERENCE_PATH} (it sits beside the repository in the "
            "project's shared folder, which CI has); the contract cannot be compared with it here"
        )
    tables = parse_tables(REFERENCE_PATH.read_text(encoding="utf-8"), set(SCHEMAS))
    # The parser found what these tests rely on; a renamed heading must fail, not skip checks.
    missing = {*ENUMS, "TaskCompletionEvent"} - set(tables)
    assert not missing, f"no table found in the reference for {sorted(missing)}"
    return tables


def test_parser_reads_escaped_pipes_and_sections() -> None:
    markdown = "\n".join(
        [
            "## Other",
            "| A | B |",
            "|---|---|",
            "| x | y |",
            "## Thing",
            "Text.",
            "### Fields",
            "| Field | Type |",
            "|-------|------|",
            "| `a` | `str \\| None` |",
            "| `b` | `int` |",
            "## Next",
            "| Z |",
            "|---|",
            "| z |",
        ]
    )
    assert parse_tables(markdown, {"Thing", "Next"}) == {
        "Thing": [{"Field": "`a`", "Type": "`str | None`"}, {"Field": "`b`", "Type": "`int`"}],
        "Next": [{"Z": "z"}],
    }


# --- enums: contract == reference ----------------------------------------------------------


def _reference_description(name: str, row: dict[str, str]) -> str:
    """RepoSizeCategory's reference splits its description into an LOC column and the text;
    the contract writes them as one sentence, `< 1,000 LOC: scripts, single-file projects`."""
    if name != "RepoSizeCategory":
        return row["Description"]
    loc = row["Approximate LOC"].replace("--", "-")
    text = row["Description"]
    return f"{loc} LOC: {text[0].lower()}{text[1:]}"


@pytest.mark.parametrize("name", ENUMS)
def test_contract_enum_equals_reference(reference: dict[str, Table], name: str) -> None:
    rows = reference[name]
    component = SCHEMAS[name]
    assert component["type"] == "string"
    assert component["enum"] == [json.loads(code(r["Value"])) for r in rows]
    assert component["x-enum-varnames"] == [code(r["Member"]) for r in rows]
    assert component["x-enum-descriptions"] == [_reference_description(name, r) for r in rows]


def test_reference_enum_sections_are_the_contract_enums(reference: dict[str, Table]) -> None:
    contract_enums = {name for name, s in SCHEMAS.items() if "enum" in s}
    reference_enums = {name for name, rows in reference.items() if rows and "Member" in rows[0]}
    assert reference_enums == set(ENUMS)
    assert contract_enums == set(ENUMS) | set(OPEN_ENUMS)
    assert {name for name, s in SCHEMAS.items() if s.get("x-open-enum")} == set(OPEN_ENUMS)


# --- enums: hand-written == contract (no reference needed) ---------------------------------


@pytest.mark.parametrize("name", ENUMS)
def test_hand_written_enum_equals_contract(name: str) -> None:
    enum_cls = getattr(_enums, name)
    component = SCHEMAS[name]
    assert issubclass(enum_cls, str)
    assert issubclass(enum_cls, Enum)
    assert [(m.name, m.value) for m in enum_cls] == list(
        zip(component["x-enum-varnames"], component["enum"], strict=True)
    )
    # No aliases hiding behind a duplicated value.
    assert len(enum_cls.__members__) == len(component["enum"])


@pytest.mark.parametrize("name", ENUMS)
def test_generated_code_uses_the_contract_enums(name: str) -> None:
    enum_cls = getattr(_enums, name)
    # The pydantic models and the public API use the hand-written classes themselves.
    assert getattr(models, name) is enum_cls
    if hasattr(prediction_models, name):  # the query's dimensions
        assert getattr(prediction_models, name) is enum_cls
    assert getattr(mosaicstack_telemetry, name) is enum_cls
    # openapi-python-client makes its own Literal types; their values are the contract's too.
    client_modules = {
        "TaskType": (task_type, "TASK_TYPE_VALUES"),
        "Complexity": (complexity, "COMPLEXITY_VALUES"),
        "Harness": (harness, "HARNESS_VALUES"),
        "Provider": (provider, "PROVIDER_VALUES"),
        "Outcome": (outcome, "OUTCOME_VALUES"),
        "QualityGate": (quality_gate, "QUALITY_GATE_VALUES"),
        "RepoSizeCategory": (repo_size_category, "REPO_SIZE_CATEGORY_VALUES"),
    }
    module, values = client_modules[name]
    assert getattr(module, values) == set(SCHEMAS[name]["enum"])


@pytest.mark.parametrize("name", ENUMS)
def test_enum_str_and_format_are_the_value(name: str) -> None:
    for member in getattr(_enums, name):
        assert str(member) == member.value
        assert f"{member}" == member.value
        assert f"{member:>20}" == f"{member.value:>20}"
        assert "%s" % member == member.value  # noqa: UP031 - the %-format path is what is tested
        assert json.dumps(member) == json.dumps(member.value)


def test_str_of_testing() -> None:
    assert str(_enums.TaskType.TESTING) == "testing"
    assert f"{_enums.TaskType.TESTING}" == "testing"
    assert _enums.TaskType("testing") is _enums.TaskType.TESTING


# --- TaskCompletionEvent: contract == reference --------------------------------------------


def contract_type(prop: dict[str, Any]) -> str:
    """A contract property written as the reference writes Python types (`str | None`, ...)."""
    if "$ref" in prop:
        name = str(prop["$ref"]).rsplit("/", 1)[-1]
        target = SCHEMAS[name]
        if target.get("x-open-enum"):
            return "str"  # a str enum that keeps unknown values (the reference says str)
        if isinstance(target.get("additionalProperties"), dict):
            return contract_type(target)  # a named map, e.g. MedianStatistics
        return name
    if "anyOf" in prop:
        parts = [p for p in prop["anyOf"] if p != {"type": "null"}]
        assert len(parts) == 1, prop
        nullable = len(parts) < len(prop["anyOf"])
        return contract_type(parts[0]) + (" | None" if nullable else "")
    kind = prop["type"]
    if isinstance(kind, list):
        rest = [k for k in kind if k != "null"]
        assert len(rest) == 1, prop
        return contract_type({**prop, "type": rest[0]}) + (" | None" if "null" in kind else "")
    if kind == "string":
        return {"uuid": "UUID", "date-time": "datetime"}.get(prop.get("format", ""), "str")
    if kind == "array":
        return f"list[{contract_type(prop['items'])}]"
    if kind == "object":
        return f"dict[str, {contract_type(prop['additionalProperties'])}]"
    return {"integer": "int", "number": "float", "boolean": "bool"}[kind]


NUMBER = r"(\d[\d,]*(?:\.\d+)?)"


def _number(text: str, kind: str) -> int | float:
    plain = text.replace(",", "")
    return float(plain) if kind == "number" else int(plain)


def expected_keywords(constraint: str, prop: dict[str, Any]) -> dict[str, Any]:
    """The contract keywords a reference constraint cell stands for; unknown wording fails."""
    kind = prop.get("type")
    if isinstance(kind, list):
        kind = next(k for k in kind if k != "null")
    # "Valid UUID" is `format: uuid`, which the Type column (`UUID`) already checks.
    if constraint in {"--", "Enum value", "Valid UUID"}:
        return {}
    if m := re.fullmatch(rf"{NUMBER}--{NUMBER} chars", constraint):
        return {"minLength": int(m.group(1)), "maxLength": int(m.group(2))}
    if m := re.fullmatch(rf"Max {NUMBER} chars", constraint):
        return {"maxLength": int(m.group(1))}
    if m := re.fullmatch(rf"{NUMBER}--{NUMBER}", constraint):
        return {"minimum": _number(m.group(1), kind), "maximum": _number(m.group(2), kind)}
    raise AssertionError(f"the reference's constraint {constraint!r} is not understood")


CONSTRAINT_KEYWORDS = (
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "minLength",
    "maxLength",
    "pattern",
    "minItems",
    "maxItems",
)


def test_constraint_wording_is_understood() -> None:
    integer, number, string = {"type": "integer"}, {"type": "number"}, {"type": ["string", "null"]}
    assert expected_keywords("0--86,400,000", integer) == {"minimum": 0, "maximum": 86_400_000}
    assert expected_keywords("0.0--1.0", number) == {"minimum": 0.0, "maximum": 1.0}
    assert expected_keywords("1--100 chars", string) == {"minLength": 1, "maxLength": 100}
    assert expected_keywords("Max 30 chars", string) == {"maxLength": 30}
    with pytest.raises(AssertionError, match="not understood"):
        expected_keywords("at most 5", integer)


@pytest.fixture(scope="module")
def event_rows(reference: dict[str, Table]) -> dict[str, dict[str, str]]:
    rows = {code(r["Field"]): r for r in reference["TaskCompletionEvent"]}
    assert len(rows) == len(reference["TaskCompletionEvent"]), "a field is listed twice"
    return rows


def test_event_fields_are_the_contract_fields(event_rows: dict[str, dict[str, str]]) -> None:
    assert list(event_rows) == list(EVENT["properties"])
    assert EVENT["additionalProperties"] is False


@pytest.mark.parametrize("field", list(EVENT["properties"]))
def test_event_field_matches_reference(event_rows: dict[str, dict[str, str]], field: str) -> None:
    assert field in event_rows, (
        f"{field}: no row in the TaskCompletionEvent table of the SDK reference "
        "(shared/spec/sdk-reference.md); see docs/regenerating.md, step 4"
    )
    row = event_rows[field]
    prop = EVENT["properties"][field]
    assert row["Required"] in {"Yes", "No"}
    assert (field in EVENT["required"]) == (row["Required"] == "Yes")
    assert contract_type(prop) == code(row["Type"])

    expected = expected_keywords(row["Constraints"], prop)
    actual = {k: prop[k] for k in CONSTRAINT_KEYWORDS if k in prop}
    assert actual == expected
    for key, value in expected.items():  # 0 == 0.0 in Python; the JSON type must match too
        assert type(actual[key]) is type(value), (key, actual[key])
    if row["Constraints"] == "Enum value":
        assert contract_type(prop).removesuffix(" | None") in ENUMS

    # A literal default in the reference's description is the contract's default.
    default = re.search(r"\(default: `(.*?)`\)", row["Description"])
    if default:
        assert prop["default"] == json.loads(default.group(1))
    elif field not in EVENT["required"]:
        # Server-assigned (event_id, timestamp) or nullable fields whose default is null.
        assert prop.get("default") is None, (
            f"{field}: the contract's default {prop['default']!r} is not in its reference row; "
            f"end the row's description with (default: `{json.dumps(prop['default'])}`)"
        )


# --- the other model tables: same fields and types -----------------------------------------

MODEL_TABLES = [
    "PredictionQuery",
    "PredictionResponse",
    "PredictionData",
    "TokenDistribution",
    "CorrectionFactors",
    "QualityPrediction",
    "PredictionMetadata",
    "BatchEventRequest",
    "BatchEventResponse",
    "BatchEventResult",
]


@pytest.mark.parametrize("name", MODEL_TABLES)
def test_model_table_matches_contract(reference: dict[str, Table], name: str) -> None:
    assert name in reference, f"no table for {name} in the reference"
    rows = reference[name]
    properties = SCHEMAS[name]["properties"]
    beyond = BEYOND_REFERENCE.get(name, [])
    assert [code(r["Field"]) for r in rows] == [p for p in properties if p not in beyond]
    assert set(beyond) <= set(properties)
    for row in rows:
        assert contract_type(properties[code(row["Field"])]) == code(row["Type"]), row


def test_batch_event_request_items(reference: dict[str, Table]) -> None:
    (row,) = reference["BatchEventRequest"]
    m = re.fullmatch(rf"{NUMBER}--{NUMBER} items", row["Constraints"])
    assert m, row["Constraints"]
    events = SCHEMAS["BatchEventRequest"]["properties"]["events"]
    assert (events["minItems"], events["maxItems"]) == (int(m.group(1)), int(m.group(2)))
