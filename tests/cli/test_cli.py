"""Every command of `mosaic-telemetry`, run as a subprocess against the local server."""

from __future__ import annotations

import json
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from tests.cli.conftest import DEAD_URL, INSTANCE, KEY, Cli, Result

from mosaicstack_telemetry import TaskCompletionEvent
from mosaicstack_telemetry._spool import Spool
from mosaicstack_telemetry.pytest_plugin import TelemetryServer


def spooled(path: Path) -> list[TaskCompletionEvent]:
    if not path.exists():
        return []
    with sqlite3.connect(path) as conn:
        rows = conn.execute("SELECT body FROM events ORDER BY id").fetchall()
    return [TaskCompletionEvent.model_validate_json(body) for (body,) in rows]


def prefill(cli: Cli, instance: str, n: int = 1, **fields: object) -> list[str]:
    """Events put straight into the spool, for tests about what comes after `track`."""
    from tests.sdk.conftest import make_event

    events = [
        TaskCompletionEvent.model_validate(
            {**make_event().model_dump(), "instance_id": instance, **fields}
        )
        for _ in range(n)
    ]
    Spool(cli.spool).add(
        (str(e.event_id), str(e.instance_id), e.model_dump_json().encode()) for e in events
    )
    return [str(e.event_id) for e in events]


FULL = [
    "--task-type", "implementation", "--model", "claude-sonnet-4-5", "--provider", "anthropic",
    "--harness", "claude_code", "--complexity", "high", "--outcome", "success",
    "--duration-ms", "45000", "--estimated-in", "1000", "--estimated-out", "500",
    "--actual-in", "1200", "--actual-out", "450", "--estimated-cost", "6000", "--cost", "9000",
    "--quality-passed", "--gates-run", "build,lint,test", "--gates-failed", "",
    "--compactions", "2", "--rotations", "1", "--utilization", "0.72", "--retry-count", "1",
    "--language", "python", "--repo-size", "medium",
    "--event-id", "9b2f7c1e-4a5d-4e8f-9a0b-1c2d3e4f5a6b", "--timestamp", "2025-01-02T03:04:05Z",
]  # fmt: skip


# -- track -----------------------------------------------------------------------------------


def test_track_spools_every_field_and_returns_quickly_with_the_server_down(cli: Cli) -> None:
    cli.point_at(DEAD_URL)
    start = time.monotonic()
    res = cli.run("track", *FULL)
    assert time.monotonic() - start < 10  # no network wait: the server is never contacted
    assert res.code == 0, res.err
    assert res.out.strip() == "9b2f7c1e-4a5d-4e8f-9a0b-1c2d3e4f5a6b"
    assert res.err == ""
    (event,) = spooled(cli.spool)
    assert event.model == "claude-sonnet-4-5"
    assert event.task_type == "implementation"
    assert event.harness == "claude_code"
    assert event.complexity == "high"
    assert event.outcome == "success"
    assert event.task_duration_ms == 45000
    assert (event.estimated_input_tokens, event.estimated_output_tokens) == (1000, 500)
    assert (event.actual_input_tokens, event.actual_output_tokens) == (1200, 450)
    assert (event.estimated_cost_usd_micros, event.actual_cost_usd_micros) == (6000, 9000)
    assert event.quality_gate_passed is True
    assert event.quality_gates_run == ["build", "lint", "test"]
    assert event.quality_gates_failed == []
    assert (event.context_compactions, event.context_rotations) == (2, 1)
    assert event.context_utilization_final == 0.72
    assert event.retry_count == 1
    assert event.language == "python"
    assert event.repo_size_category == "medium"
    assert event.timestamp.isoformat() == "2025-01-02T03:04:05+00:00"
    assert str(event.instance_id) == INSTANCE


