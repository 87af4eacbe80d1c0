"""The wheel: what it ships, what it declares, and that it works installed on its own, on
Python 3.10 (the minimum supported), with a real client delivering to a local server.

Slow (a wheel build, a fresh 3.10 venv and a pip install from the package index, and a second
build through `scripts/build --dev`), so these run once per `scripts/test`, on its
default-Python pass; the wheel is built once for the module.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
import zipfile
from datetime import datetime, timezone
from email.parser import Parser
from pathlib import Path

import pytest
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[2]
VERSION = "0.1.0"
HEADER = "# Generated from openapi/telemetry-v1.yaml by scripts/generate. Do not edit."
# The local server's page: its HTML, script and style sheet ship as package data.
PAGE_ASSETS = ["app.css", "app.js", "index.html"]
DIST_INFO = f"mosaicstack_telemetry-{VERSION}.dist-info"
RUNTIME_DEPENDENCIES = {"httpx", "pydantic", "attrs", "python-dateutil"}
UNBOUNDED_ALLOWED = {"attrs"}

pytestmark = [
    pytest.mark.skipif(
        sys.version_info < (3, 11),
        reason=(
            "the wheel is pure Python and built the same way whatever runs pytest: it is built "
            "and checked once per scripts/test run, on the default-Python (3.11) pass, which "
            "installs it into a fresh Python 3.10 venv; the 3.10 pass skips a second build"
        ),
    ),
    pytest.mark.timeout(900),
]


def run(
    cmd: list[str], cwd: Path, *, timeout: float = 600, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False, env=env
    )
    assert result.returncode == 0, f"{cmd} failed:\n{result.stdout}\n{result.stderr}"
    return result


def clean_env() -> dict[str, str]:
    """The environment minus anything that would put the repository on a child's path."""
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "PYTHONHOME"}}
    env.pop("VIRTUAL_ENV", None)
    return env


def metadata_of(wheel: Path) -> tuple[list[str], dict[str, list[str]]]:
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        dist_info = next(n.split("/")[0] for n in names if n.endswith(".dist-info/METADATA"))
        text = zf.read(f"{dist_info}/METADATA").decode()
    message = Parser().parsestr(text)
    fields: dict[str, list[str]] = {}
    for key, value in message.items():
        fields.setdefault(key, []).append(value)
    return names, fields


# --- the wheel -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, float, set[str]]:
    out = tmp_path_factory.mktemp("wheel")
    # What the wheel must ship, as the source tree holds it when the build starts.
    sources = {
        str(p.relative_to(ROOT / "src"))
        for p in (ROOT / "src" / "mosaicstack_telemetry").rglob("*.py")
        if "__pycache__" not in p.parts
    } | {
        str(p.relative_to(ROOT / "generated"))
        for p in (ROOT / "generated" / "_mosaicstack_telemetry_generated").rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }
    static = ROOT / "src" / "mosaicstack_telemetry" / "server" / "static"
    sources |= {str(p.relative_to(ROOT / "src")) for p in static.rglob("*") if p.is_file()}
    started = time.monotonic()
    run([sys.executable, "-m", "build", "--wheel", "--outdir", str(out), str(ROOT)], ROOT)
    elapsed = time.monotonic() - started
    (wheel,) = out.glob("*.whl")
    return wheel, elapsed, sources


def test_wheel_name(built: tuple[Path, float, set[str]]) -> None:
    wheel, elapsed, _ = built
    assert wheel.name == f"mosaicstack_telemetry-{VERSION}-py3-none-any.whl"
    print(f"wheel build: {elapsed:.1f} s")


