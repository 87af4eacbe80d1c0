"""Every Python example of the integration guide, run unchanged against the local server.

The examples are read from `integration-guide.md` beside this file (a copy of the guide that
`test_copy_equals_the_guide` keeps equal to the shared spec when that is present), so a changed
example runs as changed. The only edits are the ones a user makes: the server URL and the
placeholder API key. Fragments that continue an earlier example (they use `config`, `event` or
`client` without defining them) get those names from the test, exactly as the guide's reader
has them from the example before; top-level `await` / `async with` run as the asyncio REPL runs
them (`PyCF_ALLOW_TOP_LEVEL_AWAIT`). Each test then checks what the example promises, on the
server's side where it crosses the wire.
"""

from __future__ import annotations

import ast
import asyncio
import contextlib
import inspect
import io
import logging
import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from mosaicstack_telemetry import (
    Complexity,
    EventBuilder,
    Outcome,
    Provider,
    TaskCompletionEvent,
    TaskType,
    TelemetryClient,
    TelemetryConfig,
)
from mosaicstack_telemetry.server import start_server

HERE = Path(__file__).resolve().parent
GUIDE = HERE / "integration-guide.md"
SHARED_GUIDE = HERE.parents[1].parent / "shared" / "spec" / "integration-guide.md"
ROOT = HERE.parents[1]

PROD_URL = "https://tel-api.mosaicstack.dev"
DEV_URL = "http://localhost:8000"
PLACEHOLDER_KEYS = ("your-64-char-hex-api-key-here...", "your-64-char-hex-api-key")
KEY = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
INSTANCE = "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d"  # the guide's own instance id
DEV_KEY, DEV_INSTANCE = "a" * 64, "12345678-1234-1234-1234-123456789abc"  # the guide's dev pair
SENDER_THREAD = "mosaicstack-telemetry-sender"
ENV_VARS = ("ENABLED", "SERVER_URL", "API_KEY", "INSTANCE_ID", "SPOOL_PATH")


@dataclass(frozen=True)
class Example:
    lang: str
    heading: str
    code: str


def read_examples(text: str) -> list[Example]:
    """The fenced code blocks of the guide, each with the nearest heading above it."""
    heading = ""
    found: list[Example] = []
    pattern = re.compile(r"^(#{1,6} [^\n]*)$|^```(\w*)\n(.*?)^```$", re.M | re.S)
    for match in pattern.finditer(text):
        if match.group(1):
            heading = match.group(1).lstrip("#").strip()
        else:
            found.append(Example(match.group(2), heading, match.group(3)))
    return found


EXAMPLES = read_examples(GUIDE.read_text(encoding="utf-8"))
PYTHON = [e for e in EXAMPLES if e.lang == "python"]


def example(heading: str, index: int = 0) -> Example:
    matches = [e for e in PYTHON if e.heading == heading]
    return matches[index]


# Every Python example, by (heading, index among that heading's examples): the test running it.
COVERED = {
    ("Constructor Parameters", 0): "test_constructor_parameters",
    ("Environment Variables", 0): "test_environment_variables",
    ("Environment-Specific Configuration", 0): "test_development_config",
    ("Environment-Specific Configuration", 1): "test_production_config",
    ("Sync Usage (Threading)", 0): "test_sync_usage",
    ("Sync Context Manager", 0): "test_sync_context_manager",
    ("Async Usage (asyncio)", 0): "test_async_usage",
    ("Async Context Manager", 0): "test_async_context_manager",
    ("Example 1: Instrumenting a FastAPI Service", 0): "test_fastapi_service",
    ("Example 2: Instrumenting a Generic Python App", 0): "test_generic_python_app",
    ("Token and Cost Values", 0): "test_token_and_cost_values",
    ("Quality Gates", 0): "test_quality_gates",
    ("Fetching Predictions", 0): "test_fetching_and_reading_predictions",
    ("Reading from Cache", 0): "test_fetching_and_reading_predictions",
    ("The `track()` Contract", 0): "test_track_contract",
    ("Logging", 0): "test_logging",
    ("Dry-Run Mode", 0): "test_dry_run",
    ("Disabling Telemetry", 0): "test_disabling",
}


# -- running an example ----------------------------------------------------------------------


