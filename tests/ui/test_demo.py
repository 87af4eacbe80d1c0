"""`scripts/demo`, through its real entry point: it explains its columns in words and ends with
the live page's address; in a terminal it keeps serving until Ctrl-C, elsewhere it exits."""

from __future__ import annotations

import os
import pty
import re
import select
import signal
import subprocess
import time
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "scripts" / "demo"

pytestmark = [
    pytest.mark.timeout(300),
    pytest.mark.skipif(
        not (ROOT / ".venv" / "bin" / "python").exists(),
        reason="scripts/demo runs the project's .venv, which scripts/install makes",
    ),
]


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "VIRTUAL_ENV"}}


def test_demo_explains_its_columns_and_exits_when_not_in_a_terminal() -> None:
    result = subprocess.run(
        ["bash", str(DEMO)],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=240,
        cwd=ROOT,
        env=_env(),
        check=False,
    )
    out = result.stdout
    assert result.returncode == 0, out + result.stderr
    assert re.search(r"done in [\d.]+ s: OK", out)
    assert "it rejected 2 sent with another instance's id" in out
    # The fallback level in words, in the table and in the legend under it.
    assert "0 exact" in out
    assert "1 any model" in out
    assert "-1 no data" in out
    legend = out.split("What the columns mean:", 1)[1]
    for column in ("n", "confidence", "in p50/p90", "corr in", "pass", "fallback"):
        assert re.search(rf"^  {re.escape(column)}\s", legend, re.MULTILINE), column
    assert re.search(
        r"live page was at http://127\.0\.0\.1:\d+/ \(run scripts/demo in a terminal", out
    )


def test_demo_in_a_terminal_serves_the_page_until_ctrl_c() -> None:
    primary, secondary = pty.openpty()
    # A run started in the background by a shell without job control (`cmd &` in a script, a
    # CI step) ignores SIGINT, and so would the demo, which inherits it: Ctrl-C would do
    # nothing. The terminal this test plays is interactive: the demo gets SIGINT's default.
    ignored = signal.getsignal(signal.SIGINT) == signal.SIG_IGN
    if ignored:
        signal.signal(signal.SIGINT, signal.default_int_handler)  # SIG_DFL again after exec
    try:
        proc = subprocess.Popen(
            ["bash", str(DEMO)],
            stdin=secondary,
            stdout=secondary,
            stderr=secondary,
            cwd=ROOT,
            env=_env(),
            start_new_session=True,
        )
    finally:
        if ignored:
            signal.signal(signal.SIGINT, signal.SIG_IGN)
    os.close(secondary)
    output = b""
    try:
        deadline = time.monotonic() + 120
        match = None
        while match is None and time.monotonic() < deadline:
            ready, _, _ = select.select([primary], [], [], 1)
            if ready:
                try:
                    output += os.read(primary, 65536)
                except OSError:  # the demo ended: its terminal closed
                    break
            match = re.search(rb"the live page: (http://127\.0\.0\.1:\d+/)", output)
        assert match, output.decode(errors="replace")
        page = match.group(1).decode()
        time.sleep(0.5)
        assert proc.poll() is None  # still serving
        state = httpx.get(page + "ui/api/state").json()
        assert state["total"] == 400
        assert state["requests"]["event_statuses"]["rejected"] == 2
        assert httpx.get(page).status_code == 200

        os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C in the terminal
        assert proc.wait(timeout=30) == 0
        with pytest.raises(httpx.TransportError):
            httpx.get(page, timeout=2)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
        os.close(primary)