def test_wheel_contents(built: tuple[Path, float, set[str]]) -> None:
    wheel, _, sources = built
    names, _ = metadata_of(wheel)
    assert {
        "mosaicstack_telemetry/__init__.py",
        "mosaicstack_telemetry/py.typed",
        "_mosaicstack_telemetry_generated/__init__.py",
        "_mosaicstack_telemetry_generated/py.typed",
        "_mosaicstack_telemetry_generated/models.py",
        "_mosaicstack_telemetry_generated/prediction_models.py",
        "_mosaicstack_telemetry_generated/client/client.py",
        "_mosaicstack_telemetry_generated/client/api/events/submit_events_batch.py",
        "_mosaicstack_telemetry_generated/client/api/predictions/query_predictions_batch.py",
        "_mosaicstack_telemetry_generated/telemetry-v1.yaml",
        *(f"mosaicstack_telemetry/server/static/{name}" for name in PAGE_ASSETS),
    } <= set(names)
    missing = sources - set(names)
    assert not missing, f"in the source tree but not in the wheel: {sorted(missing)}"
    # Only the two packages and the metadata: no tests, venvs, caches or build leftovers.
    assert {n.split("/")[0] for n in names} == {
        "mosaicstack_telemetry",
        "_mosaicstack_telemetry_generated",
        DIST_INFO,
    }
    for name in names:
        parts = name.split("/")
        assert not {"tests", ".venv", ".venv-py310", "__pycache__"} & set(parts), name
        assert not name.endswith((".pyc", ".orig")), name


def test_wheel_ships_the_generated_files_unchanged(built: tuple[Path, float, set[str]]) -> None:
    wheel, _, _ = built
    package = ROOT / "generated" / "_mosaicstack_telemetry_generated"
    with zipfile.ZipFile(wheel) as zf:
        for name in ("models.py", "prediction_models.py", "client/client.py", "telemetry-v1.yaml"):
            shipped = zf.read(f"_mosaicstack_telemetry_generated/{name}").decode()
            assert shipped == (package / name).read_text(encoding="utf-8"), name
            assert shipped.startswith(HEADER)


def test_wheel_metadata(built: tuple[Path, float, set[str]]) -> None:
    wheel, _, _ = built
    _, fields = metadata_of(wheel)
    assert fields["Name"] == ["mosaicstack-telemetry"]
    assert fields["Version"] == [VERSION]
    assert fields["Requires-Python"] == [">=3.10"]

    requirements = [Requirement(r) for r in fields["Requires-Dist"]]
    runtime = [r for r in requirements if r.marker is None]
    optional = [r for r in requirements if r.marker is not None]
    assert sorted(r.name for r in runtime) == sorted(RUNTIME_DEPENDENCIES)
    for req in runtime:
        assert not req.extras, req
        operators = {spec.operator for spec in req.specifier}
        assert operators & {">=", "~=", "=="}, f"{req} has no lower bound"
        if req.name not in UNBOUNDED_ALLOWED:
            assert operators & {"<", "<=", "~=", "=="}, f"{req} has no upper bound"
    # Everything else belongs to an extra: a user's app installs only the four above.
    extras = set(fields.get("Provides-Extra", []))
    for req in optional:
        named = re.findall(r"""extra == ['"]([^'"]+)['"]""", str(req.marker))
        assert named, f"{req} is required outside any extra"
        assert set(named) <= extras, req


# --- installed in a fresh venv -------------------------------------------------------------

