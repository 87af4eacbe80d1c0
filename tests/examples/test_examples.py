"""The examples, run as a user runs them (subprocesses) against the local reference server.

The Claude Code hook is a CLI command now: tests/cli/test_hook.py."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from mosaicstack_telemetry.pytest_plugin import TelemetryServer

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _env(tmp_path: Path, srv: TelemetryServer) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MOSAIC_")}
    env.update(srv.env())
    env.update(
        HOME=str(tmp_path / "home"),
        XDG_DATA_HOME=str(tmp_path / "data"),
        MOSAIC_TELEMETRY_SPOOL_PATH=str(tmp_path / "spool.sqlite3"),
    )
    return env


@pytest.mark.parametrize(("code", "outcome"), [(0, "success"), (3, "failure")])
def test_wrap_cli(
    tmp_path: Path, telemetry_server: TelemetryServer, code: int, outcome: str
) -> None:
    env = _env(tmp_path, telemetry_server)
    tool = tmp_path / "aider"  # a stand-in for the real tool, named like it
    tool.write_text(f"#!{sys.executable}\nimport sys, time\ntime.sleep(0.2)\nsys.exit({code})\n")
    tool.chmod(0o755)
    wrap = [sys.executable, str(EXAMPLES / "wrap_cli.py"), "--model", "gpt-5", "--provider"]
    done = subprocess.run(
        [*wrap, "openai", "--flush", "--", str(tool), "--yes"], env=env, timeout=60, check=False
    )
    assert done.returncode == code  # the wrapped command's own exit code
    (event,) = telemetry_server.events()
    assert event["harness"] == "aider"
    assert event["outcome"] == outcome
    assert event["quality_gate_passed"] is (code == 0)
    assert event["model"] == "gpt-5"
    assert event["task_duration_ms"] >= 200


PARAMS = {
    "task_type": "implementation",
    "model": "claude-sonnet-4-5",
    "provider": "anthropic",
    "complexity": "medium",
    "actual_input_tokens": 1000,
    "actual_output_tokens": 500,
    "actual_cost_usd_micros": 12000,
    "duration_ms": 3000,
    "outcome": "success",
}


def test_fastapi_service(tmp_path: Path, telemetry_server: TelemetryServer) -> None:
    """The guide's service, started as an app and driven through HTTP; its lifespan's
    stop_async() delivers on shutdown."""
    pytest.importorskip("fastapi")
    code = """
import sys
sys.path.insert(0, sys.argv[1])
from fastapi.testclient import TestClient
from fastapi_service import app
params = dict(task_type="implementation", model="claude-sonnet-4-5", provider="anthropic",
              complexity="medium", actual_input_tokens=1000, actual_output_tokens=500,
              actual_cost_usd_micros=12000, duration_ms=3000, outcome="success")
with TestClient(app) as client:
    for _ in range(2):
        response = client.post("/tasks/complete", params=params)
        assert response.status_code == 200 and response.json() == {"status": "tracked"}
"""
    env = _env(tmp_path, telemetry_server)
    done = subprocess.run(
        [sys.executable, "-c", code, str(EXAMPLES)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    events = telemetry_server.events()
    assert len(events) == 2
    assert {e["harness"] for e in events} == {"claude_code"}
    assert {e["actual_cost_usd_micros"] for e in events} == {12000}


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_fastapi_service_under_uvicorn_delivers_at_a_signal(
    tmp_path: Path, telemetry_server: TelemetryServer, signum: int
) -> None:
    """The example under a real uvicorn, ended as a host ends it. uvicorn runs the lifespan's
    shutdown, then lets the signal end the process (no exit handler runs): the lifespan's
    `stop_async()` is what delivers (docs/usage.md)."""
    pytest.importorskip("fastapi")
    uvicorn = [sys.executable, "-m", "uvicorn", "fastapi_service:app", "--port", "0"]
    server = subprocess.Popen(
        uvicorn,
        cwd=EXAMPLES,
        env=_env(tmp_path, telemetry_server),
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stderr is not None
        url = None
        for line in server.stderr:  # "Uvicorn running on http://127.0.0.1:PORT ..."
            found = re.search(r"running on (http://127\.0\.0\.1:\d+)", line)
            if found:
                url = found.group(1)
                break
        assert url, "uvicorn did not start"
        for model in ("a", "b"):
            query = urllib.parse.urlencode({**PARAMS, "model": model})
            request = urllib.request.Request(f"{url}/tasks/complete?{query}", method="POST")
            with urllib.request.urlopen(request, timeout=30) as response:  # loopback only
                assert response.status == 200
        server.send_signal(signum)
        rest = server.communicate(timeout=60)[1]
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
    assert server.returncode in (-signum, 0), rest
    assert sorted(e["model"] for e in telemetry_server.events()) == ["a", "b"], rest
