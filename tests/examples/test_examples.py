"""The examples, run as a user runs them (subprocesses) against the local reference server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
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


def _flush(env: dict[str, str]) -> str:
    cmd = [sys.executable, "-m", "mosaicstack_telemetry", "flush"]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=60, check=True)
    return done.stdout.strip()


def _transcript(path: Path) -> None:
    lines = [
        {"type": "user", "uuid": "u0", "timestamp": "2025-01-01T10:00:00Z",
         "message": {"role": "user", "content": "an earlier turn"}},
        {"type": "assistant", "uuid": "a0", "timestamp": "2025-01-01T10:00:05Z",
         "message": {"model": "claude-old", "usage": {"input_tokens": 999, "output_tokens": 9}}},
        {"type": "user", "uuid": "u1", "timestamp": "2025-01-01T10:01:00Z",
         "message": {"role": "user", "content": [{"type": "text", "text": "fix the bug"}]}},
        {"type": "assistant", "uuid": "a1", "timestamp": "2025-01-01T10:01:02Z",
         "message": {"model": "claude-sonnet-4-5", "usage": {
             "input_tokens": 100, "cache_read_input_tokens": 1000,
             "cache_creation_input_tokens": 10, "output_tokens": 50}}},
        {"type": "user", "uuid": "t1", "timestamp": "2025-01-01T10:01:03Z",
         "message": {"role": "user", "content": [{"type": "tool_result", "content": "ok"}]}},
        {"type": "system", "subtype": "compact_boundary", "uuid": "c1",
         "timestamp": "2025-01-01T10:01:04Z"},
        {"type": "assistant", "uuid": "a2", "timestamp": "2025-01-01T10:01:30Z",
         "message": {"model": "claude-sonnet-4-5", "usage": {
             "input_tokens": 200, "output_tokens": 70}}},
    ]  # fmt: skip
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n{truncated")


def test_claude_code_hook(tmp_path: Path, telemetry_server: TelemetryServer) -> None:
    env = _env(tmp_path, telemetry_server)
    transcript = tmp_path / "session.jsonl"
    _transcript(transcript)
    payload = {
        "session_id": "s-1",
        "transcript_path": str(transcript),
        "hook_event_name": "Stop",
        "cwd": str(tmp_path),
        "stop_hook_active": False,
    }
    hook = [sys.executable, str(EXAMPLES / "claude_code_hook.py")]
    for _ in range(2):  # the same turn twice: recorded once (a deterministic event id)
        start = time.monotonic()
        done = subprocess.run(
            hook, input=json.dumps(payload), env=env, capture_output=True, text=True, timeout=60
        )
        assert time.monotonic() - start < 15
        assert done.returncode == 0
        assert done.stderr == ""
    assert telemetry_server.events() == []  # spooled only; the hook never waits on the network
    assert _flush(env) == "sent 1, rejected 0, dropped 0, remaining 0"
    (event,) = telemetry_server.events()
    assert event["harness"] == "claude_code"
    assert event["provider"] == "anthropic"
    assert event["model"] == "claude-sonnet-4-5"
    assert event["actual_input_tokens"] == 1310  # this turn only, cache tokens included
    assert event["actual_output_tokens"] == 120
    assert event["task_duration_ms"] == 30_000
    assert event["context_compactions"] == 1
    assert event["outcome"] == "success"


def test_claude_code_hook_never_fails_the_session(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MOSAIC_")}
    env.update(HOME=str(tmp_path), XDG_DATA_HOME=str(tmp_path))  # no config at all
    hook = [sys.executable, str(EXAMPLES / "claude_code_hook.py")]
    for stdin in ("not json", '{"transcript_path": "/nonexistent"}'):
        done = subprocess.run(
            hook, input=stdin, env=env, capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0  # exit 2 would block Claude from stopping
        assert "telemetry hook" in done.stderr


def test_claude_code_settings_snippet_is_valid() -> None:
    settings = json.loads((EXAMPLES / "claude_code_settings.json").read_text())
    assert list(settings["hooks"]) == ["Stop"]  # not SubagentStop: it would count a turn twice
    (hook,) = settings["hooks"]["Stop"][0]["hooks"]
    assert hook["type"] == "command"
    assert "claude_code_hook.py" in hook["command"]


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
