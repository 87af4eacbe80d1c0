"""The benchmarks run (tiny counts), so they cannot rot. No figure is asserted: timing on a
shared CI machine means nothing; only that each benchmark runs and reports a row."""

from __future__ import annotations

import importlib.util
import math
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # benchmarks/ is a top-level package of the checkout
    sys.path.insert(0, str(ROOT))

from benchmarks._common import SMOKE, Result  # noqa: E402

from benchmarks import run  # noqa: E402

HAVE_POSTHOG = importlib.util.find_spec("posthog") is not None
#: Rows that are a difference of two timings: one round on a busy machine can make it negative.
DIFFERENCES = {"import_own"}


@pytest.mark.parametrize("name", list(run.BENCHMARKS))
def test_benchmark_runs(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    if not HAVE_POSTHOG:
        # Only the peer's figure goes: ours is still measured.
        monkeypatch.setattr("benchmarks._peers.HAVE_POSTHOG", False)
    out = run.BENCHMARKS[name](SMOKE)
    results = out if isinstance(out, list) else [out]
    assert results
    for r in results:
        assert isinstance(r, Result)
        assert math.isfinite(r.ours)
        assert r.ours >= 0 or r.key in DIFFERENCES, r
        assert run.table([r]).count("\n") == 2


def test_main_smoke_prints_one_table(capsys: pytest.CaptureFixture[str]) -> None:
    results = run.main(["--smoke", "--only", "track,serialize,start_stop"])
    assert [r.key for r in results] == ["track", "serialize", "start", "stop"]
    assert capsys.readouterr().out.startswith("| benchmark |")


@pytest.mark.skipif(not HAVE_POSTHOG, reason="posthog (the bench extra) is not installed")
def test_posthog_capture_really_enqueues() -> None:
    from benchmarks import _peers

    client = _peers.enqueue_only_client(10)
    client.capture("e", distinct_id="d", properties=_peers.properties())
    assert _peers.queued(client) == 1
    _peers.clear(client)
    assert _peers.queued(client) == 0