def test_track_defaults_are_the_builders(cli: Cli) -> None:
    cli.point_at(DEAD_URL)
    assert cli.run("track").code == 0
    (event,) = spooled(cli.spool)
    assert (event.task_type, event.model, event.provider, event.harness) == (
        "unknown",
        "unknown",
        "unknown",
        "unknown",
    )
    assert (event.complexity, event.outcome, event.task_duration_ms) == ("medium", "failure", 0)
    assert event.quality_gate_passed is False
    assert event.event_id.version == 4


def test_track_json_on_stdin_with_options_overriding(cli: Cli) -> None:
    cli.point_at(DEAD_URL)
    payload = {
        "model": "gpt-5",
        "provider": "openai",
        "task_duration_ms": 1234,
        "outcome": "partial",
    }
    res = cli.run("track", "--json", "-", "--outcome", "success", stdin=json.dumps(payload))
    assert res.code == 0, res.err
    (event,) = spooled(cli.spool)
    assert (event.model, event.provider, event.task_duration_ms) == ("gpt-5", "openai", 1234)
    assert event.outcome == "success"


def test_track_json_from_a_file(cli: Cli, tmp_path: Path) -> None:
    cli.point_at(DEAD_URL)
    path = tmp_path / "event.json"
    path.write_text(json.dumps({"task_type": "testing", "quality_gates_run": ["test"]}))
    assert cli.run("track", "--json", str(path)).code == 0
    (event,) = spooled(cli.spool)
    assert event.task_type == "testing"
    assert event.quality_gates_run == ["test"]


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (["--task-type", "nap"], None, "invalid choice"),
        (["--duration-ms", "soon"], None, "invalid int value"),
        (["--gates-run", "build,vibes"], None, "unknown gate 'vibes'"),
        (["--duration-ms", "-5"], None, "task_duration_ms: Input should be greater than"),
        (["--utilization", "1.5"], None, "context_utilization_final"),
        (["--event-id", "not-a-uuid"], None, "event_id"),
        (["--json", "-"], "{not json", "not valid JSON"),
        (["--json", "-"], "[1, 2]", "expected a JSON object"),
        (["--json", "-"], '{"colour": "red"}', "colour: Extra inputs are not permitted"),
        (["--json", "/nonexistent/event.json"], None, "cannot read"),
    ],
)
def test_track_rejects_bad_input_with_exit_2(
    cli: Cli, inproc: Callable[..., Result], args: list[str], stdin: str | None, message: str
) -> None:
    cli.point_at(DEAD_URL)
    res = inproc("track", *args, stdin=stdin or "")
    assert res.code == 2
    assert message in res.err
    assert spooled(cli.spool) == []


def test_track_with_an_incomplete_config_exits_2_and_stores_nothing(cli: Cli) -> None:
    res = cli.run("track", "--model", "x", MOSAIC_TELEMETRY_SERVER_URL="http://127.0.0.1:9")
    assert res.code == 2
    assert "api_key must be a 64-character hexadecimal string (it is not set)" in res.err
    assert "instance_id is required" in res.err
    assert "server_url" not in res.err.split("MOSAIC_TELEMETRY_SERVER_URL")[0]
    assert "set MOSAIC_TELEMETRY_SERVER_URL, MOSAIC_TELEMETRY_API_KEY and" in res.err
    assert not cli.spool.exists()


def test_a_config_invalid_elsewhere_is_not_told_to_set_the_three_essentials(cli: Cli) -> None:
    cli.point_at(DEAD_URL)
    res = cli.run("track", "--request-timeout", "-1")
    assert res.code == 2
    assert "request_timeout_seconds must be a positive number" in res.err
    assert "set MOSAIC_TELEMETRY_SERVER_URL" not in res.err  # they are set: beside the point
    assert "see `mosaic-telemetry config`" in res.err


def test_track_when_disabled_stores_nothing_and_succeeds(cli: Cli) -> None:
    cli.point_at(DEAD_URL)
    res = cli.run("track", MOSAIC_TELEMETRY_ENABLED="false")
    assert res.code == 0
    assert "disabled" in res.err
    assert spooled(cli.spool) == []


