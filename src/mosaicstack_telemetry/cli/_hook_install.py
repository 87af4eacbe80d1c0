"""`mosaic-telemetry hook install claude-code`: wire the hook into Claude Code's settings.

The entry runs this interpreter (`sys.executable -m mosaicstack_telemetry hook claude-code`),
so it works when the SDK lives in a virtual environment, where a bare `python3` would fail
with "No module named mosaicstack_telemetry", silently. The settings file is merged, never
replaced: every other key and hook is kept. An entry of ours that runs this interpreter is left
as the user made it (options they added, such as `--no-prices`, stay), so running the command
twice changes nothing; one with another interpreter gets this one, its options and what is
in front of it (`A=1`, `env A=1`, `cd DIR &&`) kept. The file is written atomically, through
a symbolic link to its target (a dotfiles repository keeps its link); one that is not a JSON
object is left untouched (exit 1).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import sys
import tempfile
from pathlib import Path
from typing import Any

from mosaicstack_telemetry.cli._output import err, out

HOOK_ARGS = "-m mosaicstack_telemetry hook claude-code"
#: What identifies an entry as ours (updated in place, never added twice, so a turn is never
#: counted by two hooks): this command in any spelling, or the example script it replaces.
_OURS = (
    "mosaicstack_telemetry hook claude-code",
    "mosaic-telemetry hook claude-code",
    "claude_code_hook.py",
)
TIMEOUT_SECONDS = 30


def command() -> str:
    """The hook's command line: this interpreter, quoted for the shell Claude Code uses."""
    return f"{shlex.quote(sys.executable)} {HOOK_ARGS}"


def settings_path(args: argparse.Namespace) -> Path:
    if args.scope == "user":
        return Path.home() / ".claude" / "settings.json"
    name = "settings.local.json" if args.scope == "local" else "settings.json"
    return Path(args.dir).expanduser() / ".claude" / name


#: Leading `NAME=value` words (the value bare with backslash escapes, '-quoted or "-quoted)
#: set variables for the command alone: the user's, kept in front of the new command.
_ASSIGNMENTS = re.compile(
    r"""\s*(?:[A-Za-z_]\w*=(?:'[^']*'|"(?:[^"\\]|\\.)*"|\\.|[^\s'"\\])*\s+)*"""
)
#: One shell word: bare characters, backslash escapes, '-quoted or "-quoted parts.
_WORD = r"""(?:'[^']*'|"(?:[^"\\]|\\.)*"|\\.|[^\s;&|()'"\\])+"""
#: The part of an entry that runs the hook: an interpreter word (with its own options) and
#: `-m mosaicstack_telemetry`, or the word naming the `mosaic-telemetry` script.
_RUNS_US = re.compile(
    rf"""(?:{_WORD}(?:\s+-[XW]\s*\S+|\s+-(?!m\s)\S+)*\s+-m\s+mosaicstack_telemetry"""
    r"""|(?<![^\s;&|(])[^\s;&|()'"]*mosaic-telemetry) hook claude-code"""
)
#: What may stand in front of that part for it to be replaced alone, so that it is in a
#: command's place: earlier commands ended by `&&`, `||`, `;` or `(` (a `cd "$DIR" &&`), a
#: `bash -c '`, then `env` and its options, then NAME=value words. Anything else (a backtick,
#: `$(...)`, `uvx --from ...`, an argument of `echo`) is not read: the entry is rewritten as
#: before, the variables in front and the options after the hook's name kept.
_PLAIN_PREFIX = re.compile(
    r"""(?:.*(?:&&|\|\||;|\()\s*)?(?:(?:ba|z)?sh\s+-c\s+['"])?(?:env(?:\s+-\S+)*\s+)?"""
    r"""(?:[A-Za-z_]\w*=(?:'[^']*'|"(?:[^"\\]|\\.)*"|\\.|[^\s'"\\])*\s+)*""",
    re.DOTALL,
)


def _in_place(prefix: str, cmd: str) -> bool:
    """Whether `cmd` may replace what runs the hook after `prefix`: a plain prefix, and not
    inside a quoted string that the quotes of `cmd` (a path with a space) would end."""
    quoted = prefix.count("'") % 2 == 1 or prefix.count('"') % 2 == 1
    return bool(_PLAIN_PREFIX.fullmatch(prefix)) and not (quoted and ("'" in cmd or '"' in cmd))