@dataclass
class Server:
    handle: Any

    @property
    def url(self) -> str:
        return str(self.handle.url)

    def stored(self) -> dict[str, dict[str, Any]]:
        return {e["event_id"]: e for e in self.handle.stored_events()}

    def event_posts(self) -> int:
        return sum(1 for r in self.handle.requests if r.path == "/v1/events/batch")


@pytest.fixture
def server() -> Iterator[Server]:
    with start_server(keys={KEY: INSTANCE, DEV_KEY: DEV_INSTANCE}) as handle:
        yield Server(handle)


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ENV_VARS:
        monkeypatch.delenv(f"MOSAIC_TELEMETRY_{name}", raising=False)


def localize(code: str, url: str) -> str:
    """What a user changes to run an example: the server URL and the placeholder key."""
    code = code.replace(PROD_URL, url).replace(DEV_URL, url)
    for placeholder in PLACEHOLDER_KEYS:
        code = code.replace(placeholder, KEY)
    return code


def run(ex: Example, server: Server, **names: Any) -> tuple[dict[str, Any], str]:
    """Execute an example in a fresh namespace holding `names`; return it and what it printed."""
    namespace: dict[str, Any] = {"__name__": "guide_example", **names}
    flags = ast.PyCF_ALLOW_TOP_LEVEL_AWAIT
    code = compile(localize(ex.code, server.url), f"<guide: {ex.heading}>", "exec", flags=flags)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        result = eval(code, namespace)  # an example of our own guide, nothing else
        if inspect.iscoroutine(result):
            asyncio.run(result)
    return namespace, out.getvalue()


def guide_config(server: Server, **overrides: Any) -> TelemetryConfig:
    """The `config` of the guide's first example, as a reader of a later fragment has it."""
    namespace, _ = run(example("Constructor Parameters"), server)
    config: TelemetryConfig = namespace["config"]
    for name, value in overrides.items():
        setattr(config, name, value)
    return config


def guide_event(server: Server) -> TaskCompletionEvent:
    """A fresh copy of the guide's Sync Usage event (the `event` later fragments use)."""
    return (
        EventBuilder(instance_id=INSTANCE)
        .task_type(TaskType.IMPLEMENTATION)
        .model("claude-sonnet-4-5-20250929")
        .provider(Provider.ANTHROPIC)
        .complexity_level(Complexity.MEDIUM)
        .outcome_value(Outcome.SUCCESS)
        .duration_ms(45000)
        .tokens(estimated_in=105000, estimated_out=45000, actual_in=112340, actual_out=38760)
        .build()
    )


def env_from_bash(server: Server, monkeypatch: pytest.MonkeyPatch) -> None:
    """Apply the guide's `export` lines, localized, as the reader's shell would."""
    bash = next(e for e in EXAMPLES if e.lang == "bash" and e.heading == "Environment Variables")
    for line in localize(bash.code, server.url).splitlines():
        name, _, value = line.removeprefix("export ").partition("=")
        monkeypatch.setenv(name.strip(), value.strip())


def no_sender_threads() -> bool:
    return not any(t.name == SENDER_THREAD for t in threading.enumerate())


# -- the guide itself ------------------------------------------------------------------------


def test_copy_equals_the_guide() -> None:
    if not SHARED_GUIDE.exists():
        pytest.skip("the shared spec is not beside this checkout")
    assert GUIDE.read_text(encoding="utf-8") == SHARED_GUIDE.read_text(encoding="utf-8")


def test_every_python_example_has_a_test() -> None:
    seen: dict[str, int] = {}
    keys = []
    for ex in PYTHON:
        keys.append((ex.heading, seen.get(ex.heading, 0)))
        seen[ex.heading] = seen.get(ex.heading, 0) + 1
    assert keys == list(COVERED), "a guide example was added, removed or moved: cover it"
    tests = {name for name, value in globals().items() if name.startswith("test_")}
    assert set(COVERED.values()) <= tests


def test_the_other_blocks_are_install_instructions() -> None:
    # Not Python, and they install from a package index this project does not publish to.
    others = [(e.lang, e.heading) for e in EXAMPLES if e.lang != "python"]
    assert others == [
        ("bash", "Installation"),
        ("bash", "Installation"),
        ("toml", "Installation"),
        ("ini", "Installation"),
        ("bash", "Environment Variables"),  # run by test_environment_variables
    ]


