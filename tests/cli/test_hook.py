"""`mosaic-telemetry hook claude-code` and `hook install claude-code`, through the real entry
point, against the local server."""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
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
    assert cli.run("flush").out.strip() == "sent 1, rejected 0, dropped 0, remaining 0"
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


def test_an_unknown_model_keeps_the_cost_at_zero(cli: Cli, tmp_path: Path) -> None:
    cli.point_at("http://127.0.0.1:9")
    path = tmp_path / "t.jsonl"
    lines = [
        _line("user", "u", "00:00", role="user", content="go"),
        _line("assistant", "a", "00:01", id="m", model="no-such-model-9",
              usage={"input_tokens": 10, "output_tokens": 5}),
    ]  # fmt: skip
    path.write_text("\n".join(json.dumps(line) for line in lines))
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
    lines = [
        _line("user", "u", "00:00", role="user", content="go"),
        _line("assistant", "a", "00:01", id="m", model="claude-sonnet-4-5",
              usage={"input_tokens": 100, "output_tokens": 50}),
    ]  # fmt: skip
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


def test_the_kill_switch_silences_the_hook(cli: Cli, tmp_path: Path) -> None:
    res = cli.run(
        *HOOK, stdin=payload(transcript(tmp_path / "t.jsonl")), MOSAIC_TELEMETRY_ENABLED="false"
    )
    assert (res.code, res.out, res.err) == (0, "", "")
    assert not cli.spool.exists()


# -- hook install ----------------------------------------------------------------------------


def settings_of(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())


def our_commands(settings: dict[str, Any]) -> list[str]:
    return [
        hook["command"]
        for group in settings["hooks"]["Stop"]
        for hook in group["hooks"]
        if "hook claude-code" in hook["command"]
    ]


def test_install_writes_this_interpreter_and_the_hook_runs_from_it(
    cli: Cli, tmp_path: Path, telemetry_server: TelemetryServer
) -> None:
    res = cli.run("hook", "install", "claude-code")
    assert res.code == 0, res.both
    path = cli.home / ".claude" / "settings.json"
    assert f"added: the Claude Code Stop hook in {path}" in res.out
    (command,) = our_commands(settings_of(path))
    assert command == f"{shlex.quote(sys.executable)} -m mosaicstack_telemetry hook claude-code"
    assert list(settings_of(path)["hooks"]) == ["Stop"]  # not SubagentStop: counted twice
    # Run the entry as Claude Code does: through the shell, the payload on stdin.
    env = {**cli.env, **telemetry_server.env()}
    done = subprocess.run(
        command, shell=True, input=payload(transcript(tmp_path / "t.jsonl")),
        capture_output=True, text=True, env=env, timeout=60, check=False,
    )  # fmt: skip
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")
    assert len(spooled(cli.spool)) == 1


def test_install_merges_and_is_idempotent(cli: Cli) -> None:
    path = cli.home / ".claude" / "settings.json"
    path.parent.mkdir(parents=True)
    mine = {
        "model": "opus",
        "permissions": {"allow": ["Bash(ls:*)"]},
        "hooks": {
            "Stop": [{"hooks": [{"type": "command", "command": "notify-send done"}]}],
            "PreToolUse": [{"matcher": "Bash", "hooks": [{"type": "command", "command": "x"}]}],
        },
    }
    path.write_text(json.dumps(mine))
    assert cli.run("hook", "install", "claude-code", "--user").code == 0
    merged = settings_of(path)
    assert merged["model"] == "opus"
    assert merged["permissions"] == mine["permissions"]
    assert merged["hooks"]["PreToolUse"] == mine["hooks"]["PreToolUse"]
    assert merged["hooks"]["Stop"][0] == mine["hooks"]["Stop"][0]  # the user's own hook kept
    assert len(our_commands(merged)) == 1
    before = path.read_bytes()
    res = cli.run("hook", "install", "claude-code", "--user")
    assert res.code == 0
    assert "already installed:" in res.out
    assert path.read_bytes() == before


