"""The lifecycle tests' machinery: a child-process runner and the checks every lifecycle
shares (the servers are in `_servers.py`).

Black-box: a child script uses only the public API; the test reads what the server saw and what
the child wrote (see `child_prelude.py`).
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from tests.lifecycle._servers import LocalServer, SilentServer
from tests.sdk.conftest import accounted

from mosaicstack_telemetry import TelemetryStats

PRELUDE = Path(__file__).with_name("child_prelude.py")
#: A request that reaches the server this long after `stop()` returned left after it: a request
#: cut at the deadline may still be parsed a little after the client gave up on it.
GRACE = 0.3


# --- a child process -------------------------------------------------------------------------


@dataclass
class Action:
    """Run `do(process)` in the test `delay` seconds after the child wrote mark `mark`."""

    mark: str
    do: Callable[[subprocess.Popen[bytes]], None]
    delay: float = 0.0


def send(signum: int) -> Callable[[subprocess.Popen[bytes]], None]:
    return lambda process: process.send_signal(signum)


@dataclass
class Child:
    """What a child run left: exit code, output, and every record its processes wrote."""

    returncode: int
    stdout: str
    stderr: str
    records: list[dict[str, Any]]
    elapsed: float
    raw: str = field(repr=False, default="")

    def marks(self, name: str) -> list[dict[str, Any]]:
        return [r for r in self.records if r["kind"] == "mark" and r["name"] == name]

    def mark(self, name: str) -> dict[str, Any]:
        found = self.marks(name)
        assert len(found) == 1, f"mark {name!r} written {len(found)} times\n{self.describe()}"
        return found[0]

    def reports(self, name: str) -> list[dict[str, Any]]:
        return [r for r in self.records if r["kind"] == "report" and r["name"] == name]

    def report(self, name: str) -> dict[str, Any]:
        found = self.reports(name)
        assert len(found) == 1, f"report {name!r} written {len(found)} times\n{self.describe()}"
        return found[0]

    def finals(self) -> dict[tuple[int, int], dict[str, Any]]:
        """The last final report of each (process, client)."""
        last: dict[tuple[int, int], dict[str, Any]] = {}
        for r in self.reports("final"):
            last[(r["pid"], r["index"])] = r
        return last

    def warnings(self, after: float = 0.0, until: float | None = None) -> list[dict[str, Any]]:
        """The SDK's records at WARNING or above, written between `after` and `until`."""
        return [
            r
            for r in self.records
            if r["kind"] == "log"
            and r["level"] >= logging.WARNING
            and r["logger"].startswith("mosaicstack_telemetry")
            and r["t"] >= after
            and (until is None or r["t"] <= until)
        ]

    def describe(self) -> str:
        logs = [
            f"  [{r['pid']}] {logging.getLevelName(r['level'])} {r['logger']}: {r['message']}"
            for r in self.records
            if r["kind"] == "log" and r["level"] >= logging.INFO
        ]
        other = [f"  {r}" for r in self.records if r["kind"] != "log"]
        return (
            f"exit code {self.returncode} after {self.elapsed:.1f} s\n--- stdout\n{self.stdout}"
            f"\n--- stderr\n{self.stderr}\n--- records\n" + "\n".join(other + logs)
        )


