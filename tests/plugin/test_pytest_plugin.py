"""The pytest plugin, as a user meets it: test files run by pytester in a subprocess, with the
plugin loaded by its `pytest11` entry point (no conftest, no `-p`)."""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys

import pytest

# Loaded here, before any test: `pytester` removes the modules a test imported when it ends,
# and a later inline run that imports them again gets a second copy of some classes (track()
# then refused "a TaskCompletionEvent, not TaskCompletionEvent", and PyYAML's C loader the
# contract). Run alone, this file failed so; within the whole suite, earlier tests had loaded
# them.
from tests.sdk.conftest import API_KEY, INSTANCE_ID, ScriptedServer, make_event

from mosaicstack_telemetry._spool import Spool

with contextlib.suppress(ImportError):  # the server extra
    import yaml  # noqa: F401


INI = "[pytest]\nasyncio_default_fixture_loop_scope = function\n"

CAPTURE_TESTS = """
import asyncio
import time

from mosaicstack_telemetry import (
    EventBuilder, PredictionQuery, PredictionResponse, TaskType, TelemetryClient, TelemetryConfig,
)

# Nothing listens here: a real send would fail (and take its timeouts).
CONFIG = dict(server_url="http://127.0.0.1:9", api_key="ab" * 32,
              instance_id="12345678-1234-4234-8234-123456789abc")


def my_code(client, model):
    client.track(EventBuilder(CONFIG["instance_id"]).task_type(TaskType.TESTING).model(model).build())


def test_one_line_assertions(captured_telemetry):
    client = TelemetryClient(TelemetryConfig(**CONFIG))
    my_code(client, "x")
    assert captured_telemetry.events[0].model == "x"
    event = captured_telemetry.assert_tracked(task_type=TaskType.TESTING, model="x")
    assert captured_telemetry.assert_tracked(1, task_type="testing") is event
    start = time.monotonic()
    assert client.flush().sent == 1
    client.stop()
    assert time.monotonic() - start < 1
    assert captured_telemetry.delivered == [event]
    assert client.stats().sent == 1 and client.stats().last_error is None


def test_any_client_with_a_running_sender_and_a_spool(captured_telemetry, tmp_path):
    with TelemetryClient(TelemetryConfig(**CONFIG, spool_path=str(tmp_path / "s.db"))) as client:
        for i in range(3):
            my_code(client, f"m{i}")
    assert [e.model for e in captured_telemetry.events] == ["m0", "m1", "m2"]
    assert len(captured_telemetry.delivered) == 3
    assert client.stats().spooled == 0


def test_async_client(captured_telemetry):
    async def main():
        async with TelemetryClient(TelemetryConfig(**CONFIG)) as client:
            my_code(client, "async")
            assert (await client.flush_async()).sent == 1
    asyncio.run(main())
    captured_telemetry.assert_tracked(1, model="async")


def test_what_a_real_client_drops_is_not_captured(captured_telemetry):
    my_code(TelemetryClient(TelemetryConfig(**CONFIG, enabled=False)), "disabled")
    my_code(TelemetryClient(TelemetryConfig(server_url="", api_key="", instance_id="")), "bad")
    TelemetryClient(TelemetryConfig(**CONFIG)).track({"not": "an event"})
    captured_telemetry.assert_nothing_tracked()


def test_predictions_answer_without_network(captured_telemetry):
    client = TelemetryClient(TelemetryConfig(**CONFIG))
    q1 = PredictionQuery(task_type="testing", model="a", provider="openai", complexity="low")
    q2 = PredictionQuery(task_type="testing", model="b", provider="openai", complexity="low")
    canned = PredictionResponse.model_validate(
        {"prediction": None, "metadata": {"sample_size": 7, "fallback_level": 0,
                                          "confidence": "low"}})
    captured_telemetry.set_prediction(q2, canned)
    client.refresh_predictions_sync([q1, q2])
    assert client.get_prediction(q1).metadata.confidence == "none"
    assert client.get_prediction(q2).metadata.sample_size == 7


def test_each_test_starts_empty(captured_telemetry):
    assert captured_telemetry.events == []


def test_set_prediction_validates_what_it_is_given(captured_telemetry):
    import pytest

    client = TelemetryClient(TelemetryConfig(**CONFIG))
    q = PredictionQuery(task_type="testing", model="d", provider="openai", complexity="low")
    captured_telemetry.set_prediction(
        q, {"prediction": None, "metadata": {"sample_size": 3, "fallback_level": 0,
                                             "confidence": "low"}})
    client.refresh_predictions_sync([q])
    assert isinstance(client.get_prediction(q), PredictionResponse)
    assert client.get_prediction(q).metadata.sample_size == 3
    with pytest.raises(ValueError, match="metadata"):
        captured_telemetry.set_prediction(q, {"prediction": None})  # a typo fails here
    with pytest.raises(TypeError, match="not str"):
        captured_telemetry.set_prediction(q, "high")
    # An optional key misspelt: validation alone would drop it (and the note would be None).
    with pytest.raises(ValueError, match="metadata.fallback_notes"):
        captured_telemetry.set_prediction(
            q, {"prediction": None, "metadata": {"sample_size": 3, "fallback_level": 0,
                                                 "confidence": "low", "fallback_notes": "x"}})


def test_assertions_take_an_id_as_text_and_name_unknown_fields(captured_telemetry):
    import pytest

    with pytest.raises(AssertionError, match="not event fields: \\['modle'\\]"):
        captured_telemetry.assert_tracked(modle="x")  # nothing tracked yet: still a typo
    my_code(TelemetryClient(TelemetryConfig(**CONFIG)), "by-id")
    captured_telemetry.assert_tracked(1, instance_id=CONFIG["instance_id"].upper())


def test_a_ci_kill_switch_does_not_empty_the_capture(captured_telemetry):
    import os

    assert "MOSAIC_TELEMETRY_ENABLED" not in os.environ
    my_code(TelemetryClient(TelemetryConfig(**CONFIG)), "captured-anyway")
    captured_telemetry.assert_tracked(1, model="captured-anyway")


def test_failure_message_lists_what_was_tracked(captured_telemetry):
    my_code(TelemetryClient(TelemetryConfig(**CONFIG)), "other-model")
    my_code(TelemetryClient(TelemetryConfig(**CONFIG, enabled=False)), "wanted")
    captured_telemetry.assert_tracked(model="wanted")
"""


