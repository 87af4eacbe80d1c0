"""`mosaic-telemetry hook install claude-code`: the entry it writes into Claude Code's settings,
through the real entry point."""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from tests.cli.conftest import Cli
from tests.cli.test_cli import spooled
from tests.cli.test_hook import payload, transcript

from mosaicstack_telemetry.pytest_plugin import TelemetryServer


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


@pytest.mark.parametrize(
    "env",
    [
        "",
        "MOSAIC_TELEMETRY_SPOOL_PATH=/tmp/s.db ",
        'A=\'x y\' B="\\"q" C= ',  # quoted values, an escaped quote, an empty one
        "D=x\\ y ",  # a space escaped with a backslash
        "env MOSAIC_TASK_TYPE=testing ",  # used to be dropped: only bare NAME=value was kept
        'cd "$CLAUDE_PROJECT_DIR" && A=1 ',
    ],
)
@pytest.mark.parametrize(
    "old",
    [
        "python3 -m mosaicstack_telemetry hook claude-code",
        "/opt/tools/bin/mosaic-telemetry hook claude-code",
        "'/opt/my venv/bin/python' -X importtime -m mosaicstack_telemetry hook claude-code",
    ],
)
def test_install_with_another_interpreter_keeps_the_users_options(
    cli: Cli, env: str, old: str
) -> None:
    # The variables set in front of the command and the options after it are the user's.
    path = cli.home / ".claude" / "settings.json"
    path.parent.mkdir(parents=True)
    old = f"{env}{old} --no-prices --task-type testing"
    path.write_text(json.dumps({"hooks": {"Stop": [{"hooks": [{"type": "command",
                                                               "command": old}]}]}}))  # fmt: skip
    res = cli.run("hook", "install", "claude-code")
    assert "updated:" in res.out
    (command,) = our_commands(settings_of(path))
    here = shlex.quote(sys.executable)
    assert (
        command
        == f"{env}{here} -m mosaicstack_telemetry hook claude-code --no-prices --task-type testing"
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


_HERE = shlex.quote(sys.executable)
_OURS = f"{_HERE} -m mosaicstack_telemetry hook claude-code"


@pytest.mark.parametrize(
    ("old", "new"),
    [
        # Wrappers that cannot be read: rewritten whole, the options after the name kept.
        ("`which python3` -m mosaicstack_telemetry hook claude-code --no-prices",
         f"{_OURS} --no-prices"),
        ("$(which python3) -m mosaicstack_telemetry hook claude-code --no-prices",
         f"{_OURS} --no-prices"),
        ("python3 -mmosaicstack_telemetry hook claude-code --no-prices", f"{_OURS} --no-prices"),
        ("uvx --from mosaicstack-telemetry mosaic-telemetry hook claude-code --no-prices",
         f"{_OURS} --no-prices"),
        # The hook in a command's place: only what runs it is replaced.
        ("(python3 -m mosaicstack_telemetry hook claude-code)", f"({_OURS})"),
        ('echo "python -m mosaicstack_telemetry hook claude-code" >> log; '
         "/old/py -m mosaicstack_telemetry hook claude-code",
         f'echo "python -m mosaicstack_telemetry hook claude-code" >> log; {_OURS}'),
        ("python3 -m mosaicstack_telemetry hook claude-code 2>/dev/null || true",
         f"{_OURS} 2>/dev/null || true"),
    ],
)  # fmt: skip
def test_install_rewrites_wrapped_entries_into_working_ones(cli: Cli, old: str, new: str) -> None:
    """A backtick, `$(...)` or `uvx` in front of the hook got the interpreter put inside it
    (an unclosed backtick; uvx running the interpreter as an app), or lost the user's options;
    an entry in parentheses or beside an `echo` of the marker was updated again on every run."""
    path = cli.home / ".claude" / "settings.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"hooks": {"Stop": [{"hooks": [{"type": "command",
                                                               "command": old}]}]}}))  # fmt: skip
    assert "updated:" in cli.run("hook", "install", "claude-code").out
    (command,) = our_commands(settings_of(path))
    assert command == new
    assert "already installed:" in cli.run("hook", "install", "claude-code").out
    assert subprocess.run(["bash", "-n", "-c", command], check=False).returncode == 0
