"""Every Python block of docs/ runs against the local server, page by page, as a reader runs it.

A page's blocks run in order in one namespace (a later block uses the names of an earlier one,
as the reader has them); top-level `await` runs as in the asyncio REPL. A block titled
`test_*.py` is a test file: it is saved and run by pytest in a subprocess, with the plugin the
SDK installs. The only edits are the ones a reader makes: the server URL and the placeholder
key; `MOSAIC_TELEMETRY_*` point at the server for the blocks that read the environment. A
```text block introduced by "prints" is the block's exact output.

Each page then checks what it promises on the server's side, and that the SDK logged no warning
(an example that silently drops its events would otherwise pass). The same blocks run again in
`test_kill_switch.py` with nothing configured but `MOSAIC_TELEMETRY_ENABLED=false`.
"""

from __future__ import annotations

import itertools
import logging
import os
import re
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.docs._blocks import (
    INSTANCE,
    KEY,
    ROOT,
    Block,
    localize,
    pages_with_python,
    run_session,
)

from mosaicstack_telemetry.server import RunningServer, start_server

PAGES = pages_with_python()


@pytest.fixture
def server() -> Iterator[RunningServer]:
    with start_server(keys={KEY: INSTANCE}) as running:
        yield running


@pytest.fixture
def env(server: RunningServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, str]:
    """The reader's shell: the three variables of the server, a home and a directory of its own."""
    for name in [n for n in os.environ if n.startswith("MOSAIC_")]:
        monkeypatch.delenv(name)
    values = {
        "MOSAIC_TELEMETRY_SERVER_URL": server.url,
        "MOSAIC_TELEMETRY_API_KEY": KEY,
        "MOSAIC_TELEMETRY_INSTANCE_ID": INSTANCE,
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    return dict(os.environ)


def run_file(block: Block, code: str, tmp_path: Path, env: dict[str, str]) -> str:
    path = tmp_path / block.title
    path.write_text(code, encoding="utf-8")
    if block.title.startswith("test_"):
        command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(path)]
    else:
        command = [sys.executable, str(path)]
    done = subprocess.run(
        command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, f"{block.name}:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def run_page(
    page: str, url: str, tmp_path: Path, env: dict[str, str]
) -> tuple[dict[str, Any], str]:
    namespace: dict[str, Any] = {"__name__": "docs_example"}
    printed = []
    for block in PAGES[page]:
        code = localize(block.code, url)
        if block.title:
            printed.append(run_file(block, code, tmp_path, env))
            continue
        out = run_session(block, code, namespace)
        if block.output is not None:
            assert out == block.output, f"{block.name} printed:\n{out}"
        printed.append(out)
    return namespace, "".join(printed)


def stored_models(server: RunningServer) -> list[str]:
    return [e["model"] for e in server.stored_events()]


def posts(server: RunningServer, path: str) -> int:
    return sum(1 for r in server.requests if r.path == path)


# What each page promises once its blocks ran: (namespace, printed, server) -> None.


def _quickstart(ns: dict[str, Any], printed: str, server: RunningServer) -> None:
    assert stored_models(server) == ["claude-sonnet-4-5-20250929"]
    assert posts(server, "/v1/predictions/batch") == 1
    assert "confidence: low (1 samples)" in printed  # the event it just sent


def _configuration(ns: dict[str, Any], printed: str, server: RunningServer) -> None:
    assert stored_models(server) == ["any-model"]
    assert ns["config"].instance_id == INSTANCE


def _usage(ns: dict[str, Any], printed: str, server: RunningServer) -> None:
    from fastapi.testclient import TestClient

    # threads, context manager, asyncio.run, async with, flush(); dry run sends nothing.
    assert server.deliveries()[str(ns["event"].event_id)] == 5  # the same event each time
    assert "sent 0, duplicate 1, rejected 0, dropped 0, remaining 0" in printed  # stored once
    # the hooks: before_send dropped one event and scrubbed the other; nothing failed
    assert "{'before_send': 1} []" in printed
    (scrubbed,) = [e for e in server.stored_events() if e["model"] == "scrubbed"]
    assert scrubbed.get("language") is None
    assert "internal-llm" not in stored_models(server)
    assert "sender: thread, queued: 0>" in printed  # the repr
    assert len(server.stored_events()) == 2
    with TestClient(ns["app"]) as http:  # the FastAPI block, driven through its lifespan
        answer = http.post("/tasks/complete", params={"model": "fastapi-docs", "duration_ms": 5})
        assert answer.json() == {"status": "tracked"}
    assert "fastapi-docs" in stored_models(server)


def _events(ns: dict[str, Any], printed: str, server: RunningServer) -> None:
    (stored,) = server.stored_events()
    assert stored["quality_gates_failed"] == ["coverage"]
    assert stored["repo_size_category"] == "medium"
    assert int(printed) == ns["priced"].actual_cost_usd_micros > 0


def _predictions(ns: dict[str, Any], printed: str, server: RunningServer) -> None:
    assert posts(server, "/v1/predictions/batch") == 1
    assert printed.splitlines() == [
        "claude-sonnet-4-5-20250929: no data",
        "claude-haiku-4-5-20251001: no data",
    ]


def _lifecycle(ns: dict[str, Any], printed: str, server: RunningServer) -> None:
    assert stored_models(server) == ["spooled"]
    assert Path("telemetry-spool.sqlite3").exists()


