"""generated/ is what scripts/generate makes from the contract; the drift check sees a change.

Two generator runs in all (a few seconds each): `--check` on the repository itself, and `--check`
on a copy of it whose contract has one changed description.
"""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
GENERATE = ROOT / "scripts" / "_generate.py"
CONTRACT = ROOT / "openapi" / "telemetry-v1.yaml"
PACKAGE_DIR = ROOT / "generated" / "_mosaicstack_telemetry_generated"
HEADER = "# Generated from openapi/telemetry-v1.yaml by scripts/generate. Do not edit."

# One description of the event, one of a prediction: the check covers both models modules.
# Each new one is exactly as long as the old one, so the formatter wraps the lines as before.
CHANGES = {
    "description: Task wall-clock time in milliseconds.": (
        "description: Task wall-clock time in MILLISECONDS."
    ),
    "description: 10th percentile.": "description: 10TH percentile.",
}


def run_check(script: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    """`scripts/generate --check`, run with this interpreter: _generate.py takes its generators
    (datamodel-codegen, openapi-python-client, ruff) from this interpreter's bin/ folder, and
    both of the project's venvs (3.11 and 3.10) have them (the dev extra)."""
    return subprocess.run(
        [sys.executable, str(script), "--check"],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def generated_files(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): p.read_text(encoding="utf-8")
        for p in sorted(root.rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts
    }


def test_this_interpreter_has_the_generators() -> None:
    for tool in ("datamodel-codegen", "openapi-python-client", "ruff"):
        assert (Path(sys.executable).parent / tool).exists(), (
            f"{tool} missing next to {sys.executable}"
        )


def load_generate() -> Any:
    spec = importlib.util.spec_from_file_location("_generate_under_test", GENERATE)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_header_constant_is_the_scripts() -> None:
    assert load_generate().HEADER == HEADER


def test_each_models_module_is_made_from_the_schemas_it_reaches(tmp_path: Path) -> None:
    """The contract copy given to datamodel-codegen per module: its roots, what they reference
    (enums too: their type-overrides then apply), in the contract's order, and nothing else."""
    generate = load_generate()
    copies = generate.model_contracts(CONTRACT, tmp_path)
    assert set(copies) == {"models", "prediction_models"}
    full = yaml.safe_load(CONTRACT.read_text(encoding="utf-8"))["components"]["schemas"]
    kept = {
        module: list(yaml.safe_load(path.read_text(encoding="utf-8"))["components"]["schemas"])
        for module, path in copies.items()
    }
    assert kept["models"] == [
        "TaskType",
        "Complexity",
        "Harness",
        "Provider",
        "Outcome",
        "QualityGate",
        "RepoSizeCategory",
        "TaskCompletionEvent",
        "BatchEventRequest",
        "EventStatus",
        "RejectionCode",
        "BatchEventResult",
        "BatchEventResponse",
    ]
    assert set(kept["models"]) | set(kept["prediction_models"]) == set(full)
    assert kept["prediction_models"] == [n for n in full if n in kept["prediction_models"]]


def test_a_schema_no_module_reaches_stops_the_generation(tmp_path: Path) -> None:
    generate = load_generate()
    contract = yaml.safe_load(CONTRACT.read_text(encoding="utf-8"))
    contract["components"]["schemas"]["Orphan"] = {"type": "object", "properties": {}}
    path = tmp_path / "contract.yaml"
    path.write_text(yaml.safe_dump(contract, sort_keys=False), encoding="utf-8")
    with pytest.raises(SystemExit, match=r"no generated module reaches components\.schemas Orphan"):
        generate.model_contracts(path, tmp_path)


def test_a_class_in_two_modules_stops_the_generation(tmp_path: Path) -> None:
    generate = load_generate()
    (tmp_path / "models.py").write_text("class Shared(BaseModel):\n    pass\n")
    (tmp_path / "prediction_models.py").write_text("class Shared(BaseModel):\n    pass\n")
    with pytest.raises(
        SystemExit, match=r"both models\.py and prediction_models\.py define Shared"
    ):
        generate._one_class_per_name(tmp_path)


def test_every_generated_file_starts_with_the_header() -> None:
    files = generated_files(PACKAGE_DIR)
    # The listing is the real package, not an empty folder that would pass vacuously.
    assert {
        "__init__.py",
        "py.typed",
        "models.py",
        "prediction_models.py",
        "telemetry-v1.yaml",
        "client/__init__.py",
        "client/client.py",
        "client/api/events/submit_events_batch.py",
        "client/api/predictions/query_predictions_batch.py",
    } <= set(files)
    for name, text in files.items():
        assert text.splitlines()[0] == HEADER, f"generated/{name} lacks the header"


def test_shipped_contract_copy_is_the_contract() -> None:
    shipped = (PACKAGE_DIR / "telemetry-v1.yaml").read_text(encoding="utf-8")
    assert shipped == f"{HEADER}\n{CONTRACT.read_text(encoding='utf-8')}"


def test_generate_check_passes_on_the_repository() -> None:
    started = time.monotonic()
    result = run_check(GENERATE, ROOT)
    elapsed = time.monotonic() - started
    assert result.returncode == 0, (
        "generated/ is stale: run scripts/generate and commit generated/ with the contract\n"
        f"{result.stdout}{result.stderr}"
    )
    assert "generated/ is up to date with the contract." in result.stdout
    print(f"scripts/generate --check on the repository: {elapsed:.1f} s")


def test_generate_check_detects_a_changed_contract(tmp_path: Path) -> None:
    copy = tmp_path / "repo"
    copy.mkdir()
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for folder in ("openapi", "generated", "scripts"):
        shutil.copytree(ROOT / folder, copy / folder, ignore=ignore)
    shutil.copy2(ROOT / "pyproject.toml", copy / "pyproject.toml")

    contract = copy / "openapi" / "telemetry-v1.yaml"
    text = contract.read_text(encoding="utf-8")
    for old, new in CHANGES.items():
        assert text.count(old) == 1
        assert len(new) == len(old)
        text = text.replace(old, new)
    contract.write_text(text, encoding="utf-8")
    before = generated_files(copy / "generated")

    started = time.monotonic()
    result = run_check(copy / "scripts" / "_generate.py", copy)
    elapsed = time.monotonic() - started

    assert result.returncode == 1, result.stdout + result.stderr
    assert "generated/ is stale" in result.stderr
    diff = result.stdout.splitlines()
    changed = [line for line in diff if line[:1] in "+-" and not line.startswith(("+++", "---"))]
    for old, new in CHANGES.items():
        old_text, new_text = old.removeprefix("description: "), new.removeprefix("description: ")
        assert any(line.startswith("-") and old_text in line for line in changed), result.stdout
        assert any(line.startswith("+") and new_text in line for line in changed), result.stdout
    # The diff shows these changes and nothing else: the copy regenerates exactly as the repo
    # does.
    words = [w.removeprefix("description: ") for pair in CHANGES.items() for w in pair]
    assert all(any(w in line for w in words) for line in changed), result.stdout
    # It names the files the descriptions reach: each models module, the client's models, the
    # copy, and the event's JSON Schema (the CLI's validator, issue 16).
    touched = {line.split("/", 2)[-1] for line in diff if line.startswith("+++ ")}
    assert touched == {
        "models.py",
        "prediction_models.py",
        "client/models/task_completion_event.py",
        "client/models/token_distribution.py",
        "telemetry-v1.yaml",
        "event_schema.py",
    }, touched
    # --check only reports: the copy's generated/ is left as it was.
    assert generated_files(copy / "generated") == before
    print(f"scripts/generate --check on a drifted copy: {elapsed:.1f} s")