def test_install_leaves_the_options_a_user_added_alone(cli: Cli) -> None:
    """docs/hook.md: pass --task-type / --complexity (or --no-prices) in the command; running
    the install again (after an upgrade, from a setup script) keeps them."""
    assert cli.run("hook", "install", "claude-code").code == 0
    path = cli.home / ".claude" / "settings.json"
    settings = settings_of(path)
    entry = settings["hooks"]["Stop"][0]["hooks"][0]
    entry["command"] += " --task-type testing --complexity high --no-prices"
    path.write_text(json.dumps(settings, indent=2))
    before = path.read_bytes()
    res = cli.run("hook", "install", "claude-code")
    assert res.code == 0, res.both
    assert f"already installed: the Claude Code Stop hook in {path}" in res.out
    assert "--task-type testing --complexity high --no-prices" in res.out
    assert path.read_bytes() == before


def test_install_through_a_symlink_writes_its_target(cli: Cli, tmp_path: Path) -> None:
    """A settings.json linked from a dotfiles repository stays a link; the target gets the
    hook and keeps its mode."""
    target = tmp_path / "dotfiles" / "claude-settings.json"
    target.parent.mkdir()
    target.write_text('{"theme": "dark"}')
    target.chmod(0o640)
    link = cli.home / ".claude" / "settings.json"
    link.parent.mkdir(parents=True)
    link.symlink_to(target)
    res = cli.run("hook", "install", "claude-code")
    assert res.code == 0, res.both
    assert link.is_symlink()
    assert link.resolve() == target
    merged = settings_of(target)
    assert merged["theme"] == "dark"
    assert len(our_commands(merged)) == 1
    assert target.stat().st_mode & 0o777 == 0o640
    assert sorted(p.name for p in link.parent.iterdir()) == ["settings.json"]  # no stray file


@pytest.mark.parametrize(
    "old",
    [
        "python3 -m mosaicstack_telemetry hook claude-code",
        'python3 "$CLAUDE_PROJECT_DIR"/examples/claude_code_hook.py',  # the example it replaces
    ],
)
def test_install_updates_an_entry_with_another_interpreter_in_place(cli: Cli, old: str) -> None:
    path = cli.home / ".claude" / "settings.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"hooks": {"Stop": [{"hooks": [{"type": "command",
                                                               "command": old}]}]}}))  # fmt: skip
    res = cli.run("hook", "install", "claude-code")
    assert "updated:" in res.out
    (command,) = our_commands(settings_of(path))
    assert command == f"{shlex.quote(sys.executable)} -m mosaicstack_telemetry hook claude-code"


def test_install_with_another_interpreter_keeps_the_users_options(cli: Cli) -> None:
    path = cli.home / ".claude" / "settings.json"
    path.parent.mkdir(parents=True)
    old = "python3 -m mosaicstack_telemetry hook claude-code --no-prices --task-type testing"
    path.write_text(json.dumps({"hooks": {"Stop": [{"hooks": [{"type": "command",
                                                               "command": old}]}]}}))  # fmt: skip
    res = cli.run("hook", "install", "claude-code")
    assert "updated:" in res.out
    (command,) = our_commands(settings_of(path))
    here = shlex.quote(sys.executable)
    assert (
        command
        == f"{here} -m mosaicstack_telemetry hook claude-code --no-prices --task-type testing"
    )
    assert "already installed:" in cli.run("hook", "install", "claude-code").out


@pytest.mark.parametrize(
    ("flag", "name"), [("--project", "settings.json"), ("--local", "settings.local.json")]
)
def test_install_for_a_project(cli: Cli, tmp_path: Path, flag: str, name: str) -> None:
    project = tmp_path / "repo"
    project.mkdir()
    res = cli.run("hook", "install", "claude-code", flag, "--dir", str(project))
    assert res.code == 0, res.both
    assert len(our_commands(settings_of(project / ".claude" / name))) == 1
    assert not (cli.home / ".claude").exists()


@pytest.mark.parametrize("content", ["{not json", "[1, 2]", '{"hooks": []}'])
def test_install_leaves_an_unreadable_settings_file_alone(cli: Cli, content: str) -> None:
    path = cli.home / ".claude" / "settings.json"
    path.parent.mkdir(parents=True)
    path.write_text(content)
    res = cli.run("hook", "install", "claude-code")
    assert res.code == 1
    assert "was not changed" in res.err
    assert path.read_text() == content