IN_VENV = """
import importlib, importlib.metadata, importlib.resources, json, pkgutil, sys

import mosaicstack_telemetry
import _mosaicstack_telemetry_generated.models as models
import _mosaicstack_telemetry_generated.prediction_models as prediction_models
import _mosaicstack_telemetry_generated.client as client

# The whole generated client imports with the runtime dependencies alone.
for info in pkgutil.walk_packages(client.__path__, client.__name__ + "."):
    importlib.import_module(info.name)

event = models.TaskCompletionEvent(
    instance_id="12345678-1234-4234-8234-123456789abc",
    task_duration_ms=86_400_000,
    task_type=mosaicstack_telemetry.TaskType.TESTING,
    complexity="high",
    harness="aider",
    model="m" * 100,
    provider="anthropic",
    estimated_input_tokens=1,
    estimated_output_tokens=2,
    actual_input_tokens=3,
    actual_output_tokens=4,
    estimated_cost_usd_micros=5,
    actual_cost_usd_micros=6,
    quality_gate_passed=True,
    context_compactions=100,
    context_rotations=50,
    context_utilization_final=1.0,
    outcome="success",
    retry_count=20,
    quality_gates_run=["build", "test"],
)
try:
    models.TaskCompletionEvent(**{**event.model_dump(), "retry_count": 21})
except ValueError:
    rejected = True
else:
    rejected = False
answer = mosaicstack_telemetry.PredictionResponse.model_validate(
    {"prediction": None, "metadata": {"sample_size": 0, "fallback_level": -1, "confidence": "none"}}
)
contract = importlib.resources.files("_mosaicstack_telemetry_generated") / "telemetry-v1.yaml"
# Read without importing the server (its extra is not installed here).
static = importlib.resources.files("mosaicstack_telemetry") / "server" / "static"
print(json.dumps({
    "prefix": sys.prefix,
    "sdk_file": mosaicstack_telemetry.__file__,
    "models_file": models.__file__,
    "prediction_models_file": prediction_models.__file__,
    "prediction_is_generated": type(answer) is prediction_models.PredictionResponse,
    "client_file": client.__file__,
    "version": importlib.metadata.version("mosaicstack-telemetry"),
    "event": event.model_dump(mode="json", exclude_unset=True),
    "task_type_is_public_enum": type(event.task_type) is mosaicstack_telemetry.TaskType,
    "out_of_range_rejected": rejected,
    "contract_first_line": contract.read_text().splitlines()[0],
    "page_assets": sorted(p.name for p in static.iterdir() if p.is_file()),
    "page_script_bytes": len((static / "app.js").read_bytes()),
}))
"""