def test_track_when_disabled_needs_no_config_at_all(cli: Cli) -> None:
    # The kill switch works even where nothing else is configured (a hook on a new machine).
    res = cli.run("track", "--model", "x", MOSAIC_TELEMETRY_ENABLED="0")
    assert res.code == 0, res.both
    assert "Field required" not in res.both
    assert spooled(cli.spool) == []


def test_track_with_an_unwritable_spool_says_so_without_a_traceback(
    cli: Cli, tmp_path: Path
) -> None:
    cli.point_at(DEAD_URL)
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    for extra in ((), ("--flush", "--flush-timeout", "0.5")):
        res = cli.run("track", *extra, MOSAIC_TELEMETRY_SPOOL_PATH=str(blocker / "spool.db"))
        assert res.code == 1, res.both
        assert "could not write the event to" in res.err
        assert "Traceback" not in res.both


def test_track_uses_the_default_spool_in_the_data_directory(cli: Cli, tmp_path: Path) -> None:
    cli.point_at(DEAD_URL)
    assert cli.run("track", MOSAIC_TELEMETRY_SPOOL_PATH="").code == 0
    assert len(spooled(tmp_path / "data" / "mosaicstack-telemetry" / "spool.sqlite3")) == 1
    assert not cli.spool.exists()


def test_track_spool_option_wins_over_the_environment(cli: Cli, tmp_path: Path) -> None:
    cli.point_at(DEAD_URL)
    other = tmp_path / "other.db"
    assert cli.run("track", "--spool", str(other)).code == 0
    assert len(spooled(other)) == 1
    assert not cli.spool.exists()


def test_track_for_another_instance_says_which_flush_sends_it(cli: Cli) -> None:
    """An event naming another instance waits for a flush configured with it (this config's
    key cannot send it): recorded without a word, while this config's flush said "remaining 0"
    for ever."""
    cli.point_at(DEAD_URL)
    other = "00000000-0000-4000-8000-000000000001"
    res = cli.run("track", "--event-instance-id", other, "--no-prices")
    assert res.code == 0, res.both
    assert f"recorded for instance {other}, not this config's ({INSTANCE})" in res.err
    assert "only a flush configured with that instance" in res.err
    same = cli.run("track", "--event-instance-id", INSTANCE.upper(), "--no-prices")
    assert (same.code, same.err) == (0, "")


def test_track_then_flush_delivers(cli: Cli, telemetry_server: TelemetryServer) -> None:
    cli.env.update(telemetry_server.env())
    ids = [cli.run("track", "--model", f"m{i}").out.strip() for i in range(2)]
    ids += prefill(cli, telemetry_server.instance_id)
    assert telemetry_server.events() == []  # track never sends
    res = cli.run("flush")
    assert res.code == 0, res.err
    assert res.out.strip() == "sent 3, duplicate 0, rejected 0, dropped 0, remaining 0"
    assert sorted(e["event_id"] for e in telemetry_server.events()) == sorted(ids)
    assert Spool(cli.spool).count() == 0


def test_flush_counts_the_events_the_server_already_had(
    cli: Cli, telemetry_server: TelemetryServer
) -> None:
    """Events sent once whose rows came back (a flush whose answer was lost) left the spool
    unseen in the summary: sent 0, rejected 0, dropped 0 for 2 events gone."""
    cli.env.update(telemetry_server.env())
    for i in range(2):
        cli.run("track", "--model", f"m{i}")
    copy = cli.spool.with_name("before-flush.db")
    shutil.copyfile(cli.spool, copy)
    assert cli.run("flush").out.strip() == "sent 2, duplicate 0, rejected 0, dropped 0, remaining 0"
    shutil.copyfile(copy, cli.spool)
    res = cli.run("flush", "--json")
    assert res.code == 0, res.err
    assert json.loads(res.out) == {
        "sent": 0,
        "duplicate": 2,
        "rejected": 0,
        "dropped": 0,
        "remaining": 0,
        "last_error": None,
    }
    shutil.copyfile(copy, cli.spool)
    res = cli.run("flush")
    assert res.out.strip() == "sent 0, duplicate 2, rejected 0, dropped 0, remaining 0"
    assert len(telemetry_server.events()) == 2
    assert Spool(cli.spool).count() == 0


