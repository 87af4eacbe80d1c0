"""`mosaic-telemetry serve` and `python -m mosaicstack_telemetry.server`: a fresh key, printed
once with the lines to paste, and a clear message when the `server` extra is missing."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest
from tests.cli.conftest import Cli

EXPORT = re.compile(r"^  export (MOSAIC_TELEMETRY_[A-Z_]+)=(\S+)$", re.M)


@contextmanager
def started(cli: Cli, *command: str) -> Iterator[tuple[str, dict[str, str]]]:
    """Start a server command; yield the announcement and the exported variables."""
    proc = subprocess.Popen(
        [sys.executable, *command, "--port", "0", "--log-level", "warning"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=cli.env,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        lines = []
        while len(lines) < 20:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line)
            if "MOSAIC_TELEMETRY_INSTANCE_ID=" in line:
                break
        text = "".join(lines)
        yield text, dict(EXPORT.findall(text))
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@pytest.mark.parametrize(
    "command",
    [("-m", "mosaicstack_telemetry", "serve"), ("-m", "mosaicstack_telemetry.server")],
)
def test_a_server_without_key_prints_a_fresh_usable_key_once(
    cli: Cli, command: tuple[str, ...]
) -> None:
    with started(cli, *command) as (text, env):
        assert "for this local server only" in text
        assert set(env) == {
            "MOSAIC_TELEMETRY_SERVER_URL",
            "MOSAIC_TELEMETRY_API_KEY",
            "MOSAIC_TELEMETRY_INSTANCE_ID",
        }
        key = env["MOSAIC_TELEMETRY_API_KEY"]
        assert re.fullmatch(r"[0-9a-f]{64}", key)
        assert text.count(key) == 1  # printed once, in full
        assert key != "d" * 64  # not the old public demo key
        url = env["MOSAIC_TELEMETRY_SERVER_URL"]
        assert text.startswith(f"serving on {url}\n")
        # The pasted lines are enough for the CLI to deliver to it.
        cli.env.update(env)
        res = cli.run("track", "--flush", "--model", "served")
        assert res.code == 0, res.both
        answer = httpx.post(f"{url}/v1/events/batch", json={"events": []})
        assert answer.status_code == 401  # and it is a real server, checking keys


def test_each_start_makes_a_new_key(cli: Cli) -> None:
    keys = []
    for _ in range(2):
        with started(cli, "-m", "mosaicstack_telemetry.server") as (_, env):
            keys.append(env["MOSAIC_TELEMETRY_API_KEY"])
    assert keys[0] != keys[1]


def test_a_server_with_a_key_prints_no_key(cli: Cli) -> None:
    key, instance = "ab" * 32, "12345678-1234-4234-8234-123456789abc"
    proc = subprocess.Popen(
        [sys.executable, "-m", "mosaicstack_telemetry", "serve", "--port", "0",
         "--log-level", "warning", "--key", f"{key}:{instance}"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=cli.env,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith("serving on http://127.0.0.1:")
        assert key not in line
    finally:
        proc.terminate()
        out, err = proc.communicate(timeout=30)
    assert key not in out + err


BLOCK_STARLETTE = (
    "import runpy, sys; sys.modules['starlette'] = None; "
    "sys.argv[0] = 'server'; "
    "runpy.run_module('mosaicstack_telemetry.server', run_name='__main__', alter_sys=True)"
)


def test_the_server_module_without_its_extra_says_which_to_install(cli: Cli) -> None:
    done = subprocess.run(
        [sys.executable, "-c", BLOCK_STARLETTE, "--port", "0"],
        capture_output=True, text=True, env=cli.env, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 1
    assert "pip install 'mosaicstack-telemetry[server]'" in done.stderr
    assert "missing module: starlette" in done.stderr
    assert "Traceback" not in done.stderr


def test_importing_a_server_name_without_the_extra_says_which_to_install(cli: Cli) -> None:
    code = (
        "import sys; sys.modules['uvicorn'] = None\n"
        "try:\n"
        "    from mosaicstack_telemetry.server import start_server\n"
        "except ModuleNotFoundError as exc:\n"
        "    print(exc)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=cli.env, timeout=60
    )
    assert "needs the `server` extra" in done.stdout
    assert "missing module: uvicorn" in done.stdout


def test_serve_without_the_extra_exits_1_with_the_install_line(cli: Cli) -> None:
    code = (
        "import sys; sys.modules['starlette'] = None\n"
        "from mosaicstack_telemetry.cli import main\n"
        "sys.exit(main(['serve', '--port', '0']))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=cli.env, timeout=60
    )
    assert done.returncode == 1
    assert "pip install 'mosaicstack-telemetry[server]'" in done.stderr