# -- configuration ---------------------------------------------------------------------------


def test_constructor_parameters(server: Server) -> None:
    namespace, _ = run(example("Constructor Parameters"), server)
    config = namespace["config"]
    assert config.validate() == []
    assert (config.server_url, config.api_key, config.instance_id) == (server.url, KEY, INSTANCE)


def test_environment_variables(server: Server, monkeypatch: pytest.MonkeyPatch) -> None:
    env_from_bash(server, monkeypatch)
    namespace, _ = run(example("Environment Variables"), server, TelemetryConfig=TelemetryConfig)
    config = namespace["config"]
    assert config.validate() == []
    assert (config.enabled, config.server_url, config.api_key, config.instance_id) == (
        True,
        server.url,
        KEY,
        INSTANCE,
    )
    with TelemetryClient(config) as client:
        event = EventBuilder(config.instance_id).model("env").build()
        client.track(event)
    assert str(event.event_id) in server.stored()


def test_development_config(server: Server, caplog: pytest.LogCaptureFixture) -> None:
    namespace, _ = run(
        example("Environment-Specific Configuration", 0), server, TelemetryConfig=TelemetryConfig
    )
    config = namespace["config"]
    assert config.validate() == []
    assert (config.dry_run, config.submit_interval_seconds) == (True, 10.0)
    # "Log but don't send": the batch is logged and the server sees nothing.
    with caplog.at_level(logging.INFO, "mosaicstack_telemetry"):
        with TelemetryClient(config) as client:
            client.track(EventBuilder(config.instance_id).build())
    assert "[DRY RUN] Would submit batch of 1 events to" in caplog.text
    assert server.event_posts() == 0


