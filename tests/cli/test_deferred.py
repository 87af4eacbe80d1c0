"""The CLI's process loads `inspect` only when something uses it (issue 16): `track` does not."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.cli.conftest import INSTANCE, KEY, Cli
from tests.cli.test_cli import spooled

#: What `import inspect` brings with it; none of it is needed to record an event.
INSPECT_AND_ITS_IMPORTS = {"inspect", "ast", "dis", "tokenize"}


def _python(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """A child Python without coverage's start-up hook, which imports inspect itself."""
    done = subprocess.run(
        [sys.executable, *args],
        capture_output=True,
        text=True,
        env={k: v for k, v in env.items() if not k.startswith("COVERAGE_")},
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done


def _imported(importtime: str) -> set[str]:
    """The modules `python -X importtime` reports as imported."""
    return {
        line.rsplit("|", 1)[1].strip()
        for line in importtime.splitlines()
        if line.startswith("import time:") and "|" in line
    }


def test_track_records_its_event_without_importing_inspect(cli: Cli) -> None:
    cli.point_at("http://127.0.0.1:9")
    track = ["track", "--model", "x", "--outcome", "success"]
    done = _python("-X", "importtime", "-m", "mosaicstack_telemetry", *track, env=cli.env)
    imported = _imported(done.stderr)
    assert "dataclasses" in imported  # TelemetryConfig is a dataclass: it is what would load it
    if sys.version_info < (3, 12):
        assert not imported & INSPECT_AND_ITS_IMPORTS
    else:  # dataclasses reads every class's annotations through inspect: loaded, and it works
        assert "inspect" in imported
    (event,) = spooled(cli.spool)
    assert str(event.event_id) == done.stdout.strip()
    assert str(event.instance_id) == INSTANCE
    assert event.model == "x"
    assert KEY not in done.stdout + done.stderr


def test_the_stand_in_becomes_the_real_module_on_first_use() -> None:
    code = """
import sys
from mosaicstack_telemetry.cli._deferred import defer_inspect

defer_inspect()
stand_in = sys.modules["inspect"]
import dataclasses

assert dataclasses.inspect is stand_in and "ast" not in sys.modules

@dataclasses.dataclass
class NoDocstring:
    a: int

# dataclasses read inspect.signature for the docstring: the real module loaded then.
assert NoDocstring.__doc__ == "NoDocstring(a: int)", NoDocstring.__doc__
import inspect

assert inspect is not stand_in and sys.modules["inspect"] is inspect
assert stand_in.signature is inspect.signature is dataclasses.inspect.signature
assert stand_in.__file__ == inspect.__file__
from inspect import Parameter

assert Parameter is inspect.Parameter
defer_inspect()  # inspect is loaded: nothing to do
assert sys.modules["inspect"] is inspect
print("ok")
"""
    assert _python("-c", code, env=dict(os.environ)).stdout.strip() == "ok"


def test_threads_reading_the_stand_in_at_once_load_one_module() -> None:
    code = """
import sys, threading
from mosaicstack_telemetry.cli._deferred import defer_inspect

defer_inspect()
stand_in = sys.modules["inspect"]
barrier = threading.Barrier(8)
seen = []

def read():
    barrier.wait(timeout=30)
    seen.append(stand_in.signature)

threads = [threading.Thread(target=read) for _ in range(8)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join(timeout=30)
import inspect

assert len(seen) == 8 and all(s is inspect.signature for s in seen), seen
assert sys.modules["inspect"] is inspect and inspect is not stand_in
print("ok")
"""
    assert _python("-c", code, env=dict(os.environ)).stdout.strip() == "ok"


def test_main_called_by_a_host_leaves_its_modules_alone(cli: Cli) -> None:
    # main(argv) is the CLI called from someone's code: their process, not the CLI's.
    code = (
        "import sys, types\n"
        "from mosaicstack_telemetry.cli import main\n"
        "code = main(['track', '--model', 'x', '--outcome', 'success'])\n"
        "print(code, type(sys.modules['inspect']) is types.ModuleType)\n"
    )
    cli.point_at("http://127.0.0.1:9")
    assert _python("-c", code, env=cli.env).stdout.split()[-2:] == ["0", "True"]