def _server(ns: dict[str, Any], printed: str, server: RunningServer) -> None:
    assert printed.startswith("1 event(s) stored at http://127.0.0.1:")
    assert server.requests == []  # it started a server of its own


def _plugin(ns: dict[str, Any], printed: str, server: RunningServer) -> None:
    assert printed.count(" passed") == 2


def _ui(ns: dict[str, Any], printed: str, server: RunningServer) -> None:
    assert printed.startswith("open http://127.0.0.1:")
    assert printed.rstrip().endswith(": 200, text/html; charset=utf-8")


PAGE_CHECKS: dict[str, Callable[[dict[str, Any], str, RunningServer], None]] = {
    "quickstart.md": _quickstart,
    "configuration.md": _configuration,
    "usage.md": _usage,
    "events.md": _events,
    "predictions.md": _predictions,
    "lifecycle.md": _lifecycle,
    "server.md": _server,
    "pytest-plugin.md": _plugin,
    "ui.md": _ui,
}


def test_every_page_with_python_has_a_check() -> None:
    assert set(PAGES) == set(PAGE_CHECKS)


@pytest.mark.parametrize("page", sorted(PAGES))
def test_page(
    page: str,
    server: RunningServer,
    env: dict[str, str],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, "mosaicstack_telemetry"):
        namespace, printed = run_page(page, server.url, tmp_path, env)
        PAGE_CHECKS[page](namespace, printed, server)
    problems = [r.getMessage() for r in caplog.records if r.name.startswith("mosaicstack")]
    assert problems == [], f"the SDK warned while {page} ran"
    senders = [t for t in threading.enumerate() if t.name == "mosaicstack-telemetry-sender"]
    assert senders == []


def test_no_page_points_outside_the_repository() -> None:
    for path in [*(ROOT / "docs").glob("*.md"), ROOT / "README.md", ROOT / "examples/README.md"]:
        text = path.read_text(encoding="utf-8")
        assert "../shared" not in text, path
        assert "shared/spec" not in text, path


def _split_tables(text: str) -> list[str]:
    """Table rows after a blank line that start no table (no `|---` line under them): Markdown
    renders them as a paragraph of `| ... |` text, cut off from the table above."""
    lines, fenced, orphans = text.splitlines(), False, []
    for i, line in enumerate(lines):
        fenced ^= line.startswith("```")
        if fenced or not line.startswith("|") or i < 2 or lines[i - 1].strip():
            continue
        starts_table = i + 1 < len(lines) and re.match(r"\|\s*:?-", lines[i + 1]) is not None
        if lines[i - 2].startswith("|") and not starts_table:
            orphans.append(f"line {i + 1}: {line[:60]}")
    return orphans


def test_no_table_is_cut_in_two_by_a_blank_line() -> None:
    for path in [*(ROOT / "docs").glob("*.md"), ROOT / "README.md", ROOT / "examples/README.md"]:
        assert _split_tables(path.read_text(encoding="utf-8")) == [], path.name
    assert _split_tables("| a |\n|---|\n| 1 |\n\n| 2 |\n") == ["line 5: | 2 |"]  # the check


def test_the_readme_example(server: RunningServer, env: dict[str, str]) -> None:
    from tests.docs._blocks import blocks

    namespace: dict[str, Any] = {"__name__": "readme_example"}
    found = blocks(ROOT / "README.md")
    assert found
    for block in found:
        run_session(block, localize(block.code, server.url), namespace)
    (stored,) = server.stored_events()
    assert (stored["model"], stored["actual_input_tokens"]) == (
        "claude-sonnet-4-5-20250929",
        112_340,
    )


def _table_rows(page: str, heading: str) -> list[list[str]]:
    text = (ROOT / "docs" / page).read_text(encoding="utf-8")
    section = text.split(heading, 1)[1].split("\n## ", 1)[0]
    lines = section.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("|"))
    # The table as Markdown renders it: it ends at the first line that is not a row.
    table = itertools.takewhile(lambda line: line.startswith("|"), lines[start:])
    rows = [line for line in table if line.startswith("| `")]
    # A cell may hold an escaped pipe (`A \| None`): split on the others only.
    cells = [re.split(r"(?<!\\)\|", row)[1:-1] for row in rows]
    return [[cell.strip().replace("\\|", "|") for cell in row] for row in cells]


def test_the_settings_table_lists_every_field_with_its_default() -> None:
    import dataclasses

    from mosaicstack_telemetry import TelemetryConfig

    rows = _table_rows("configuration.md", "## Every setting")
    fields = dataclasses.fields(TelemetryConfig)
    assert [row[0] for row in rows] == [f"`{f.name}`" for f in fields]
    for row, f in zip(rows, fields, strict=True):
        assert row[1] == f"`{f.type}`", f.name
        if f.name != "user_agent":  # shown as its pattern, with <version>
            shown = '""' if f.default == "" else repr(f.default)
            assert row[2].split(" ")[0] == f"`{shown}`", f.name


def test_the_enum_table_lists_every_value() -> None:
    import mosaicstack_telemetry

    text = (ROOT / "docs" / "events.md").read_text(encoding="utf-8")
    for name in ("TaskType", "Complexity", "Harness", "Provider", "Outcome", "QualityGate",
                 "RepoSizeCategory"):  # fmt: skip
        values = ", ".join(f"`{m.value}`" for m in getattr(mosaicstack_telemetry, name))
        assert f"| `{name}` | {values} |" in text, name
