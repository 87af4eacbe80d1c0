"""Run `python -m mosaicstack_telemetry` as a user would: a subprocess, its own HOME."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

KEY = "0123456789abcdef" * 4
INSTANCE = "12345678-1234-4234-8234-123456789abc"
DEAD_URL = "http://127.0.0.1:9"  # the discard port: nothing listens, connections are refused


@dataclass
class Result:
    code: int
    out: str
    err: str

    @property
    def both(self) -> str:
        return self.out + self.err


@dataclass
class Cli:
    env: dict[str, str]
    spool: Path
    home: Path
    #: A command that runs the CLI's command line (e.g. `setpriv ...`: see test_unusable_spool).
    wrap: tuple[str, ...] = ()

    def run(self, *args: str, stdin: str | None = None, timeout: float = 60, **env: str) -> Result:
        full = {**self.env, **env}
        for name, value in env.items():
            if value == "":
                full.pop(name)
        proc = subprocess.run(
            [*self.wrap, sys.executable, "-m", "mosaicstack_telemetry", *args],
            input=stdin if stdin is not None else "",
            capture_output=True,
            text=True,
            env=full,
            timeout=timeout,
        )
        return Result(proc.returncode, proc.stdout, proc.stderr)

    def point_at(self, url: str, key: str = KEY, instance: str = INSTANCE) -> None:
        self.env.update(
            MOSAIC_TELEMETRY_SERVER_URL=url,
            MOSAIC_TELEMETRY_API_KEY=key,
            MOSAIC_TELEMETRY_INSTANCE_ID=instance,
        )


def clean_env(tmp_path: Path) -> dict[str, str]:
    """The test's environment without MOSAIC_TELEMETRY_*, and a HOME of its own, so nothing
    touches the user's real data directory."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MOSAIC_TELEMETRY_")}
    env.update(
        HOME=str(tmp_path / "home"),
        XDG_DATA_HOME=str(tmp_path / "data"),
        PYTHONUNBUFFERED="1",
    )
    return env


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    """A CLI whose spool is in tmp_path (via MOSAIC_TELEMETRY_SPOOL_PATH), no server set."""
    spool = tmp_path / "spool.sqlite3"
    env = clean_env(tmp_path)
    env["MOSAIC_TELEMETRY_SPOOL_PATH"] = str(spool)
    return Cli(env, spool, tmp_path / "home")


@pytest.fixture
def inproc(
    cli: Cli, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Callable[..., Result]:
    """`main()` in this process, with the `cli` fixture's environment: for the many quick
    usage checks, where a subprocess each would only add start-up time."""
    import io

    from mosaicstack_telemetry.cli import main

    def run(*args: str, stdin: str = "") -> Result:
        for name in [n for n in os.environ if n.startswith("MOSAIC_TELEMETRY_")]:
            monkeypatch.delenv(name)
        for name, value in cli.env.items():
            monkeypatch.setenv(name, value)
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        # main() sets up the SDK logger for a CLI process; give the next test it back as it was.
        sdk_logger = logging.getLogger("mosaicstack_telemetry")
        saved = (sdk_logger.level, list(sdk_logger.handlers))
        try:
            code = main(list(args))
        except SystemExit as exc:  # argparse: --help, usage errors
            code = exc.code if isinstance(exc.code, int) else 1
        finally:
            sdk_logger.setLevel(saved[0])
            sdk_logger.handlers[:] = saved[1]
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return run