def _updated(old: str, cmd: str) -> str | None:
    """`old`, an entry of ours, with `cmd` (this interpreter) in it; None when it runs this
    interpreter already. In a plain entry only the part that runs the hook is replaced: what
    is in front of it (variables, `env`, a `cd ... &&`) and what follows (the user's options)
    are kept. Any other keeps the variables in front and the options after the hook's name;
    of the example script's entry, the variables in front."""
    if re.search(re.escape(cmd) + r"""(?=$|[\s;&|)'"])""", old):
        return None
    for run in _RUNS_US.finditer(old):  # the first in a command's place (not in an echo)
        if "`" not in old[: run.end()] and _in_place(old[: run.start()], cmd):
            return old[: run.start()] + cmd + old[run.end() :]
    env = found.group() if (found := _ASSIGNMENTS.match(old)) else ""
    for marker in _OURS[:2]:
        at = old.find(marker)
        if at >= 0:
            return env + cmd + old[at + len(marker) :]
    return env + cmd


def merge(settings: dict[str, Any], cmd: str) -> tuple[str, str]:
    """Put our Stop hook into `settings` (in place); returns what was done ("added",
    "updated" or "already installed") and the entry's command."""
    hooks = settings.setdefault("hooks", {})
    if not isinstance(hooks, dict):
        raise ValueError('"hooks" is not a JSON object')
    stop = hooks.setdefault("Stop", [])
    if not isinstance(stop, list):
        raise ValueError('"hooks.Stop" is not a list')
    for group in stop:
        for hook in group.get("hooks", []) if isinstance(group, dict) else []:
            old = hook.get("command") if isinstance(hook, dict) else None
            if isinstance(old, str) and any(m in old for m in _OURS):
                new = _updated(old, cmd)
                if new is None:
                    return "already installed", old
                hook["command"] = new
                return "updated", new
    stop.append({"hooks": [{"type": "command", "command": cmd, "timeout": TIMEOUT_SECONDS}]})
    return "added", cmd


def _write(path: Path, settings: dict[str, Any]) -> None:
    """Atomically: a temporary file in the same directory, then renamed over the file. A link
    is followed (the rename replaces its target, keeping the link), and the mode is kept."""
    target = Path(os.path.realpath(path))
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".settings-", suffix=".json", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(settings, fh, indent=2)
            fh.write("\n")
        if target.exists():
            os.chmod(tmp, target.stat().st_mode & 0o777)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def run(args: argparse.Namespace) -> int:
    path = settings_path(args)
    settings: Any = {}
    if path.exists():
        try:
            settings = json.loads(path.read_text(encoding="utf-8") or "{}")
        except (OSError, ValueError) as exc:
            err(f"mosaic-telemetry: cannot read {path} as JSON ({exc}); it was not changed")
            return 1
        if not isinstance(settings, dict):
            err(f"mosaic-telemetry: {path} is not a JSON object; it was not changed")
            return 1
    try:
        what, cmd = merge(settings, command())
    except ValueError as exc:
        err(f"mosaic-telemetry: {path}: {exc}; it was not changed")
        return 1
    if what != "already installed":
        try:
            _write(path, settings)
        except OSError as exc:
            err(f"mosaic-telemetry: cannot write {path}: {exc}")
            return 1
    out(f"{what}: the Claude Code Stop hook in {path}")
    out(f"  command: {cmd}")
    if what != "already installed":
        out(
            "set MOSAIC_TELEMETRY_SERVER_URL, MOSAIC_TELEMETRY_API_KEY and "
            "MOSAIC_TELEMETRY_INSTANCE_ID where Claude Code runs; run `mosaic-telemetry flush` "
            "to deliver what the hook spools"
        )
    return 0


def add_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    install = sub.add_parser(
        "install",
        help="write the hook's entry into Claude Code's settings (merged, idempotent)",
        description="Add the Stop hook to Claude Code's settings with this interpreter. "
        "Other settings and hooks are kept; running it again changes nothing.",
    )
    install.add_argument("harness", choices=["claude-code"], help="the harness to wire")
    scope = install.add_mutually_exclusive_group()
    scope.add_argument(
        "--user",
        dest="scope",
        action="store_const",
        const="user",
        help="~/.claude/settings.json: every project (default)",
    )
    scope.add_argument(
        "--project",
        dest="scope",
        action="store_const",
        const="project",
        help="DIR/.claude/settings.json, usually committed: it will name this machine's "
        "interpreter",
    )
    scope.add_argument(
        "--local",
        dest="scope",
        action="store_const",
        const="local",
        help="DIR/.claude/settings.local.json: this project, this machine only",
    )
    install.add_argument("--dir", default=".", help="the project directory (default: here)")
    install.set_defaults(func=run, scope="user")