def test_track_flush_delivers_at_once(cli: Cli, telemetry_server: TelemetryServer) -> None:
    cli.env.update(telemetry_server.env())
    res = cli.run("track", "--flush", "--model", "now")
    assert res.code == 0, res.err
    assert [e["model"] for e in telemetry_server.events()] == ["now"]
    assert Spool(cli.spool).count() == 0


def test_track_flush_with_the_server_down_keeps_the_event(cli: Cli) -> None:
    cli.point_at(DEAD_URL)
    start = time.monotonic()
    res = cli.run("track", "--flush", "--flush-timeout", "0.5")
    assert time.monotonic() - start < 15
    assert res.code == 1
    assert "stay in the spool" in res.err
    assert len(spooled(cli.spool)) == 1


# -- flush -----------------------------------------------------------------------------------


def test_flush_with_the_server_down_exits_1_and_keeps_everything(cli: Cli) -> None:
    cli.point_at(DEAD_URL)
    prefill(cli, INSTANCE)
    res = cli.run("flush", "--timeout", "0.5", "--json")
    assert res.code == 1
    summary = json.loads(res.out)
    assert summary["remaining"] == 1
    assert summary["sent"] == 0
    assert "ConnectError" in summary["last_error"]
    assert len(spooled(cli.spool)) == 1