def test_production_config(server: Server, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOSAIC_TELEMETRY_API_KEY", KEY)
    monkeypatch.setenv("MOSAIC_TELEMETRY_INSTANCE_ID", INSTANCE)
    namespace, _ = run(
        example("Environment-Specific Configuration", 1),
        server,
        TelemetryConfig=TelemetryConfig,
        os=os,
    )
    config = namespace["config"]
    assert config.validate() == []
    assert (config.submit_interval_seconds, config.max_retries) == (300.0, 3)
    with TelemetryClient(config) as client:
        event = EventBuilder(config.instance_id).model("prod").build()
        client.track(event)
    assert str(event.event_id) in server.stored()


# -- sync and async usage --------------------------------------------------------------------


def test_sync_usage(server: Server) -> None:
    namespace, _ = run(example("Sync Usage (Threading)"), server)
    event = namespace["event"]
    stored = server.stored()[str(event.event_id)]
    assert stored["model"] == "claude-sonnet-4-5-20250929"
    assert stored["language"] == "typescript"
    assert stored["quality_gates_run"] == ["build", "lint", "test", "typecheck"]
    assert stored["context_utilization_final"] == 0.72
    assert not namespace["client"].is_running
    assert no_sender_threads()


def test_sync_context_manager(server: Server) -> None:
    event = guide_event(server)
    names = {"config": guide_config(server), "event": event, "TelemetryClient": TelemetryClient}
    run(example("Sync Context Manager"), server, **names)
    assert str(event.event_id) in server.stored()  # "automatically flushed and stopped here"
    assert no_sender_threads()


def test_async_usage(server: Server) -> None:
    event = guide_event(server)
    run(example("Async Usage (asyncio)"), server, event=event)
    assert str(event.event_id) in server.stored()


def test_async_context_manager(server: Server) -> None:
    event = guide_event(server)
    names = {"config": guide_config(server), "event": event, "TelemetryClient": TelemetryClient}
    run(example("Async Context Manager"), server, **names)
    assert str(event.event_id) in server.stored()


# -- the two integration examples ------------------------------------------------------------


def test_fastapi_service(server: Server, monkeypatch: pytest.MonkeyPatch) -> None:
    from fastapi.testclient import TestClient

    monkeypatch.setenv("MOSAIC_TELEMETRY_SERVER_URL", server.url)
    monkeypatch.setenv("MOSAIC_TELEMETRY_API_KEY", KEY)
    monkeypatch.setenv("MOSAIC_TELEMETRY_INSTANCE_ID", INSTANCE)
    namespace, _ = run(example("Example 1: Instrumenting a FastAPI Service"), server)
    params = {
        "task_type": "debugging",
        "model": "fastapi-guide-model",
        "provider": "openai",
        "complexity": "high",
        "actual_input_tokens": 1200,
        "actual_output_tokens": 340,
        "actual_cost_usd_micros": 5600,
        "duration_ms": 7800,
        "outcome": "success",
    }
    with TestClient(namespace["app"]) as http:  # runs the lifespan: start_async / stop_async
        answer = http.post("/tasks/complete", params=params)
        assert answer.status_code == 200
        assert answer.json() == {"status": "tracked"}
    stored = [e for e in server.stored().values() if e["model"] == "fastapi-guide-model"]
    assert len(stored) == 1
    assert stored[0]["task_type"] == "debugging"
    assert stored[0]["quality_gate_passed"] is True
    assert stored[0]["actual_cost_usd_micros"] == 5600


def test_generic_python_app(server: Server, tmp_path: Path) -> None:
    script = tmp_path / "generic_app.py"
    script.write_text(localize(example("Example 2: Instrumenting a Generic Python App").code, ""))
    env = {k: v for k, v in os.environ.items() if not k.startswith("MOSAIC_TELEMETRY_")}
    env.update(
        MOSAIC_TELEMETRY_SERVER_URL=server.url,
        MOSAIC_TELEMETRY_API_KEY=KEY,
        MOSAIC_TELEMETRY_INSTANCE_ID=INSTANCE,
    )
    done = subprocess.run(
        [sys.executable, str(script)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    match = re.fullmatch(r"Tracked task: ([0-9a-f-]{36})\n", done.stdout)
    assert match, done.stdout
    stored = server.stored()[match.group(1)]  # flushed by the `with` block before exit
    assert stored["harness"] == "aider"
    assert stored["repo_size_category"] == "medium"
    assert stored["actual_input_tokens"] == 4500


# -- building events -------------------------------------------------------------------------


def test_token_and_cost_values(server: Server) -> None:
    namespace, _ = run(
        example("Token and Cost Values"),
        server,
        config=guide_config(server),
        EventBuilder=EventBuilder,
    )
    event = namespace["event"]
    assert (
        event.estimated_input_tokens,
        event.estimated_output_tokens,
        event.actual_input_tokens,
        event.actual_output_tokens,
    ) == (105000, 45000, 112340, 38760)
    assert (event.estimated_cost_usd_micros, event.actual_cost_usd_micros) == (630000, 919200)


def test_quality_gates(server: Server) -> None:
    from mosaicstack_telemetry import QualityGate

    namespace, _ = run(
        example("Quality Gates"),
        server,
        config=guide_config(server),
        EventBuilder=EventBuilder,
        QualityGate=QualityGate,
    )
    event = namespace["event"]
    assert event.quality_gate_passed is False
    assert event.quality_gates_run == [
        QualityGate.BUILD,
        QualityGate.LINT,
        QualityGate.TEST,
        QualityGate.COVERAGE,
    ]
    assert event.quality_gates_failed == [QualityGate.COVERAGE]


# -- predictions -----------------------------------------------------------------------------


def test_fetching_and_reading_predictions(server: Server) -> None:
    config = guide_config(server)
    # 35 events of the first query's combination: an exact match, so confidence "medium".
    builder = (
        EventBuilder(INSTANCE)
        .task_type(TaskType.IMPLEMENTATION)
        .model("claude-sonnet-4-5-20250929")
        .provider(Provider.ANTHROPIC)
        .complexity_level(Complexity.MEDIUM)
        .outcome_value(Outcome.SUCCESS)
    )
    with TelemetryClient(config) as sender:
        for n in range(35):
            sender.track(
                builder.duration_ms(40_000 + n * 100)
                .tokens(
                    estimated_in=100_000,
                    estimated_out=40_000,
                    actual_in=110_000 + n,
                    actual_out=39_000,
                )
                .cost(estimated=600_000, actual=900_000 + n)
                .quality(passed=n % 5 != 0)
                .build()
            )
    client = TelemetryClient(config)
    namespace, _ = run(example("Fetching Predictions"), server, client=client)
    queries = namespace["queries"]

    first = client.get_prediction(queries[0])
    assert first is not None
    assert first.prediction is not None
    assert (first.metadata.sample_size, first.metadata.confidence) == (35, "medium")
    assert first.metadata.fallback_level == 0
    second = client.get_prediction(queries[1])  # nothing like it was ever sent
    assert second is not None
    assert second.prediction is None
    assert (second.metadata.confidence, second.metadata.fallback_level) == ("none", -1)

    _, printed = run(example("Reading from Cache"), server, client=client, queries=queries)
    data = first.prediction
    assert f"Input tokens (median): {data.input_tokens.median}" in printed
    assert f"Cost (median): ${data.cost_usd_micros['median'] / 1_000_000:.4f}" in printed
    assert "Quality gate pass rate: 80%" in printed  # 28 of 35 passed
    assert "Sample size: 35" in printed
    assert "Confidence: medium" in printed

    _, printed = run(example("Reading from Cache"), server, client=client, queries=queries[::-1])
    assert printed == "No prediction data available for this combination\n"
    client.stop()


# -- error handling, logging, dry-run, disabled ----------------------------------------------


def test_track_contract(server: Server) -> None:
    event = guide_event(server)
    # "Always safe, even if telemetry is misconfigured": every field invalid, then no config.
    broken = TelemetryConfig(server_url="ftp://x", api_key="secret?", instance_id="nope")
    for client in (TelemetryClient(broken), TelemetryClient(TelemetryConfig())):
        run(example("The `track()` Contract"), server, client=client, event=event)
        assert client.queue_size == 0
        client.stop()
    assert server.event_posts() == 0
    # And with a working client the same line delivers.
    with TelemetryClient(guide_config(server)) as client:
        run(example("The `track()` Contract"), server, client=client, event=event)
    assert str(event.event_id) in server.stored()


def test_logging(server: Server, caplog: pytest.LogCaptureFixture) -> None:
    root, sdk = logging.getLogger(), logging.getLogger("mosaicstack_telemetry")
    saved = (root.level, list(root.handlers), sdk.level)
    try:
        run(example("Logging"), server)
        assert sdk.getEffectiveLevel() == logging.DEBUG
        with caplog.at_level(logging.DEBUG, "mosaicstack_telemetry"):
            with TelemetryClient(guide_config(server)) as client:
                client.track(guide_event(server))
        # "Submission activity": each batch at DEBUG with its size, status and duration.
        line = rf"POST {re.escape(server.url)}/v1/events/batch: 1 items, HTTP 202 in [\d.]+ s"
        assert re.search(line, caplog.text)
    finally:
        for handler in root.handlers[:]:
            if handler not in saved[1]:
                root.removeHandler(handler)
        root.setLevel(saved[0])
        sdk.setLevel(saved[2])


def test_dry_run(server: Server, caplog: pytest.LogCaptureFixture) -> None:
    event = guide_event(server)
    with caplog.at_level(logging.INFO, "mosaicstack_telemetry"):
        run(
            example("Dry-Run Mode"),
            server,
            event=event,
            TelemetryConfig=TelemetryConfig,
            TelemetryClient=TelemetryClient,
        )
    assert (
        f"[DRY RUN] Would submit batch of 1 events to {server.url}/v1/events/batch" in caplog.text
    )
    assert server.event_posts() == 0


def test_disabling(server: Server, monkeypatch: pytest.MonkeyPatch) -> None:
    event = guide_event(server)
    names = {"event": event, "TelemetryConfig": TelemetryConfig, "TelemetryClient": TelemetryClient}
    namespace, _ = run(example("Disabling Telemetry"), server, **names)
    assert namespace["config"].enabled is False
    assert no_sender_threads()
    # The environment variable does the same to an otherwise valid config.
    monkeypatch.setenv("MOSAIC_TELEMETRY_ENABLED", "false")
    config = guide_config(server)
    assert config.enabled is False
    with TelemetryClient(config) as client:
        client.track(event)
        assert not client.is_running
        assert client.queue_size == 0
    assert server.event_posts() == 0
