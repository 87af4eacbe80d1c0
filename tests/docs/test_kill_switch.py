"""The kill switch protects the host entirely: with nothing configured but
`MOSAIC_TELEMETRY_ENABLED=false`, every documented example runs to its end and nothing is sent.

Documented examples: the Python blocks of docs/ and the README, the scripts of examples/, and
every example of the integration guide (tests/guide/integration-guide.md). The examples' server
URL points at a local server that must see no request at all; the API key stays the
placeholder a reader has not replaced yet (a disabled config is never validated).

Not run here, each with its reason:
- pytest files of docs/ (`test_*.py` blocks): a test that asserts what was tracked tests with
  telemetry on; `captured_telemetry` sees what production would, so under the kill switch it
  sees nothing, as documented on the plugin page.
- two guide examples that read `os.environ["MOSAIC_TELEMETRY_API_KEY"]` themselves (Production
  config, Example 1 FastAPI): the KeyError is the example's own, raised before the SDK is
  reached; the test checks that it is exactly that. Our own FastAPI example,
  `examples/fastapi_service.py`, reads its config through `TelemetryConfig()` and runs here.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.docs._blocks import ROOT, Block, blocks, localize, pages_with_python, run_session

from mosaicstack_telemetry import (
    EventBuilder,
    QualityGate,
    TelemetryClient,
    TelemetryConfig,
)
from mosaicstack_telemetry.server import RunningServer, start_server

PAGES = pages_with_python()
README = blocks(ROOT / "README.md")
GUIDE = ROOT / "tests" / "guide" / "integration-guide.md"
OWN_ENV_READERS = {
    "Environment-Specific Configuration": 1,  # index among that heading's examples
    "Example 1: Instrumenting a FastAPI Service": 0,
}


@pytest.fixture
def watch() -> Iterator[RunningServer]:
    """A server the examples point at; it must see no request."""
    with start_server(keys={}) as running:
        yield running
        assert running.requests == []


@pytest.fixture
def kill_switch_only(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, str]:
    for name in [n for n in os.environ if n.startswith("MOSAIC_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("MOSAIC_TELEMETRY_ENABLED", "false")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.chdir(tmp_path)
    return dict(os.environ)


def no_sender_threads() -> bool:
    return not any(t.name == "mosaicstack-telemetry-sender" for t in threading.enumerate())


def run_blocks(found: list[Block], url: str) -> dict[str, Any]:
    namespace: dict[str, Any] = {"__name__": "docs_example"}
    for block in found:
        if block.title.startswith("test_"):
            continue  # a test suite checks telemetry on: see the module docstring
        code = localize(block.code, url, key=None)
        printed = run_session(block, code, namespace)
        if block.output is not None:
            assert printed == block.output, block.name
    return namespace


@pytest.mark.usefixtures("kill_switch_only")
@pytest.mark.parametrize("page", sorted(PAGES))
def test_every_docs_page_runs_to_its_end(page: str, watch: RunningServer) -> None:
    namespace = run_blocks(PAGES[page], watch.url)
    if "app" in namespace:  # a FastAPI app: serve one request through its lifespan
        from fastapi.testclient import TestClient

        with TestClient(namespace["app"]) as http:
            answer = http.post("/tasks/complete", params={"model": "m", "duration_ms": 1})
            assert answer.json() == {"status": "tracked"}
    assert no_sender_threads()
    assert not Path("telemetry-spool.sqlite3").exists()  # disabled: no spool either


@pytest.mark.usefixtures("kill_switch_only")
def test_the_readme_runs_to_its_end(watch: RunningServer) -> None:
    assert README, "the README shows a Python example"
    run_blocks(README, watch.url)
    assert no_sender_threads()


def test_wrap_cli_keeps_the_tools_exit_code(kill_switch_only: dict[str, str]) -> None:
    wrap = [sys.executable, str(ROOT / "examples" / "wrap_cli.py"), "--model", "m", "--"]
    for code in (0, 3):
        tool = [sys.executable, "-c", f"raise SystemExit({code})"]
        done = subprocess.run(
            [*wrap, *tool], env=kill_switch_only, capture_output=True, text=True, timeout=60
        )
        assert done.returncode == code, done.stderr
        assert "telemetry not recorded" not in done.stderr


def test_the_fastapi_example_serves(kill_switch_only: dict[str, str]) -> None:
    pytest.importorskip("fastapi")
    code = (
        "import sys\n"
        "sys.path.insert(0, sys.argv[1])\n"
        "from fastapi.testclient import TestClient\n"
        "from fastapi_service import app\n"
        "params = dict(task_type='implementation', model='m', provider='anthropic',\n"
        "    complexity='medium', actual_input_tokens=1, actual_output_tokens=1,\n"
        "    actual_cost_usd_micros=1, duration_ms=1, outcome='success')\n"
        "with TestClient(app) as client:\n"
        "    assert client.post('/tasks/complete', params=params).json() == {'status': 'tracked'}\n"
        "print('served')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(ROOT / "examples")],
        env=kill_switch_only, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout == "served\n"


def test_every_guide_example_runs_to_its_end(
    watch: RunningServer, kill_switch_only: dict[str, str], tmp_path: Path
) -> None:
    from tests.guide.test_guide_examples import PYTHON

    root, sdk = logging.getLogger(), logging.getLogger("mosaicstack_telemetry")
    saved = (root.level, list(root.handlers), sdk.level)
    # What a reader of a fragment has from the examples before it, built the documented way.
    config = TelemetryConfig()
    namespace: dict[str, Any] = {
        "__name__": "guide_example",
        "os": os,
        "config": config,
        "event": EventBuilder(instance_id=config.instance_id).build(),
        "client": TelemetryClient(config),
        "TelemetryConfig": TelemetryConfig,
        "TelemetryClient": TelemetryClient,
        "EventBuilder": EventBuilder,
        "QualityGate": QualityGate,
    }
    seen: dict[str, int] = {}
    ran = 0
    try:
        for example in PYTHON:
            index = seen.get(example.heading, 0)
            seen[example.heading] = index + 1
            code = example.code
            for url in ("https://tel-api.mosaicstack.dev", "http://localhost:8000"):
                code = code.replace(url, watch.url)
            block = Block("integration-guide.md", 0, "python", "", code, None)
            if OWN_ENV_READERS.get(example.heading) == index:
                with pytest.raises(KeyError, match="MOSAIC_TELEMETRY_API_KEY"):
                    run_session(block, code, dict(namespace))
                continue
            if example.heading.startswith("Example 2"):  # a script with its own __main__
                script = tmp_path / "generic_app.py"
                script.write_text(code, encoding="utf-8")
                done = subprocess.run(
                    [sys.executable, str(script)], env=kill_switch_only,
                    capture_output=True, text=True, timeout=60, check=False,
                )  # fmt: skip
                assert done.returncode == 0, done.stderr
                assert done.stdout.startswith("Tracked task: ")
                ran += 1
                continue
            run_session(block, code, namespace)
            ran += 1
    finally:
        for handler in root.handlers[:]:
            if handler not in saved[1]:
                root.removeHandler(handler)
        root.setLevel(saved[0])
        sdk.setLevel(saved[2])
    assert ran == len(PYTHON) - len(OWN_ENV_READERS)
    assert no_sender_threads()
