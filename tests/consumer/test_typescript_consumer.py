"""The contract as a TypeScript consumer reads it (issue 14): openapi-typescript generates the
types, `tsc --noEmit` type-checks a small openapi-fetch client (client.ts) with strict options,
and node runs it against the local server: a valid batch, a duplicate, a mixed batch, a wrong
key and a predictions query.

The npm packages are pinned (package.json and package-lock.json here) and installed once per
lock file into a cache outside the repository (`$XDG_CACHE_HOME`, else ~/.cache); skipped with
the reason when Node.js is not installed.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import shutil
import subprocess
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
CONTRACT = ROOT / "openapi" / "telemetry-v1.yaml"
NODE, NPM = shutil.which("node"), shutil.which("npm")

pytestmark = pytest.mark.skipif(
    NODE is None or NPM is None,
    reason="the TypeScript consumer test needs Node.js (node and npm), which is not installed",
)
server = pytest.importorskip("mosaicstack_telemetry.server")


def _run(cmd: list[str], cwd: Path, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        cmd, cwd=cwd, capture_output=True, text=True, timeout=300, check=False, **kwargs
    )
    assert done.returncode == 0, f"{' '.join(cmd)}\n{done.stdout}\n{done.stderr}"
    return done


@pytest.fixture(scope="module")
def node_modules() -> Path:
    """The pinned packages, installed once per lock file into the user's cache."""
    lock = (HERE / "package-lock.json").read_bytes()
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    home = base / "mosaicstack-telemetry" / f"ts-consumer-{hashlib.sha256(lock).hexdigest()[:12]}"
    modules = home / "node_modules"
    if not (modules / ".bin" / "tsc").exists():
        started = time.monotonic()
        home.mkdir(parents=True, exist_ok=True)
        for name in ("package.json", "package-lock.json"):
            shutil.copy2(HERE / name, home / name)
        assert NPM is not None
        _run([NPM, "ci", "--no-audit", "--no-fund", "--loglevel=error"], home)
        print(f"installed the TypeScript toolchain in {time.monotonic() - started:.1f} s")
    return modules


def workspace(node_modules: Path, path: Path, contract: Path) -> Path:
    """A folder with client.ts, its tsconfig and the types openapi-typescript makes of
    `contract` (fields with a default optional in requests: the server applies the default)."""
    path.mkdir(parents=True, exist_ok=True)
    (path / "node_modules").symlink_to(node_modules)
    (path / "package.json").write_text('{"type": "module"}\n')
    for name in ("client.ts", "tsconfig.json"):
        shutil.copy2(HERE / name, path / name)
    generate = [str(node_modules / ".bin" / "openapi-typescript"), str(contract)]
    _run([*generate, "-o", "schema.d.ts", "--default-non-nullable=false"], path)
    return path


def type_check(node_modules: Path, work: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(node_modules / ".bin" / "tsc"), "--noEmit", "-p", "tsconfig.json"],
        cwd=work,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


# Plain transpilation for node (the type check is tsc --noEmit above): much faster than a
# second full tsc run.
TRANSPILE = """
const ts = require("typescript");
const fs = require("fs");
const out = ts.transpileModule(fs.readFileSync("client.ts", "utf8"), {
  compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ES2022 },
});
fs.writeFileSync("client.js", out.outputText);
"""


@pytest.fixture(scope="module")
def compiled(node_modules: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """client.ts type-checked against freshly generated types, then transpiled for node."""
    started = time.monotonic()
    work = workspace(node_modules, tmp_path_factory.mktemp("ts-consumer"), CONTRACT)
    generated = time.monotonic()
    checked = type_check(node_modules, work)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    typed = time.monotonic()
    assert NODE is not None
    _run([NODE, "--input-type=commonjs", "-e", TRANSPILE], work)
    print(
        f"openapi-typescript {generated - started:.1f} s, tsc --noEmit {typed - generated:.1f} s,"
        f" transpile {time.monotonic() - typed:.1f} s"
    )
    return work / "client.js"


def test_the_types_are_exact_and_were_not_before(
    node_modules: Path, tmp_path: Path, compiled: Path
) -> None:
    """`median` a number, `confidence` the four levels, `status` an enum: client.ts checks each
    at compile time, and passes (the fixture above). The same checks fail on the 1.0 contract,
    which typed them loosely, so they cannot pass by accident."""
    old = workspace(
        node_modules, tmp_path / "v1.0", ROOT / "openapi" / "released" / "telemetry-v1.yaml"
    )
    done = type_check(node_modules, old)
    assert done.returncode != 0
    errors = done.stdout
    # median was `number | undefined`, confidence any string, and EventStatus did not exist.
    assert "Type 'number | undefined' is not assignable to type 'number'" in errors, errors
    assert "Type 'string' is not assignable to type '\"high\" | " in errors, errors
    assert "Property 'EventStatus' does not exist" in errors, errors


def test_a_typescript_client_talks_to_the_local_server(compiled: Path) -> None:
    key, unknown, instance = secrets.token_hex(32), secrets.token_hex(32), str(uuid.uuid4())
    assert NODE is not None
    with server.start_server(keys={key: instance}) as srv:
        env = {
            **os.environ,
            "BASE_URL": srv.url,
            "KEY": key,
            "UNKNOWN_KEY": unknown,
            "INSTANCE": instance,
        }
        done = _run([NODE, str(compiled)], compiled.parent, env=env)
        stored = srv.event_count()
    summary = json.loads(done.stdout)
    assert summary["valid"] == {"status": 202, "accepted": 2}
    assert summary["duplicate"] == {"status": 202, "statuses": ["duplicate"], "duplicate": 1}
    assert summary["mixed"] == {
        "statuses": ["accepted", "rejected", "duplicate"],
        "indexes": [0, 1, 2],
        "codes": [None, "invalid_event", None],
    }
    assert summary["wrongKey"] == {"status": 403, "detail": "unknown API key"}
    assert summary["prediction"] == {"status": 200, "level": "low", "median": 12000}
    assert stored == 3
