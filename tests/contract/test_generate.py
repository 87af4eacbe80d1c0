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

ROOT = Path(__file__).resolve().parents[2]
GENERATE = ROOT / "scripts" / "_generate.py"
CONTRACT = ROOT / "openapi" / "telemetry-v1.yaml"
PACKAGE_DIR = ROOT / "generated" / "_mosaicstack_telemetry_generated"
HEADER = "# Generated from openapi/telemetry-v1.yaml by scripts/generate. Do not edit."

OLD_DESCRIPTION = "description: Task wall-clock time in milliseconds."
# Exactly as long as the old one, so the formatter wraps the changed lines as before.
NEW_DESCRIPTION = "description: Task wall-clock time in MILLISECONDS."


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


def test_header_constant_is_the_scripts() -> None:
    spec = importlib.util.spec_from_file_location("_generate_under_test", GENERATE)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.HEADER == HEADER


def test_every_generated_file_starts_with_the_header() -> None:
    files = generated_files(PACKAGE_DIR)
    # The listing is the real package, not an empty folder that would pass vacuously.
    assert {
        "__init__.py",
        "py.typed",
        "models.py",
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
    assert text.count(OLD_DESCRIPTION) == 1
    assert len(NEW_DESCRIPTION) == len(OLD_DESCRIPTION)
    contract.write_text(text.replace(OLD_DESCRIPTION, NEW_DESCRIPTION), encoding="utf-8")
    before = generated_files(copy / "generated")

    started = time.monotonic()
    result = run_check(copy / "scripts" / "_generate.py", copy)
    elapsed = time.monotonic() - started

    assert result.returncode == 1, result.stdout + result.stderr
    assert "generated/ is stale" in result.stderr
    diff = result.stdout.splitlines()
    changed = [line for line in diff if line[:1] in "+-" and not line.startswith(("+++", "---"))]
    old_text = OLD_DESCRIPTION.removeprefix("description: ")
    new_text = NEW_DESCRIPTION.removeprefix("description: ")
    assert any(line.startswith("-") and old_text in line for line in changed), result.stdout
    assert any(line.startswith("+") and new_text in line for line in changed), result.stdout
    # The diff shows this change and nothing else: the copy regenerates exactly as the repo does.
    assert all(old_text in line or new_text in line for line in changed), result.stdout
    # It names the files the description reaches: the models, the client's model, the copy,
    # and the event's JSON Schema (the CLI's validator, issue 16).
    touched = {line.split("/", 2)[-1] for line in diff if line.startswith("+++ ")}
    assert touched == {
        "models.py",
        "client/models/task_completion_event.py",
        "telemetry-v1.yaml",
        "event_schema.py",
    }, touched
    # --check only reports: the copy's generated/ is left as it was.
    assert generated_files(copy / "generated") == before
    print(f"scripts/generate --check on a drifted copy: {elapsed:.1f} s")