def child_env(out: Path, config: dict[str, Any], params: dict[str, Any]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MOSAIC_TELEMETRY_")}
    env.update(
        LIFECYCLE_OUT=str(out),
        LIFECYCLE_CONFIG=json.dumps(config),
        LIFECYCLE_PARAMS=json.dumps(params),
        PYTHONUNBUFFERED="1",
    )
    return env


def run_child(
    tmp_path: Path,
    body: str,
    config: dict[str, Any],
    *,
    params: dict[str, Any] | None = None,
    actions: Sequence[Action] = (),
    timeout: float = 60.0,
) -> Child:
    """Run `body` (after `import lifecycle_child as lc`) in a fresh interpreter, in its own
    session so that every process it starts can be ended if it hangs."""
    run_dir = _fresh_dir(tmp_path)
    shutil.copy(PRELUDE, run_dir / "lifecycle_child.py")
    script = run_dir / "child.py"
    script.write_text("import lifecycle_child as lc\n" + textwrap.dedent(body), encoding="utf-8")
    out = run_dir / "records.jsonl"
    out.touch()
    env = child_env(out, config, params or {})
    started = time.monotonic()
    with (run_dir / "stdout").open("wb") as stdout, (run_dir / "stderr").open("wb") as stderr:
        process = subprocess.Popen(
            [sys.executable, str(script)],
            cwd=run_dir,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=stdout,
            stderr=stderr,
            start_new_session=True,
        )
        try:
            _watch(process, out, list(actions), started + timeout)
        finally:
            if process.poll() is None:
                if hasattr(os, "killpg"):  # the child and every process it started
                    os.killpg(process.pid, signal.SIGKILL)
                else:  # pragma: no cover  # Windows: no process groups here
                    process.kill()
                process.wait(10)
                raise AssertionError(f"the child did not end within {timeout} s")
    elapsed = time.monotonic() - started
    raw = out.read_text(encoding="utf-8")
    # Only whole lines: a process that outlives the child's main one (multiprocessing's
    # forkserver) may be writing its last line right now.
    records = [json.loads(line) for line in raw.split("\n")[:-1] if line.strip()]
    return Child(
        process.returncode,
        (run_dir / "stdout").read_text(encoding="utf-8", errors="replace"),
        (run_dir / "stderr").read_text(encoding="utf-8", errors="replace"),
        records,
        elapsed,
        raw,
    )


def _fresh_dir(tmp_path: Path) -> Path:
    for n in range(1000):
        candidate = tmp_path / f"child{n}"
        try:
            candidate.mkdir()
        except FileExistsError:
            continue
        return candidate
    raise RuntimeError("no free directory for the child")


def _watch(
    process: subprocess.Popen[bytes], out: Path, actions: list[Action], deadline: float
) -> None:
    """Wait for the child; run each action `delay` after its mark appears."""
    due: list[tuple[float, Action]] = []
    pending = ""
    with out.open("r", encoding="utf-8") as stream:
        while process.poll() is None and time.monotonic() < deadline:
            chunk = stream.read()
            if chunk:
                pending += chunk
                *lines, pending = pending.split("\n")
                for line in lines:
                    record = json.loads(line)
                    if record["kind"] != "mark":
                        continue
                    for action in [a for a in actions if a.mark == record["name"]]:
                        actions.remove(action)
                        due.append((time.monotonic() + action.delay, action))
            now = time.monotonic()
            for item in [d for d in due if d[0] <= now]:
                due.remove(item)
                if process.poll() is None:
                    item[1].do(process)
            time.sleep(0.005)


# --- the shared checks -----------------------------------------------------------------------


def stats_of(report: dict[str, Any]) -> TelemetryStats:
    known = {f.name for f in fields(TelemetryStats)}
    unknown = set(report["stats"]) - known
    assert not unknown, f"stats fields the test process does not know: {unknown}"
    return TelemetryStats(**report["stats"])


def assert_accounts(stats: TelemetryStats, tracked: int) -> None:
    assert accounted(stats) == tracked, f"{tracked} tracked, but the counters say {stats}"


def assert_clean(child: Child, key: str, *, traceback_ok: bool = False) -> None:
    """The key never appears in anything a child printed or logged; no stray traceback."""
    for name, text in (("stdout", child.stdout), ("stderr", child.stderr), ("logs", child.raw)):
        assert key not in text, f"the API key appears in the child's {name}"
    if not traceback_ok:
        assert "Traceback" not in child.stderr, child.describe()
        assert "Exception in thread" not in child.stderr, child.describe()


def assert_no_warning(child: Child, after: float = 0.0) -> None:
    found = child.warnings(after)
    assert not found, f"unexpected warnings: {[w['message'] for w in found]}\n{child.describe()}"


def the_report(
    child: Child,
    *,
    after: float,
    until: float | None = None,
    count: int,
    url: str,
    last_error: str | None = None,
    lost: bool | None = None,
) -> str:
    """The one warning that says how many events were not delivered, why and where.

    Checked on content, not wording: the number as a whole word, the server URL, the type of
    the last error (what comes before its first colon), and "lost" when the process is exiting
    (and not when the events are still kept).
    """
    found = child.warnings(after, until)
    assert len(found) == 1, (
        f"expected one warning, got {[w['message'] for w in found]}\n{child.describe()}"
    )
    message: str = found[0]["message"]
    assert re.search(rf"(?<![\d.]){count}(?![\d.])", message), (count, message)
    assert url in message, (url, message)
    if last_error:
        why = last_error.split(":", 1)[0].strip()
        assert why in message, (why, message)
    if lost is True:
        assert "lost" in message.lower(), message
    elif lost is False:
        assert "lost" not in message.lower(), message
    return message


def config_for(server: LocalServer | SilentServer, **overrides: Any) -> dict[str, Any]:
    """A child's TelemetryConfig fields: nothing is sent before the script says so."""
    settings: dict[str, Any] = {
        "server_url": server.url,
        "api_key": server.key,
        "instance_id": server.instance,
        "submit_interval_seconds": 3600.0,
        "request_timeout_seconds": 5.0,
        "shutdown_timeout_seconds": 5.0,
    }
    settings.update(overrides)
    return settings