def find_python310() -> str | None:
    """The minimum supported Python, found as scripts/install finds it."""
    result = subprocess.run(
        ["bash", "-c", "source scripts/_env.sh && find_python310"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    found = result.stdout.strip()
    return found if result.returncode == 0 and found else None


@pytest.fixture(scope="module")
def venv310(built: tuple[Path, float, set[str]], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv of Python 3.10, the minimum supported, with the wheel installed from the
    package index's dependencies: what a user on the oldest Python gets."""
    python310 = find_python310()
    if python310 is None:
        pytest.skip("no Python 3.10 on this machine (set PYTHON310; scripts/install needs it)")
    wheel, _, _ = built
    venv = tmp_path_factory.mktemp("venv310") / "venv"
    started = time.monotonic()
    run([python310, "-m", "venv", str(venv)], venv.parent, env=clean_env())
    python = venv / "bin" / "python"
    # Dependencies come from the package index: this is a real install, not an editable one.
    run(
        [
            str(python),
            "-m",
            "pip",
            "install",
            "--no-input",
            "--disable-pip-version-check",
            str(wheel),
        ],
        venv.parent,
        env=clean_env(),
    )
    print(f"fresh Python 3.10 venv + pip install: {time.monotonic() - started:.1f} s")
    run([str(python), "-m", "pip", "check"], venv.parent, env=clean_env())
    return python


def test_wheel_installs_and_works_in_a_fresh_venv(venv310: Path, tmp_path: Path) -> None:
    # -I: no current directory, PYTHONPATH or user site on the path, only the venv's packages.
    result = run([str(venv310), "-I", "-c", IN_VENV], tmp_path, env=clean_env())
    report = json.loads(result.stdout.strip().splitlines()[-1])

    prefix = Path(report["prefix"]).resolve()
    assert prefix == venv310.parent.parent.resolve()
    for key in ("sdk_file", "models_file", "prediction_models_file", "client_file"):
        location = Path(report[key]).resolve()
        assert location.is_relative_to(prefix / "lib"), (key, location)
        assert not location.is_relative_to(ROOT), (key, location)
    assert report["version"] == VERSION
    assert report["task_type_is_public_enum"] is True
    assert report["prediction_is_generated"] is True
    assert report["out_of_range_rejected"] is True
    assert report["event"]["task_type"] == "testing"
    assert report["event"]["retry_count"] == 20
    assert report["event"]["quality_gates_run"] == ["build", "test"]
    assert report["contract_first_line"] == HEADER
    assert report["page_assets"] == PAGE_ASSETS
    assert report["page_script_bytes"] == len(
        (ROOT / "src" / "mosaicstack_telemetry" / "server" / "static" / "app.js").read_bytes()
    )


CLIENT = """
import asyncio, dataclasses, json, os, sys

import mosaicstack_telemetry
from mosaicstack_telemetry import EventBuilder, TelemetryClient, TelemetryConfig

config = TelemetryConfig(**json.loads(os.environ["WHEEL_CLIENT_CONFIG"]))

def track(client, n):
    ids = []
    for i in range(n):
        event = EventBuilder(config.instance_id).model("wheel-3.10").duration_ms(i + 1).build()
        client.track(event)
        ids.append(str(event.event_id))
    return ids

client = TelemetryClient(config)
client.start()
sync_ids = track(client, 5)
client.stop()
sync_stats = dataclasses.asdict(client.stats())

async def main():
    async with TelemetryClient(config) as client:
        ids = track(client, 4)
    return ids, dataclasses.asdict(client.stats())

async_ids, async_stats = asyncio.run(main())
print(json.dumps({
    "python": list(sys.version_info[:2]),
    "sdk_file": mosaicstack_telemetry.__file__,
    "sync": {"ids": sync_ids, "stats": sync_stats},
    "async": {"ids": async_ids, "stats": async_stats},
}))
"""


def test_the_installed_wheel_delivers_to_a_local_server_on_python_310(
    venv310: Path, tmp_path: Path
) -> None:
    """A real client, sync and async, from the wheel installed on Python 3.10, against the local
    server running here: every event is stored, and the key shows nowhere in its output."""
    import secrets
    import uuid

    from mosaicstack_telemetry.server import start_server

    key, instance = secrets.token_hex(32), str(uuid.uuid4())
    with start_server(keys={key: instance}) as server:
        env = clean_env()
        env["WHEEL_CLIENT_CONFIG"] = json.dumps(
            {
                "server_url": server.url,
                "api_key": key,
                "instance_id": instance,
                "submit_interval_seconds": 3600,
                "shutdown_timeout_seconds": 10,
            }
        )
        started = time.monotonic()
        result = run([str(venv310), "-I", "-c", CLIENT], tmp_path, env=env, timeout=120)
        elapsed = time.monotonic() - started
        stored = sorted(e["event_id"] for e in server.stored_events())
    assert key not in result.stdout + result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["python"] == [3, 10]
    assert Path(report["sdk_file"]).resolve().is_relative_to(venv310.parent.parent.resolve())
    assert stored == sorted(report["sync"]["ids"] + report["async"]["ids"])
    assert report["sync"]["stats"]["sent"] == 5
    assert report["async"]["stats"]["sent"] == 4
    for mode in ("sync", "async"):
        assert report[mode]["stats"]["queued"] == 0
        assert report[mode]["stats"]["dropped"] == {}
    print(f"a real client on the installed wheel (Python 3.10): {elapsed:.1f} s")


# --- scripts/build --dev -------------------------------------------------------------------

DEV_VERSION = re.compile(r"0\.1\.0\.dev(\d{14})")


def test_dev_build_stamps_a_dev_version_and_restores_the_file(tmp_path: Path) -> None:
    copy = tmp_path / "repo"
    copy.mkdir()
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.orig")
    for folder in ("src", "generated", "openapi", "scripts"):
        shutil.copytree(ROOT / folder, copy / folder, ignore=ignore)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, copy / name)
    # scripts/build runs $ROOT/.venv/bin/python: let the copy use the project's real venv.
    (copy / ".venv").symlink_to(ROOT / ".venv", target_is_directory=True)
    version_file = copy / "src" / "mosaicstack_telemetry" / "_version.py"
    original = version_file.read_text(encoding="utf-8")

    before = datetime.now(timezone.utc).replace(microsecond=0)
    started = time.monotonic()
    result = run(["bash", str(copy / "scripts" / "build"), "--dev"], copy, env=clean_env())
    elapsed = time.monotonic() - started
    after = datetime.now(timezone.utc)

    # The version file is back as it was, and no backup is left behind.
    assert version_file.read_text(encoding="utf-8") == original
    assert not list(version_file.parent.glob("*.orig"))

    (wheel,) = (copy / "dist").glob("*.whl")
    (sdist,) = (copy / "dist").glob("*.tar.gz")
    match = re.fullmatch(r"mosaicstack_telemetry-(.+)-py3-none-any\.whl", wheel.name)
    assert match, wheel.name
    version = match.group(1)
    stamp = DEV_VERSION.fullmatch(version)
    assert stamp, version
    assert sdist.name == f"mosaicstack_telemetry-{version}.tar.gz"
    assert f"==> dev build {version}" in result.stdout
    # The stamp is this build's UTC time.
    built_at = datetime.strptime(stamp.group(1), "%Y%m%d%H%M%S").replace(tzinfo=timezone.utc)
    assert before <= built_at <= after

    _, fields = metadata_of(wheel)
    assert fields["Version"] == [version]
    with zipfile.ZipFile(wheel) as zf:
        shipped = zf.read("mosaicstack_telemetry/_version.py").decode()
    assert f'__version__ = "{version}"' in shipped
    print(f"scripts/build --dev (sdist + wheel): {elapsed:.1f} s")


def test_wheel_ships_the_license(built: tuple[Path, float, set[str]]) -> None:
    wheel, _, _ = built
    names, fields = metadata_of(wheel)
    assert f"{DIST_INFO}/licenses/LICENSE" in names
    assert fields["License-Expression"] == ["MIT"]
    with zipfile.ZipFile(wheel) as zf:
        assert zf.read(f"{DIST_INFO}/licenses/LICENSE").decode().startswith("MIT License")


def test_sdist_ships_the_docs_examples_and_license(tmp_path: Path) -> None:
    import tarfile

    run([sys.executable, "-m", "build", "--sdist", "--outdir", str(tmp_path), str(ROOT)], ROOT)
    (sdist,) = tmp_path.glob("*.tar.gz")
    with tarfile.open(sdist) as tar:
        names = {n.split("/", 1)[1] for n in tar.getnames() if "/" in n}
    wanted = {"LICENSE", "README.md", "mkdocs.yml", "docs/index.md", "examples/README.md"}
    wanted |= {f"examples/{p.name}" for p in (ROOT / "examples").iterdir() if p.is_file()}
    wanted |= {str(p.relative_to(ROOT)) for p in (ROOT / "docs").rglob("*.md")}
    assert wanted <= names, sorted(wanted - names)
    assert not {n for n in names if n.startswith((".venv", "site/"))}


def test_wheel_declares_the_console_script(built: tuple[Path, float, set[str]]) -> None:
    wheel, _, _ = built
    with zipfile.ZipFile(wheel) as zf:
        entry_points = zf.read(f"{DIST_INFO}/entry_points.txt").decode()
    assert "mosaic-telemetry = mosaicstack_telemetry.cli:main" in entry_points


def test_dev_installs_the_docs_extra() -> None:
    import tomllib

    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    marker = "; python_version >= '3.11'"
    in_dev = {r.removesuffix(marker) for r in extras["dev"] if r.endswith(marker)}
    assert set(extras["docs"]) <= in_dev
