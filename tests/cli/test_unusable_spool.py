"""`flush` and `track` with a spool they cannot use: never "remaining 0" or "sent" for events
that stay in the file, never "failed" for an event that was sent.

A read-only file is read-only for root only without the capabilities that let root write
anything: as root, the CLI runs under `setpriv` with them dropped (what a normal user has).
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from tests.cli.conftest import DEAD_URL, Cli
from tests.cli.test_cli import prefill, spooled

from mosaicstack_telemetry.pytest_plugin import TelemetryServer

_CAPS = "-dac_override,-dac_read_search,-fowner"


def as_a_user(cli: Cli) -> None:
    """Make `cli` run where file permissions hold (a normal user's view of a read-only file)."""
    if os.geteuid() != 0:
        return
    if shutil.which("setpriv") is None:
        pytest.skip("running as root without setpriv: a read-only file is writable to root")
    cli.wrap = ("setpriv", f"--bounding-set={_CAPS}", f"--inh-caps={_CAPS}")


def read_only_spool(cli: Cli, server: TelemetryServer, events: int) -> None:
    """`cli` pointed at `server`, its spool holding `events` and read-only to the CLI."""
    cli.env.update(server.env())
    prefill(cli, server.instance_id, events)
    cli.spool.chmod(0o444)
    as_a_user(cli)


def count(path: Path) -> int:
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
        return int(conn.execute("SELECT COUNT(*) FROM events").fetchone()[0])


# -- flush -----------------------------------------------------------------------------------


def test_flush_of_a_read_only_spool_exits_1_and_counts_what_it_holds(
    cli: Cli, telemetry_server: TelemetryServer
) -> None:
    read_only_spool(cli, telemetry_server, 3)
    res = cli.run("flush")
    assert res.code == 1, res.both
    assert res.out.strip() == "sent 0, duplicate 0, rejected 0, dropped 0, remaining 3"
    assert f"3 events remain (the spool {cli.spool} could not be used" in res.err
    res = cli.run("flush", "--json")
    assert res.code == 1, res.both
    summary = json.loads(res.out)
    assert (summary["sent"], summary["remaining"]) == (0, 3)
    assert f"the spool {cli.spool} could not be used" in summary["last_error"]
    assert telemetry_server.events() == []
    assert count(cli.spool) == 3


@pytest.mark.parametrize("content", [b"hello\n", bytes(range(256)) * 20])
def test_flush_of_a_corrupt_spool_exits_1_and_does_not_claim_it_is_empty(
    cli: Cli, content: bytes
) -> None:
    cli.point_at(DEAD_URL)
    cli.spool.write_bytes(content)
    res = cli.run("flush")
    assert res.code == 1, res.both
    assert res.out.strip() == "sent 0, duplicate 0, rejected 0, dropped 0, remaining unknown"
    assert f"cannot read the spool {cli.spool}: file is not a database" in res.err
    assert "nothing was sent" in res.err
    assert "Traceback" not in res.both
    res = cli.run("flush", "--json")
    assert res.code == 1, res.both
    summary = json.loads(res.out)
    assert summary["remaining"] is None
    assert f"cannot read the spool {cli.spool}" in summary["last_error"]
    assert cli.spool.read_bytes() == content  # left as it was


def test_flush_of_a_spool_that_does_not_exist_and_cannot_be_made_is_empty(
    cli: Cli, tmp_path: Path
) -> None:
    cli.point_at(DEAD_URL)
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    res = cli.run("flush", "--json", MOSAIC_TELEMETRY_SPOOL_PATH=str(blocker / "spool.db"))
    assert res.code == 0, res.both
    assert json.loads(res.out)["remaining"] == 0


# -- track -----------------------------------------------------------------------------------


@pytest.mark.parametrize("flush", [(), ("--flush",)])
def test_track_with_an_unusable_spool_neither_records_nor_sends(
    cli: Cli, tmp_path: Path, telemetry_server: TelemetryServer, flush: tuple[str, ...]
) -> None:
    """Exit 1 means not sent: a caller that retries creates no duplicate (the client's exit
    flush once delivered the event `track` had just reported as failed)."""
    cli.env.update(telemetry_server.env())
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    cli.env["MOSAIC_TELEMETRY_SPOOL_PATH"] = str(blocker / "spool.db")
    res = cli.run("track", *flush, "--model", "m", "--no-prices")
    assert res.code == 1, res.both
    assert telemetry_server.events() == []  # after the process exited: no exit flush either
    assert res.out == ""  # no event id: there is no event
    assert "could not write the event to" in res.err
    assert "neither recorded nor sent" in res.err


def test_track_json_on_stdin_with_an_unusable_spool_reads_stdin_once(
    cli: Cli, telemetry_server: TelemetryServer
) -> None:
    cli.env.update(telemetry_server.env())
    cli.spool.mkdir()  # a directory where the file should be
    res = cli.run("track", "--json", "-", "--no-prices", stdin=json.dumps({"model": "gpt-5"}))
    assert res.code == 1, res.both  # not 2, "--json: not valid JSON" from a second read
    assert "could not write the event to" in res.err
    assert telemetry_server.events() == []


def test_track_to_a_read_only_spool_sends_nothing(
    cli: Cli, telemetry_server: TelemetryServer
) -> None:
    read_only_spool(cli, telemetry_server, 1)
    for flush in ((), ("--flush",)):
        res = cli.run("track", *flush, "--model", "ro", "--no-prices")
        assert res.code == 1, res.both
        assert telemetry_server.events() == []
        assert "neither recorded nor sent" in res.err
    assert count(cli.spool) == 1


def test_track_flush_still_records_then_delivers(
    cli: Cli, telemetry_server: TelemetryServer
) -> None:
    cli.env.update(telemetry_server.env())
    res = cli.run("track", "--flush", "--model", "now", "--json", "-", stdin='{"retry_count": 2}')
    assert res.code == 0, res.both
    (event,) = telemetry_server.events()
    assert (event["event_id"], event["model"], event["retry_count"]) == (res.out.strip(), "now", 2)
    assert spooled(cli.spool) == []


# -- a full disk ------------------------------------------------------------------------------


@pytest.fixture
def full_disk(tmp_path: Path) -> Iterator[Path]:
    """A real, full filesystem (a 256 KiB tmpfs, filled up): a directory on it."""
    mount = tmp_path / "small-disk"
    mount.mkdir()
    made = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mount)],
        capture_output=True,
        check=False,
    )
    if made.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {made.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def fill(directory: Path) -> None:
    with (directory / "filler").open("wb", buffering=0) as filler:
        try:
            for _ in range(1 << 16):  # bounded: 256 MiB, far beyond the disk
                filler.write(b"\0" * 4096)
        except OSError:  # ENOSPC: the disk is full
            return
    raise AssertionError(f"{directory} never filled up")


def test_a_full_disk_is_named_with_what_to_do_by_track_flush_and_doctor(
    cli: Cli, full_disk: Path
) -> None:
    """track, flush and doctor used to advise "make the file and its directory writable" (or
    "repair the file") for a full disk, and doctor found "no problems" beside a new spool."""
    cli.point_at(DEAD_URL)
    spool = full_disk / "spool.db"
    assert cli.run("track", "--spool", str(spool), "--no-prices").code == 0  # room for it
    fill(full_disk)
    for path in (spool, full_disk / "new.db"):
        res = cli.run("track", "--spool", str(path), "--no-prices")
        assert res.code == 1, res.both
        assert res.out == ""
        assert "neither recorded nor sent; free some space on the disk that holds it" in res.err
        assert "writable" not in res.err
    res = cli.run("flush", "--spool", str(spool), "--timeout", "1")
    assert res.code == 1, res.both
    assert "nothing was sent; free some space on the disk that holds it, then flush" in res.err
    for path in (spool, full_disk / "new.db"):
        res = cli.run("doctor", "--spool", str(path), "--timeout", "1")
        assert res.code == 1, res.both
        assert f"[FAIL] spool-disk  the disk holding {path} is full" in res.out


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="Linux's /dev/full")
def test_track_on_a_device_that_is_always_full_says_to_free_space(cli: Cli) -> None:
    cli.point_at(DEAD_URL)
    res = cli.run("track", "--spool", "/dev/full", "--no-prices")
    assert res.code == 1, res.both
    assert "(database or disk is full): it was neither recorded nor sent; free some space" in (
        res.err
    )