def test_captured_telemetry(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    """In a subprocess: a fresh pytest that finds the plugin through its entry point alone."""
    pytester.makeini(INI)
    pytester.makepyfile(test_capture=CAPTURE_TESTS)
    # The CI's kill switch is on: the fixture lifts it for its own tests.
    monkeypatch.setenv("MOSAIC_TELEMETRY_ENABLED", "false")
    # The developer's hook spool is set in the shell and holds events waiting for a real send:
    # the tests' clients used to capture them as theirs and empty the spool.
    spool_path = str(pytester.path / "hook-spool.db")
    spool = Spool(spool_path, 1000)
    spool.add_events([make_event() for _ in range(3)])
    spool.close()
    monkeypatch.setenv("MOSAIC_TELEMETRY_SPOOL_PATH", spool_path)
    result = pytester.runpytest_subprocess("-q", "-p", "no:cacheprovider", timeout=120)
    result.assert_outcomes(passed=9, failed=1)
    spool = Spool(spool_path, 1000)
    assert spool.count() == 3
    spool.close()
    result.stdout.fnmatch_lines(
        [
            "*no tracked event matches {'model': 'wanted'}; tracked:*",
            "*task_type=testing model='other-model' provider=unknown outcome=failure*",
            "*and 1 not queued: the client is disabled (enabled=False, or its config was made*",
        ]
    )


LEAK_TESTS = """
import os

from mosaicstack_telemetry import EventBuilder, TelemetryClient, TelemetryConfig

# The code under test talks to a real server; here, the outer test's local server.
CONFIG = TelemetryConfig(server_url=os.environ["REAL_URL"], api_key=os.environ["REAL_KEY"],
                         instance_id=os.environ["REAL_INSTANCE"])
EARLY = TelemetryClient(CONFIG)  # an app-global client, made at import, before any test
EARLY.start()
LAZY = TelemetryClient(CONFIG)  # another, never started: the exit flush is its sender


def track(client, model):
    client.track(EventBuilder(CONFIG.instance_id).model(model).build())


def test_a_client_made_before_the_test(captured_telemetry):
    track(EARLY, "early")
    EARLY.flush()
    assert [e.model for e in captured_telemetry.delivered] == ["early"]


def test_a_client_the_test_never_stops(captured_telemetry):
    track(TelemetryClient(CONFIG), "never-stopped")  # its sender is the exit flush's
    captured_telemetry.assert_tracked(1, model="never-stopped")


def test_a_started_client_the_test_never_stops(captured_telemetry):
    client = TelemetryClient(CONFIG)
    client.start()
    track(client, "started")
    captured_telemetry.assert_tracked(1, model="started")


def test_app_global_clients_left_holding_the_tests_events(captured_telemetry):
    # Neither flushed: what they hold at the test's end went to the real server at exit.
    track(EARLY, "early-unflushed")
    track(LAZY, "lazy-unflushed")
    captured_telemetry.assert_tracked(1, model="lazy-unflushed")


def test_an_app_global_client_sends_to_its_server_again_after_the_capture():
    track(LAZY, "after-the-capture")
    assert LAZY.flush().sent == 1
"""


def test_captured_events_never_reach_a_real_server_after_the_test(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A client made in a captured test and never stopped was sent through a real wire at
    # pytest's exit, once the fixture had put the real one back.
    pytester.makeini(INI)
    pytester.makepyfile(test_leak=LEAK_TESTS)
    server = ScriptedServer()  # accepts anything: what reaches it leaked
    try:
        monkeypatch.setenv("REAL_URL", server.url)
        monkeypatch.setenv("REAL_KEY", API_KEY)
        monkeypatch.setenv("REAL_INSTANCE", INSTANCE_ID)
        result = pytester.runpytest_subprocess("-q", "-p", "no:cacheprovider", timeout=120)
        result.assert_outcomes(passed=5)
        sent = [e["model"] for s in server.events_posts() for e in s.json()["events"]]
        assert sent == ["after-the-capture"]
    finally:
        server.close()


SERVER_TESTS = """
import subprocess, sys

from mosaicstack_telemetry import EventBuilder, TelemetryClient


def test_delivers_to_the_local_server(telemetry_server):
    assert telemetry_server.url.startswith("http://127.0.0.1:")
    with TelemetryClient(telemetry_server.config(batch_size=10)) as client:
        client.track(EventBuilder(telemetry_server.instance_id).model("served").build())
    (event,) = telemetry_server.events()
    assert event["model"] == "served"
    assert telemetry_server.api_key not in repr(telemetry_server)


def test_env_for_a_subprocess(telemetry_server, tmp_path):
    env = {**telemetry_server.env(), "MOSAIC_TELEMETRY_SPOOL_PATH": str(tmp_path / "s.db")}
    cmd = [sys.executable, "-m", "mosaicstack_telemetry", "track", "--flush", "--model", "cli"]
    subprocess.run(cmd, env=env, check=True, timeout=60)
    assert [e["model"] for e in telemetry_server.events()] == ["cli"]


def test_fresh_server_per_test(telemetry_server):
    assert telemetry_server.events() == []
"""


def test_telemetry_server(pytester: pytest.Pytester) -> None:
    pytest.importorskip("mosaicstack_telemetry.server")
    pytester.makeini(INI)
    pytester.makepyfile(test_server=SERVER_TESTS)
    result = pytester.runpytest("-q", "-p", "no:cacheprovider")  # inline: the entry point too
    result.assert_outcomes(passed=3)


def test_telemetry_server_skips_without_the_server_extra(pytester: pytest.Pytester) -> None:
    pytester.makeini(INI)
    pytester.makeconftest(
        "import sys\nsys.modules['mosaicstack_telemetry.server'] = None  # the extra is missing\n"
    )
    pytester.makepyfile(test_skip="def test_x(telemetry_server):\n    pass\n")
    result = pytester.runpytest("-q", "-rs", "-p", "no:cacheprovider")  # sys.modules restored
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(["*telemetry_server needs mosaicstack-telemetry?server?*"])


HEAVY = [
    "pydantic",
    "httpx",
    "mosaicstack_telemetry._client",
    "mosaicstack_telemetry.server",
    "uvicorn",
    "starlette",
    "jsonschema_rs",
    "yaml",
    "_mosaicstack_telemetry_generated.client",
]


def test_importing_the_plugin_is_cheap() -> None:
    """Loaded in every pytest run: importing it (and so the package, whose names load lazily)
    pulls in none of the SDK, the server or their dependencies until a fixture is used."""
    code = f"""
import json, sys
import pytest
before = set(sys.modules)
import mosaicstack_telemetry.pytest_plugin
added = sorted(set(sys.modules) - before)
print(json.dumps({{"added": added, "heavy": [m for m in {HEAVY!r} if m in sys.modules]}}))
"""
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    report = json.loads(out.stdout)
    assert report["heavy"] == []
    ours = {m for m in report["added"] if m.split(".")[0].endswith("mosaicstack_telemetry")}
    assert ours == {
        "mosaicstack_telemetry",
        "mosaicstack_telemetry._version",
        "mosaicstack_telemetry.pytest_plugin",
    }
