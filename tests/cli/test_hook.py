"""`mosaic-telemetry hook claude-code`, through the real entry point, against the local server
(`hook install` is in test_hook_install.py)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from tests.cli.conftest import Cli
from tests.cli.test_cli import spooled

from mosaicstack_telemetry.pytest_plugin import TelemetryServer

HOOK = ("hook", "claude-code")


def _line(kind: str, uid: str, ts: str, **message: Any) -> dict[str, Any]:
    return {"type": kind, "uuid": uid, "timestamp": f"2025-01-01T10:{ts}Z", "message": message}


def transcript(path: Path) -> Path:
    """An earlier turn, then a turn whose first API response is written as two lines sharing
    `message.id` (a thinking block and a text block) that repeat the same usage."""
    usage_a = {
        "input_tokens": 4,
        "cache_creation_input_tokens": 20_000,
        "cache_read_input_tokens": 10_000,
        "output_tokens": 250,
    }
    usage_b = {"input_tokens": 6, "cache_read_input_tokens": 10_500, "output_tokens": 80}
    lines = [
        _line("user", "u0", "00:00", role="user", content="an earlier turn"),
        _line("assistant", "a0", "00:05", id="msg_0", model="claude-old",
              usage={"input_tokens": 999, "output_tokens": 9}),
        _line("user", "u1", "01:00", role="user", content=[{"type": "text", "text": "fix it"}]),
        _line("assistant", "a1", "01:02", id="msg_A", model="claude-sonnet-4-5",
              content=[{"type": "thinking"}], usage=usage_a),
        _line("assistant", "a2", "01:03", id="msg_A", model="claude-sonnet-4-5",
              content=[{"type": "tool_use"}], usage=usage_a),
        _line("user", "t1", "01:04", role="user", content=[{"type": "tool_result"}]),
        {"type": "system", "subtype": "compact_boundary", "uuid": "c1",
         "timestamp": "2025-01-01T10:01:05Z"},
        _line("assistant", "a3", "01:30", id="msg_B", model="claude-sonnet-4-5", usage=usage_b),
    ]  # fmt: skip
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n{half a line")
    return path


def payload(path: Path) -> str:
    return json.dumps(
        {
            "session_id": "s-1",
            "transcript_path": str(path),
            "hook_event_name": "Stop",
            "cwd": str(path.parent),
            "stop_hook_active": False,
        }
    )


def test_the_hook_counts_each_api_response_once(
    cli: Cli, tmp_path: Path, telemetry_server: TelemetryServer
) -> None:
    cli.env.update(telemetry_server.env())
    stdin = payload(transcript(tmp_path / "session.jsonl"))
    for _ in range(2):  # the same turn twice: one event (a deterministic event id)
        start = time.monotonic()
        res = cli.run(*HOOK, "--no-prices", stdin=stdin)
        assert time.monotonic() - start < 15
        assert (res.code, res.out, res.err) == (0, "", "")
    assert telemetry_server.events() == []  # spooled only: the hook never waits on the network
    assert cli.run("flush").out.strip() == "sent 1, duplicate 0, rejected 0, dropped 0, remaining 0"
    (event,) = telemetry_server.events()
    # msg_A once (30,004 in, 250 out) + msg_B (10,506 in, 80 out); not msg_A twice (60,008).
    assert event["actual_input_tokens"] == 40_510
    assert event["actual_output_tokens"] == 330
    assert event["model"] == "claude-sonnet-4-5"
    assert (event["harness"], event["provider"]) == ("claude_code", "anthropic")
    assert event["task_duration_ms"] == 30_000
    assert event["context_compactions"] == 1
    assert event["outcome"] == "success"
    assert event["actual_cost_usd_micros"] == 0  # --no-prices


def test_a_compaction_summary_continues_the_turn(cli: Cli, tmp_path: Path) -> None:
    """After compacting, Claude Code writes a "user" line with the summary (`isCompactSummary`);
    it was taken for a typed prompt: the turn was cut there, losing the tokens before it and
    the compaction itself."""
    lines = [
        _line("user", "u1", "00:00", role="user", content="refactor the module"),
        _line("assistant", "a1", "00:10", id="m1", model="claude-sonnet-4-5",
              usage={"input_tokens": 1000, "output_tokens": 500}),
        {"type": "system", "subtype": "compact_boundary", "uuid": "c1",
         "timestamp": "2025-01-01T10:00:12Z"},
        {**_line("user", "s1", "00:13", role="user", content="This session is being continued"),
         "isCompactSummary": True},
        _line("assistant", "a2", "00:40", id="m2", model="claude-sonnet-4-5",
              usage={"input_tokens": 2000, "output_tokens": 700}),
    ]  # fmt: skip
    path = tmp_path / "t.jsonl"
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n")
    cli.point_at("http://127.0.0.1:9")
    assert cli.run(*HOOK, "--no-prices", stdin=payload(path)).err == ""
    (event,) = spooled(cli.spool)
    assert (event.actual_input_tokens, event.actual_output_tokens) == (3000, 1200)
    assert (event.context_compactions, event.task_duration_ms) == (1, 40_000)


@pytest.mark.parametrize("prompted", [True, False], ids=["last-prompt", "no-prompt"])
def test_a_long_transcript_is_read_from_its_end(cli: Cli, tmp_path: Path, prompted: bool) -> None:
    """A long session's transcript (hundreds of MB) was parsed whole on every turn: seconds,
    and memory many times its size. The turn is read from the end of the file, in blocks,
    whatever lines (and multi-byte characters) cross their borders."""
    filler = "é" * 700  # two bytes each: block borders fall inside characters too
    earlier = [
        _line("assistant", f"e{i}", "00:00", id=f"old{i}", model="claude-old",
              usage={"input_tokens": 1, "output_tokens": 1}, content=filler)
        for i in range(3000)
    ]  # fmt: skip
    last = [
        _line("user", "u1", "01:00", role="user", content="now this"),
        _line("assistant", "a1", "01:10", id="new", model="claude-sonnet-4-5",
              usage={"input_tokens": 700, "output_tokens": 70}),
    ]  # fmt: skip
    if not prompted:
        last = last[1:]
    path = tmp_path / "t.jsonl"
    path.write_text("\n".join(json.dumps(line) for line in earlier + last) + "\n")
    assert path.stat().st_size > 3 << 20  # several blocks
    cli.point_at("http://127.0.0.1:9")
    res = cli.run(*HOOK, "--no-prices", stdin=payload(path))
    assert (res.code, res.err) == (0, "")
    (event,) = spooled(cli.spool)
    if prompted:
        assert (event.actual_input_tokens, event.actual_output_tokens) == (700, 70)
        assert (event.model, event.task_duration_ms) == ("claude-sonnet-4-5", 10_000)
    else:  # no prompt at all: the whole transcript is the turn, as before
        assert (event.actual_input_tokens, event.actual_output_tokens) == (3700, 3070)


def test_odd_transcript_lines_are_read_past(cli: Cli, tmp_path: Path) -> None:
    """Complete JSON lines of an unexpected shape used to fail the whole turn with a bare
    exception: a "message" that is a string, a time without a zone beside ones with a zone,
    a usage too large for a number."""
    lines = [
        {"type": "user", "uuid": "x0", "message": "an old line"},
        _line("user", "u1", "00:00", role="user", content="go"),
        {**_line("assistant", "a1", "00:05", id="m1", model="claude-sonnet-4-5",
                 usage={"input_tokens": 500, "output_tokens": 30}),
         "timestamp": "2025-01-01T10:00:05"},
        _line("assistant", "a2", "00:09", id="m2", model="claude-sonnet-4-5",
              usage={"input_tokens": 100, "output_tokens": 1}),
    ]  # fmt: skip
    text = "\n".join(json.dumps(line) for line in lines)
    text += '\n{"type": "assistant", "message": {"id": "m3", "usage": {"input_tokens": 3e400}}}\n'
    path = tmp_path / "t.jsonl"
    path.write_text(text)
    cli.point_at("http://127.0.0.1:9")
    res = cli.run(*HOOK, "--no-prices", stdin=payload(path))
    assert (res.code, res.out, res.err) == (0, "", "")
    (event,) = spooled(cli.spool)
    assert (event.actual_input_tokens, event.actual_output_tokens) == (600, 31)
    assert event.task_duration_ms == 9000


def test_the_hook_prices_the_turn_with_its_cache_tokens(cli: Cli, tmp_path: Path) -> None:
    from genai_prices import Usage, calc_price

    cli.point_at("http://127.0.0.1:9")
    stdin = payload(transcript(tmp_path / "session.jsonl"))
    res = cli.run(*HOOK, stdin=stdin, MOSAIC_TASK_TYPE="testing")
    assert (res.code, res.out, res.err) == (0, "", "")
    (event,) = spooled(cli.spool)
    usage = Usage(
        input_tokens=40_510, cache_read_tokens=20_500, cache_write_tokens=20_000, output_tokens=330
    )
    price = calc_price(usage, model_ref="claude-sonnet-4-5", provider_id="anthropic")
    assert event.actual_cost_usd_micros == round(price.total_price * 1_000_000) > 0
    assert event.task_type == "testing"


def _one_turn(model: str, input_tokens: int, output_tokens: int) -> list[dict[str, Any]]:
    """A transcript's lines for one turn: the user's prompt, one answer of `model`."""
    return [
        _line("user", "u", "00:00", role="user", content="go"),
        _line("assistant", "a", "00:01", id="m", model=model,
              usage={"input_tokens": input_tokens, "output_tokens": output_tokens}),
    ]  # fmt: skip


def test_an_unknown_model_keeps_the_cost_at_zero(cli: Cli, tmp_path: Path) -> None:
    cli.point_at("http://127.0.0.1:9")
    path = tmp_path / "t.jsonl"
    path.write_text("\n".join(json.dumps(line) for line in _one_turn("no-such-model-9", 10, 5)))
    res = cli.run(*HOOK, "-vv", stdin=payload(path))
    assert (res.code, res.out) == (0, "")
    assert "No price known for model 'no-such-model-9'" in res.err  # said at DEBUG
    (event,) = spooled(cli.spool)
    assert (event.model, event.actual_cost_usd_micros) == ("no-such-model-9", 0)


def test_a_last_line_cut_inside_a_character_is_skipped_like_any_partial_line(
    cli: Cli, tmp_path: Path
) -> None:
    """Claude Code may still be writing the last line: cut inside a two-byte "é", it is
    skipped, and the complete lines still make the event (not a UnicodeDecodeError)."""
    cli.point_at("http://127.0.0.1:9")
    path = tmp_path / "t.jsonl"
    lines = _one_turn("claude-sonnet-4-5", 100, 50)
    partial = json.dumps(_line("assistant", "b", "00:02", content="café"), ensure_ascii=False)
    cut = partial.encode()[: partial.encode().index("é".encode()) + 1]
    path.write_bytes(b"".join(json.dumps(line).encode() + b"\n" for line in lines) + cut)
    res = cli.run(*HOOK, "--no-prices", stdin=payload(path))
    assert (res.code, res.out, res.err) == (0, "", "")
    (event,) = spooled(cli.spool)
    assert (event.actual_input_tokens, event.actual_output_tokens) == (100, 50)
    assert event.model == "claude-sonnet-4-5"


def test_the_hook_with_an_unusable_spool_sends_nothing(
    cli: Cli, tmp_path: Path, telemetry_server: TelemetryServer
) -> None:
    """No client falls back to memory, whose exit flush would make Claude Code wait on the
    network: the event is not recorded, and said so."""
    cli.env.update(telemetry_server.env())
    cli.spool.mkdir()  # a directory where the file should be
    res = cli.run(*HOOK, "--no-prices", stdin=payload(transcript(tmp_path / "t.jsonl")))
    assert (res.code, res.out) == (0, "")
    assert telemetry_server.events() == []
    assert "could not write the event to" in res.err
    assert "neither recorded nor sent" in res.err


@pytest.mark.parametrize(
    ("stdin", "args", "env", "says"),
    [
        ("not json", (), {}, "not JSON"),
        ("[1, 2]", (), {}, "not a JSON object"),
        ('{"transcript_path": "/nonexistent/t.jsonl"}', (), {}, "cannot read the transcript"),
        ("{}", (), {"MOSAIC_TELEMETRY_API_KEY": "short"}, "config is invalid"),
        ("{}", (), {"MOSAIC_TASK_TYPE": "napping"}, "invalid event"),
        ("{}", ("--bogus-option",), {}, "unrecognized arguments"),
        ("{}", (), {"MOSAIC_TELEMETRY_SPOOL_PATH": "/dev/null/spool.db"}, "could not write"),
    ],
)
def test_the_hook_never_breaks_the_harness(
    cli: Cli, stdin: str, args: tuple[str, ...], env: dict[str, str], says: str
) -> None:
    cli.point_at("http://127.0.0.1:9")
    res = cli.run(*HOOK, *args, stdin=stdin, **env)
    assert res.code == 0  # exit 2 would block Claude from stopping
    assert res.out == ""  # stdout is Claude Code's, not ours
    assert says in res.err
    assert "Traceback" not in res.err


def test_the_hook_with_no_config_at_all_exits_0(cli: Cli) -> None:
    res = cli.run(*HOOK, stdin="{}")
    assert (res.code, res.out) == (0, "")
    assert "config is invalid" in res.err
    assert not cli.spool.exists()


@pytest.mark.parametrize("stdin", ["good", "not json", "[1, 2]"])
def test_the_kill_switch_silences_the_hook(cli: Cli, tmp_path: Path, stdin: str) -> None:
    if stdin == "good":
        stdin = payload(transcript(tmp_path / "t.jsonl"))
    res = cli.run(*HOOK, stdin=stdin, MOSAIC_TELEMETRY_ENABLED="false")
    assert (res.code, res.out, res.err) == (0, "", "")  # not even about a bad payload
    assert not cli.spool.exists()