@pytest.mark.parametrize(
    ("make", "advice"),
    [
        (lambda p: p.write_bytes(b"not a spool\n"), "repair the file or move it aside"),
        (lambda p: p.mkdir(), "it is a directory: give the path of a file"),
    ],
    ids=["corrupt", "directory"],
)
def test_track_advice_follows_what_is_wrong_with_the_spool(
    cli: Cli, make: Callable[[Path], object], advice: str
) -> None:
    """A spool that is not one, or a directory, was answered with "make the file and its
    directory writable", which changes nothing (flush said "repair the file" already)."""
    cli.point_at(DEAD_URL)
    make(cli.spool)
    res = cli.run("track", "--no-prices")
    assert res.code == 1, res.both
    assert f"neither recorded nor sent; {advice}, or choose another spool" in res.err
    assert "writable" not in res.err


@pytest.mark.parametrize(
    "args",
    [
        ("flush", "--timeout", "-1"),
        ("flush", "--timeout", "nan"),
        ("track", "--flush", "--flush-timeout", "-5"),
        ("doctor", "--timeout", "soon"),
        ("doctor", "--timeout", "inf"),  # crashed with OverflowError (a socket's timeout)
        ("flush", "--timeout", "1e308"),
    ],
)
def test_a_deadline_that_is_no_duration_is_a_usage_error(cli: Cli, args: tuple[str, ...]) -> None:
    cli.point_at(DEAD_URL)
    res = cli.run(*args)
    assert res.code == 2, res.both
    assert "seconds" in res.err
    assert not cli.spool.exists()  # nothing recorded


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="Linux's /proc")
def test_a_file_system_without_a_size_is_never_called_full(cli: Cli) -> None:
    """/proc and /sys report 0 bytes free: a spool there was "on a full disk" (free some
    space), for track and for doctor, where nothing can be written for other reasons."""
    from mosaicstack_telemetry.cli._output import free_space, spool_remedy

    assert free_space("/proc/spool.db") is None
    assert "free some space" not in spool_remedy("unable to open database file", "/proc/s.db")
    cli.point_at(DEAD_URL)
    res = cli.run("doctor", "--spool", "/proc/spool.db", "--timeout", "1")
    assert "spool-disk" not in res.out, res.out