@pytest.mark.skipif(sys.platform == "win32", reason="dead-process leases are POSIX")
@pytest.mark.parametrize("signum", [signal.SIGKILL, signal.SIGINT], ids=["SIGKILL", "SIGINT"])
def test_flush_after_a_killed_flush_sends_what_the_dead_one_held(cli: Cli, signum: int) -> None:
    """A flush killed with its batch in flight leaves the batch leased to a dead process. The
    next flush counted only unleased events, found none, and said "sent 0 ... remaining 0",
    exit 0, with all of them still in the spool (sent only once the lease ran out, minutes
    later)."""
    from mosaicstack_telemetry.server import FaultConfig, start_server

    ids = prefill(cli, INSTANCE, 20)
    slow = FaultConfig(rate=1.0, kinds=("delay",), delay_seconds=5.0)
    with start_server(keys={KEY: INSTANCE}, faults=slow) as srv:
        cli.point_at(srv.url)
        flush = subprocess.Popen(
            [sys.executable, "-m", "mosaicstack_telemetry", "flush"],
            env=cli.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            for _ in range(3000):  # until its batch is leased (bounded: 30 s)
                with sqlite3.connect(cli.spool) as probe:
                    (leased,) = probe.execute(
                        "SELECT COUNT(*) FROM events WHERE lease_pid = ?", (flush.pid,)
                    ).fetchone()
                if leased:
                    break
                time.sleep(0.01)
            flush.send_signal(signum)
        finally:
            flush.wait(timeout=30)
        assert leased == 20
    with start_server(keys={KEY: INSTANCE}) as srv:
        cli.point_at(srv.url)
        res = cli.run("flush", "--json")
        assert res.code == 0, res.both
        summary = json.loads(res.out)
        assert (summary["sent"], summary["remaining"]) == (20, 0), res.both
        assert sorted(e["event_id"] for e in srv.stored_events()) == sorted(ids)
    assert Spool(cli.spool).count() == 0


def test_flush_a_large_spool_shows_progress_and_a_summary(
    cli: Cli, telemetry_server: TelemetryServer
) -> None:
    cli.env.update(telemetry_server.env())
    prefill(cli, telemetry_server.instance_id, 600)
    res = cli.run("flush")
    assert res.code == 0, res.err
    assert "flush: 600/600 (100%)" in res.err  # not a terminal: one line per 10%
    assert res.out.strip() == "sent 600, duplicate 0, rejected 0, dropped 0, remaining 0"
    assert len(telemetry_server.events()) == 600


def test_flush_small_spool_is_quiet_unless_asked(
    cli: Cli, telemetry_server: TelemetryServer
) -> None:
    cli.env.update(telemetry_server.env())
    prefill(cli, telemetry_server.instance_id)
    # No progress for one event: stderr (not a terminal) has only the one attempt's line.
    (line,) = cli.run("flush").err.splitlines()
    assert line.startswith("mosaic-telemetry: POST ")
    assert "1 items, HTTP 202" in line
    prefill(cli, telemetry_server.instance_id)
    assert "flush: 1/1 (100%)" in cli.run("flush", "--progress").err


def test_flush_with_a_wrong_key_keeps_the_events_and_never_prints_the_key(
    cli: Cli, telemetry_server: TelemetryServer
) -> None:
    cli.env.update(telemetry_server.env())
    prefill(cli, telemetry_server.instance_id)
    res = cli.run("flush", "-vv", MOSAIC_TELEMETRY_API_KEY=KEY)  # a key the server does not know
    assert res.code == 1
    assert "remaining 1" in res.out
    assert "403" in res.err
    assert KEY not in res.both
    assert telemetry_server.api_key not in res.both
    assert len(spooled(cli.spool)) == 1  # 401/403 batches stay for a fixed key
    assert cli.run("flush").code == 0  # the right key again
    assert len(telemetry_server.events()) == 1


def test_another_instances_events_are_left_in_a_shared_spool(
    cli: Cli, telemetry_server: TelemetryServer
) -> None:
    # The hook and `track` share one spool per user, whatever the project's instance: a flush
    # with one instance's key sent the other's events, the server refused them for good
    # (instance_mismatch), and they were deleted: never stored anywhere.
    cli.env.update(telemetry_server.env())
    other_instance = "00000000-0000-4000-8000-0000000000ff"
    cli.run("track", "--event-instance-id", other_instance)  # another project's event
    cli.run("track", "--model", "mine")
    res = cli.run("flush")
    assert res.out.strip() == "sent 1, duplicate 0, rejected 0, dropped 0, remaining 0"
    assert res.code == 0
    assert [e["model"] for e in telemetry_server.events()] == ["mine"]
    assert len(spooled(cli.spool)) == 1  # kept for a flush with its own instance's key


# -- predict ---------------------------------------------------------------------------------


def test_predict_prints_a_table_and_json(cli: Cli, telemetry_server: TelemetryServer) -> None:
    cli.env.update(telemetry_server.env())
    prefill(
        cli, telemetry_server.instance_id, 3, task_type="testing", model="m1",
        provider="openai", complexity="low", actual_input_tokens=100, actual_output_tokens=50,
        outcome="success",
    )  # fmt: skip
    assert cli.run("flush").code == 0
    query = ["--task-type", "testing", "--provider", "openai", "--complexity", "low"]
    res = cli.run("predict", *query, "--model", "m1", "--model", "nothing-known")
    assert res.code == 0, res.err
    lines = res.out.splitlines()
    assert lines[0].split()[:6] == ["TASK", "MODEL", "PROVIDER", "CPLX", "CONF", "N"]
    assert lines[1].split()[:7] == ["testing", "m1", "openai", "low", "low", "3", "100"]
    assert lines[2].split()[:2] == ["testing", "nothing-known"]
    # The fallback's note names the row it is about (it read as if about every row).
    (note,) = [line for line in lines if line.startswith("note")]
    assert note.startswith("note (testing, nothing-known, openai, low): "), res.out
    res = cli.run("predict", *query, "--model", "m1", "--json")
    (answer,) = json.loads(res.out)
    assert answer["query"]["model"] == "m1"
    assert answer["metadata"]["sample_size"] == 3
    assert answer["prediction"]["input_tokens"]["median"] == 100


def test_predict_usage_errors_exit_2(cli: Cli, inproc: Callable[..., Result]) -> None:
    cli.point_at(DEAD_URL)
    res = inproc("predict", "--task-type", "testing")
    assert res.code == 2
    assert "--model, --provider, --complexity" in res.err
    args = ["--task-type", "testing", "--complexity", "low", "--model", "a", "--model", "b"]
    res = inproc("predict", *args, "--model", "c", "--provider", "openai", "--provider", "google")
    assert res.code == 2
    assert "--provider given 2 times; give it once or 3 times" in res.err
    res = inproc("predict", *args, "--provider", "nope")
    assert res.code == 2
    assert "invalid query" in res.err


def test_predict_with_the_server_down_exits_1(cli: Cli) -> None:
    cli.point_at(DEAD_URL)
    args = ["--task-type", "testing", "--model", "a", "--provider", "openai", "--complexity", "low"]
    res = cli.run("predict", *args, "--max-retries", "0", "--request-timeout", "0.5")
    assert res.code == 1
    assert "could not fetch predictions" in res.err


# -- doctor ----------------------------------------------------------------------------------


def test_doctor_all_good(cli: Cli, telemetry_server: TelemetryServer) -> None:
    cli.env.update(telemetry_server.env())
    prefill(cli, telemetry_server.instance_id)
    res = cli.run("doctor")
    assert res.code == 0, res.out
    assert "[  ok] auth" in res.out
    assert "HTTP 422" in res.out  # the empty batch passed auth and was refused: nothing stored
    assert "1 events waiting" in res.out
    assert "[  ok] spool-integrity" in res.out
    assert "no problems found" in res.out
    assert telemetry_server.events() == []
    assert telemetry_server.api_key not in res.both


def test_doctor_finds_a_bad_key(cli: Cli, telemetry_server: TelemetryServer) -> None:
    cli.env.update(telemetry_server.env())
    res = cli.run("doctor", MOSAIC_TELEMETRY_API_KEY=KEY)
    assert res.code == 1
    assert "[FAIL] auth" in res.out
    assert "HTTP 403" in res.out
    assert KEY not in res.both


def test_doctor_finds_an_unreachable_server_and_a_bad_config(cli: Cli) -> None:
    cli.point_at(DEAD_URL)
    res = cli.run("doctor", "--timeout", "2")
    assert res.code == 1
    assert "[FAIL] tcp" in res.out
    assert "does not exist yet" in res.out  # the spool: fine, created by the first track
    res = cli.run("doctor", MOSAIC_TELEMETRY_INSTANCE_ID="nope")
    assert res.code == 1
    assert "instance_id must be a valid UUID" in res.out


def test_doctor_reports_an_unusable_url_instead_of_crashing(cli: Cli) -> None:
    cli.point_at("https://tel-api.example:99999")
    res = cli.run("doctor", "--timeout", "1")
    assert res.code == 1
    assert "[FAIL] network" in res.out
    assert "not a usable URL" in res.out
    assert "Traceback" not in res.both


def test_doctor_finds_a_broken_spool(cli: Cli) -> None:
    cli.point_at(DEAD_URL)
    cli.spool.write_bytes(b"this is not a database" * 100)
    res = cli.run("doctor", "--timeout", "1")
    assert res.code == 1
    assert "cannot be opened as a spool" in res.out


# -- config ----------------------------------------------------------------------------------


def test_config_shows_values_and_sources_never_the_key(cli: Cli, tmp_path: Path) -> None:
    cli.point_at(DEAD_URL)
    key_file = tmp_path / "key"
    other = "fedcba9876543210" * 4
    key_file.write_text(other + "\n")
    res = cli.run(
        "config", "--server-url", "http://127.0.0.1:8000", "--api-key-file", str(key_file)
    )
    assert res.code == 0
    rows = {line.split()[0]: line for line in res.out.splitlines()}
    assert "option --server-url" in rows["server_url"]
    assert "<redacted, 64 hex>" in rows["api_key"]
    assert "option --api-key" in rows["api_key"]
    assert "environment MOSAIC_TELEMETRY_INSTANCE_ID" in rows["instance_id"]
    assert "environment MOSAIC_TELEMETRY_SPOOL_PATH" in rows["spool_path"]
    assert rows["batch_size"].split()[1:] == ["100", "default"]
    assert other not in res.both
    assert KEY not in res.both
    data = json.loads(cli.run("config", "--json").out)
    assert data["api_key"] == {
        "value": "<redacted, 64 hex>",
        "source": "environment MOSAIC_TELEMETRY_API_KEY",
    }


def test_config_reports_a_malformed_key_without_showing_it(cli: Cli) -> None:
    res = cli.run("config", "--api-key", "secret-but-short")
    assert "<redacted, 16 chars, not 64 hex>" in res.out
    assert "secret-but-short" not in res.both
    assert "invalid: api_key" in res.out


def test_a_one_letter_key_does_not_mangle_the_message(cli: Cli) -> None:
    # Scrubbing "x" from everything printed once turned "hexadecimal" into "he<redacted>...".
    res = cli.run("track", "--api-key", "x", "--model", "m")
    assert res.code == 2
    assert "character 1 is not hexadecimal" in res.err


# -- the key, everywhere ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["track", "-vv", "--flush", "--flush-timeout", "0.3"],
        ["track", "--api-key", KEY, "--task-type", "nope"],
        ["track", KEY],  # a key pasted where no argument belongs
        ["flush", "-vv", "--timeout", "0.3"],
        ["doctor", "-vv", "--timeout", "1"],
        ["config", "--json"],
        ["predict", "--task-type", "testing", "--model", KEY, "--provider", "openai",
         "--complexity", "low", "--max-retries", "0"],
    ],
)  # fmt: skip
def test_the_key_is_never_printed(cli: Cli, args: list[str]) -> None:
    cli.point_at(DEAD_URL)
    res = cli.run(*args, timeout=90)
    assert KEY not in res.both
    assert KEY.upper() not in res.both


