"""The compatibility gate (scripts/compat, issue 13 item 3) on changed copies of the contract.

Each case takes today's contract as the released one and a changed copy as the working one.
Most run only the gate's own rules (fast); the cases Optic decides too run it as well (it is
installed once into a cache outside the repository; skipped without Node.js).
"""

from __future__ import annotations

import copy
import importlib.util
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
CONTRACT = ROOT / "openapi" / "telemetry-v1.yaml"
TODAY: dict[str, Any] = yaml.safe_load(CONTRACT.read_text(encoding="utf-8"))


def _load_gate() -> Any:
    spec = importlib.util.spec_from_file_location(
        "_compat_under_test", ROOT / "scripts" / "_compat.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


compat = _load_gate()
needs_node = pytest.mark.skipif(
    shutil.which("npm") is None, reason="Optic runs on Node.js (npm), which is not installed here"
)


def _next(version: str, part: str) -> str:
    major, minor, patch = (int(p) for p in version.split("."))
    bumped = {"patch": (major, minor, patch + 1), "minor": (major, minor + 1, 0)}
    return ".".join(map(str, bumped.get(part, (major + 1, 0, 0))))


#: Today's version and the next ones: a contract change made as docs/regenerating.md says
#: (a new version) must not turn this test red.
NOW: str = TODAY["info"]["version"]
PATCH, MINOR, MAJOR = (_next(NOW, part) for part in ("patch", "minor", "major"))


def bump(doc: dict[str, Any], version: str) -> None:
    doc["info"]["version"] = version


def event(doc: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = doc["components"]["schemas"]["TaskCompletionEvent"]
    return found


def write(tmp_path: Path, change: Callable[[dict[str, Any]], None]) -> tuple[Path, Path]:
    """Today's contract as the released one, and a changed copy as the working one."""
    released, working = tmp_path / "released.yaml", tmp_path / "working.yaml"
    released.write_text(CONTRACT.read_text(encoding="utf-8"), encoding="utf-8")
    changed = copy.deepcopy(TODAY)
    change(changed)
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    working.write_text(yaml.dump(changed, Dumper=dumper, sort_keys=False), encoding="utf-8")
    return released, working


def gate(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], change: Any, optic: bool = False
) -> tuple[int, str]:
    released, working = write(tmp_path, change)
    code = compat.gate(released, working, use_optic=optic)
    out = capsys.readouterr()
    return code, out.out + out.err


def rename_model(doc: dict[str, Any]) -> None:
    props = event(doc)["properties"]
    event(doc)["properties"] = {("model_id" if k == "model" else k): v for k, v in props.items()}
    event(doc)["required"] = ["model_id" if r == "model" else r for r in event(doc)["required"]]


def test_unchanged_passes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = gate(tmp_path, capsys, lambda doc: None)
    assert code == 0
    assert "nothing to check" in out


def test_any_change_needs_a_new_version(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    def describe(doc: dict[str, Any]) -> None:
        event(doc)["properties"]["model"]["description"] = "The model's identifier."

    code, out = gate(tmp_path, capsys, describe)
    assert code == 1
    assert "FAIL: info.version must move" in out
    assert (
        "[change] changed /components/schemas/TaskCompletionEvent/properties/model/description"
        in out
    )

    def describe_and_patch(doc: dict[str, Any]) -> None:
        describe(doc)
        bump(doc, PATCH)

    assert gate(tmp_path, capsys, describe_and_patch)[0] == 0


def test_an_optional_field_is_an_addition(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def add(version: str) -> Callable[[dict[str, Any]], None]:
        def change(doc: dict[str, Any]) -> None:
            event(doc)["properties"]["probe_calls"] = {
                "type": "integer",
                "minimum": 0,
                "default": 0,
            }
            bump(doc, version)

        return change

    code, out = gate(tmp_path, capsys, add(PATCH))
    assert code == 1
    assert "[addition] added /components/schemas/TaskCompletionEvent/properties/probe_calls" in out
    assert "additions need at least a new minor version" in out
    assert gate(tmp_path, capsys, add(MINOR))[0] == 0


def _new_required(doc: dict[str, Any]) -> None:
    event(doc)["properties"]["probe_calls"] = {"type": "integer", "minimum": 0}
    event(doc)["required"].append("probe_calls")


def _removed_optional(doc: dict[str, Any]) -> None:
    del event(doc)["properties"]["language"]


def _narrowed_length(doc: dict[str, Any]) -> None:
    event(doc)["properties"]["model"]["maxLength"] = 50


def _narrowed_maximum(doc: dict[str, Any]) -> None:
    event(doc)["properties"]["retry_count"]["maximum"] = 10


def _removed_request_value(doc: dict[str, Any]) -> None:
    doc["components"]["schemas"]["Provider"]["enum"].remove("custom")
    doc["components"]["schemas"]["Provider"]["x-enum-varnames"].remove("CUSTOM")


def _removed_response_value(doc: dict[str, Any]) -> None:
    doc["components"]["schemas"]["Confidence"]["enum"].remove("none")


def _removed_response_field(doc: dict[str, Any]) -> None:
    schema = doc["components"]["schemas"]["BatchEventResponse"]
    del schema["properties"]["rejected"]
    schema["required"].remove("rejected")


def _optional_response_field(doc: dict[str, Any]) -> None:
    doc["components"]["schemas"]["PredictionMetadata"]["required"].remove("sample_size")


def _removed_status(doc: dict[str, Any]) -> None:
    del doc["paths"]["/v1/events/batch"]["post"]["responses"]["413"]


def _public_now_private(doc: dict[str, Any]) -> None:
    del doc["paths"]["/v1/predictions/batch"]["post"]["security"]


CASES = {
    "renamed required field": (
        rename_model,
        "request POST /v1/events/batch.events[].model: removed",
    ),
    "new required request field": (_new_required, ".events[].probe_calls: now required"),
    "removed optional request field": (_removed_optional, ".events[].language: removed"),
    "narrowed maxLength": (_narrowed_length, "model: maxLength 100 -> 50"),
    "narrowed maximum": (_narrowed_maximum, "retry_count: maximum 20 -> 10"),
    "removed request enum value": (_removed_request_value, "values removed: ['custom']"),
    "removed response enum value": (_removed_response_value, "values removed: ['none']"),
    "removed response field": (_removed_response_field, "202.rejected: removed"),
    "response field made optional": (_optional_response_field, "sample_size: no longer required"),
    "removed status code": (_removed_status, "response 413 removed"),
    "public operation now authenticated": (_public_now_private, "now requires authentication"),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_a_breaking_change_needs_a_major_version(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    change, finding = CASES[name]

    def minor(doc: dict[str, Any]) -> None:
        change(doc)
        bump(doc, MINOR)

    def major(doc: dict[str, Any]) -> None:
        change(doc)
        bump(doc, MAJOR)

    code, out = gate(tmp_path, capsys, minor)
    assert code == 1, out
    assert "[breaking]" in out
    assert finding in out, out
    assert f"breaking changes need a new major version: {MINOR} after {NOW}" in out
    code, out = gate(tmp_path, capsys, major)
    assert code == 0, out
    assert finding in out  # still printed: the changelog of a major version


@needs_node
def test_optic_agrees_on_a_rename_and_misses_a_narrowed_length(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Why the gate has its own rules besides Optic: Optic passes a narrowed request length
    (and a removed request field) that `additionalProperties: false` makes breaking. (The
    working contract against the released one, with Optic, is scripts/test's own step.)"""
    started = time.monotonic()
    released, working = write(tmp_path, rename_model)
    passed, report = compat.optic(released, working)
    assert not passed
    assert "model_id" in report

    def narrowed_minor(doc: dict[str, Any]) -> None:
        _narrowed_length(doc)
        bump(doc, MINOR)

    code, out = gate(tmp_path, capsys, narrowed_minor, optic=True)
    assert "Optic: Checks:" in out  # Optic let it pass ...
    assert code == 1  # ... the gate does not
    assert "model: maxLength 100 -> 50" in out
    print(f"two Optic runs: {time.monotonic() - started:.1f} s")