# -- help, serve -----------------------------------------------------------------------------


def test_help_of_every_command(cli: Cli, inproc: Callable[..., Result]) -> None:
    res = cli.run("--help")
    assert res.code == 0
    for command in ("track", "flush", "predict", "serve", "doctor", "config"):
        assert command in res.out
    for command in ("track", "flush", "predict", "doctor", "config"):
        res = inproc(command, "--help")
        assert res.code == 0, command
        assert f"usage: mosaic-telemetry {command}" in res.out
    res = cli.run("serve", "--help")
    assert res.code == 0
    assert "--port" in res.out
    assert "--key" in res.out


def test_no_command_is_a_usage_error(cli: Cli, inproc: Callable[..., Result]) -> None:
    res = cli.run()
    assert res.code == 2
    assert "usage: mosaic-telemetry" in res.err
    assert inproc("frobnicate").code == 2


def test_serve_without_the_server_extra_exits_1(
    inproc: Callable[..., Result], monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "mosaicstack_telemetry.server.__main__", None)
    res = inproc("serve", "--port", "0")
    assert res.code == 1
    assert "pip install 'mosaicstack-telemetry[server]'" in res.err


def test_default_spool_without_platformdirs(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import sys

    from mosaicstack_telemetry.cli._settings import default_spool_path

    monkeypatch.setitem(sys.modules, "platformdirs", None)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert default_spool_path() == tmp_path / "xdg" / "mosaicstack-telemetry" / "spool.sqlite3"
    monkeypatch.delenv("XDG_DATA_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "h"))
    expected = tmp_path / "h" / ".local" / "share" / "mosaicstack-telemetry" / "spool.sqlite3"
    assert default_spool_path() == expected


def test_track_fields_start_from_the_builder_defaults_and_report_only_what_is_wrong(
    tmp_path: Path,
) -> None:
    import argparse

    from pydantic import ValidationError

    from mosaicstack_telemetry import EventBuilder, EventSpool
    from mosaicstack_telemetry.cli._track import add_event_options, event_fields, invalid_event

    parser = argparse.ArgumentParser()
    add_event_options(parser)
    path = tmp_path / "spool.sqlite3"

    def fields(*argv: str, instance: str) -> dict[str, object]:
        args = parser.parse_args(list(argv))
        args.json = None
        return event_fields(args, instance)

    with EventSpool(path) as spool:
        spool.add(fields("--model", "m", instance=INSTANCE))
        # The configured instance id is unusable but the event names its own: that is enough.
        spool.add(fields("--event-instance-id", INSTANCE, instance=""))
        # A bad instance id is the one error reported, not every field of the event.
        with pytest.raises(ValidationError) as info:
            spool.add(fields(instance="nope"))
    event, named = spooled(path)
    template = EventBuilder(INSTANCE).model("m").build()
    skip = {"event_id", "timestamp"}
    assert event.model_dump(exclude=skip) == template.model_dump(exclude=skip)
    assert str(named.instance_id) == INSTANCE
    problems = invalid_event(info.value).splitlines()[1:]
    assert len(problems) == 1
    assert problems[0].startswith("  instance_id: ")


# -- prices, config --json (issue 15) --------------------------------------------------------


def test_track_prices_the_tokens_unless_a_cost_is_given(cli: Cli) -> None:
    from genai_prices import Usage, calc_price

    cli.point_at(DEAD_URL)
    tokens = ["--model", "claude-sonnet-4-5", "--provider", "anthropic"]
    tokens += ["--actual-in", "1000", "--actual-out", "200"]
    assert cli.run("track", *tokens).code == 0
    assert cli.run("track", *tokens, "--cost", "7").code == 0
    assert cli.run("track", *tokens, "--no-prices").code == 0
    given = json.dumps({"actual_cost_usd_micros": 9})
    assert cli.run("track", *tokens, "--json", "-", stdin=given).code == 0
    # A cost of 0 is a cost too (a free or flat-rate run): it used to be priced over.
    assert cli.run("track", *tokens, "--cost", "0").code == 0
    free = json.dumps({"actual_cost_usd_micros": 0})
    assert cli.run("track", *tokens, "--json", "-", stdin=free).code == 0
    price = calc_price(
        Usage(input_tokens=1000, output_tokens=200),
        model_ref="claude-sonnet-4-5",
        provider_id="anthropic",
    )
    costs = [e.actual_cost_usd_micros for e in spooled(cli.spool)]
    assert costs == [round(price.total_price * 1_000_000), 7, 0, 9, 0, 0]


def test_config_json_has_json_values(cli: Cli) -> None:
    cli.point_at("http://127.0.0.1:8000")
    data = json.loads(cli.run("config", "--json", "--max-retries", "5").out)
    assert data["server_url"] == {
        "value": "http://127.0.0.1:8000",
        "source": "environment MOSAIC_TELEMETRY_SERVER_URL",
    }
    assert data["enabled"]["value"] is True
    assert data["max_retries"] == {"value": 5, "source": "option --max-retries"}
    assert data["batch_size"]["value"] == 100
    assert data["request_timeout_seconds"]["value"] == 10.0
    assert data["instance_id"]["value"] == INSTANCE


def test_config_shows_the_placeholder_of_a_disabled_config(cli: Cli) -> None:
    data = json.loads(cli.run("config", "--json", MOSAIC_TELEMETRY_ENABLED="off").out)
    assert data["enabled"] == {"value": False, "source": "environment MOSAIC_TELEMETRY_ENABLED"}
    assert data["instance_id"] == {
        "value": "00000000-0000-0000-0000-000000000000",
        "source": "placeholder (telemetry is disabled)",
    }


def test_an_unrecognised_kill_switch_value_disables_and_says_so(cli: Cli) -> None:
    cli.point_at(DEAD_URL)
    res = cli.run("track", MOSAIC_TELEMETRY_ENABLED="ture")
    assert res.code == 0
    assert "MOSAIC_TELEMETRY_ENABLED='ture' is not a recognised value" in res.err
    assert "telemetry is disabled" in res.err
    assert spooled(cli.spool) == []
