"""sdk-reference.md, table by table and row by row, against the SDK.

Every table of the reference is copied into `TABLES` below, so each expectation can be read (and
checked) without the reference. When the reference is present (it sits beside the repository, in
the project's shared folder), `test_tables_equal_the_reference` parses it and requires the copy to
equal it cell for cell: a changed spec fails here until the copy, and so the tests, follow it.
Each table is then tested row by row (one parametrized case per row), and
`test_every_table_has_a_row_test` proves no table is left without one.

Besides the tables: `validate()`'s checks, the builder's keyword-only methods, the queue's and
the cache's documented operations and the client's documented signatures.
"""

from __future__ import annotations

import ast
import asyncio
import dataclasses
import inspect
import json
import logging
import math
import re
import threading
import time
import types
import typing
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime, timedelta, timezone
from enum import Enum
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, NamedTuple

import pydantic
import pytest

import mosaicstack_telemetry as mt
from mosaicstack_telemetry import (
    BatchEventRequest,
    BatchEventResponse,
    BatchEventResult,
    Complexity,
    EventBuilder,
    EventQueue,
    Harness,
    Outcome,
    PredictionCache,
    PredictionQuery,
    PredictionResponse,
    Provider,
    QualityGate,
    RepoSizeCategory,
    TaskCompletionEvent,
    TaskType,
    TelemetryClient,
    TelemetryConfig,
    TelemetryError,
    _enums,
)
from mosaicstack_telemetry import _cache as cache_module
from mosaicstack_telemetry._retry import _scaled_time

REFERENCE_PATH = Path(__file__).resolve().parents[2].parent / "shared" / "spec" / "sdk-reference.md"
LOGGER = "mosaicstack_telemetry"
SENDER_THREAD = "mosaicstack-telemetry-sender"
INSTANCE_ID = "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d"
SECRET_KEY = "5ec4e7" + "0123456789abcdef" * 3 + "fedcba9876"  # 64 hex digits
ENV_VARS = (
    "MOSAIC_TELEMETRY_ENABLED",
    "MOSAIC_TELEMETRY_SERVER_URL",
    "MOSAIC_TELEMETRY_API_KEY",
    "MOSAIC_TELEMETRY_INSTANCE_ID",
    "MOSAIC_TELEMETRY_SPOOL_PATH",
)


class Table(NamedTuple):
    header: tuple[str, ...]
    rows: list[tuple[str, ...]]


def _cells(line: str) -> tuple[str, ...]:
    """The cells of a markdown table row; `\\|` is a literal pipe inside a cell."""
    inner = line.strip()[1:-1]
    return tuple(c.strip().replace("\\|", "|") for c in re.split(r"(?<!\\)\|", inner))


_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*$")


def parse_tables(markdown: str) -> dict[tuple[str, str], Table]:
    """Every table, keyed by its `##` section and the nearest heading above it."""
    tables: dict[tuple[str, str], Table] = {}
    section = nearest = ""
    lines = markdown.splitlines()
    i = 0
    while i < len(lines):
        heading = _HEADING.match(lines[i])
        if heading:
            nearest = heading.group(2).strip("` ")
            if len(heading.group(1)) == 2:
                section = nearest
        elif lines[i].startswith("|"):
            header = _cells(lines[i])
            assert re.fullmatch(r"\|[\s|:-]+\|", lines[i + 1].strip()), lines[i + 1]
            rows = []
            i += 2
            while i < len(lines) and lines[i].startswith("|"):
                row = _cells(lines[i])
                assert len(row) == len(header), lines[i]
                rows.append(row)
                i += 1
            key = (section, nearest)
            assert key not in tables, f"two tables under {key}"
            tables[key] = Table(header, rows)
            continue
        i += 1
    return tables


def parse_bullets(markdown: str, heading: str) -> list[str]:
    """The `- ` items of the first list after the heading whose text is `heading`."""
    lines = markdown.splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip("#` ") == heading)
    items: list[str] = []
    for line in lines[start + 1 :]:
        if _HEADING.match(line):
            break
        if line.startswith("- "):
            items.append(line[2:].strip())
        elif items and not line.strip():
            break
    return items


def parse_headings(markdown: str, section: str, level: int) -> list[str]:
    """The texts (without backticks) of the headings of `level` inside the `##` `section`."""
    found: list[str] = []
    current = ""
    for line in markdown.splitlines():
        heading = _HEADING.match(line)
        if not heading:
            continue
        if len(heading.group(1)) == 2:
            current = heading.group(2).strip("` ")
        elif current == section and len(heading.group(1)) == level:
            found.append(heading.group(2).strip("` "))
    return found


# --- the reference's tables, copied ---------------------------------------------------------
# Every table of sdk-reference.md, verbatim, under its `##` section and nearest heading: the
# expectations of the tests below. `test_tables_equal_the_reference` keeps the copy current.

TABLES_MD = r"""
## TelemetryConfig

### Fields

| Field | Type | Default | Description |
|-------|------|---------|-------------|
| `server_url` | `str` | `""` | Telemetry API base URL. Trailing slashes are stripped. |
| `api_key` | `str` | `""` | 64-character hex API key for Bearer token auth. |
| `instance_id` | `str` | `""` | UUID string identifying this Mosaic Stack instance. |
| `enabled` | `bool` | `True` | Master switch for telemetry. When `False`, `track()` is a no-op and no background threads/tasks are created. |
| `submit_interval_seconds` | `float` | `300.0` | Interval between background queue flushes (seconds). |
| `max_queue_size` | `int` | `1000` | Maximum events in the in-memory queue. Older events are evicted when full. |
| `batch_size` | `int` | `100` | Events per HTTP batch request. Server maximum is 100. |
| `request_timeout_seconds` | `float` | `10.0` | HTTP request timeout (seconds). |
| `prediction_cache_ttl_seconds` | `float` | `21600.0` | Prediction cache time-to-live (seconds). Default: 6 hours. |
| `dry_run` | `bool` | `False` | When `True`, batches are logged but not sent to the server. |
| `max_retries` | `int` | `3` | Maximum retry attempts for transient failures. |
| `user_agent` | `str` | `"mosaicstack-telemetry-python/0.1.0"` | User-Agent header sent with all requests. |

### Environment Variables

| Env Var | Field | Notes |
|---------|-------|-------|
| `MOSAIC_TELEMETRY_ENABLED` | `enabled` | Accepts `1`, `true`, `yes` (case-insensitive) as truthy. Always overrides the constructor value. |
| `MOSAIC_TELEMETRY_SERVER_URL` | `server_url` | Only used if `server_url` is not set in the constructor. |
| `MOSAIC_TELEMETRY_API_KEY` | `api_key` | Only used if `api_key` is not set in the constructor. |
| `MOSAIC_TELEMETRY_INSTANCE_ID` | `instance_id` | Only used if `instance_id` is not set in the constructor. |

## EventBuilder

### Setter Methods

| Method | Parameter Type | Sets Field | Default |
|--------|---------------|-----------|---------|
| `.event_id(value)` | `str \| UUID` | `event_id` | Auto-generated UUIDv4 |
| `.timestamp(value)` | `datetime` | `timestamp` | `datetime.now(UTC)` |
| `.task_type(value)` | `TaskType` | `task_type` | `TaskType.UNKNOWN` |
| `.complexity_level(value)` | `Complexity` | `complexity` | `Complexity.MEDIUM` |
| `.harness_type(value)` | `Harness` | `harness` | `Harness.UNKNOWN` |
| `.model(value)` | `str` | `model` | `"unknown"` |
| `.provider(value)` | `Provider` | `provider` | `Provider.UNKNOWN` |
| `.duration_ms(value)` | `int` | `task_duration_ms` | `0` |
| `.outcome_value(value)` | `Outcome` | `outcome` | `Outcome.FAILURE` |
| `.retry_count(value)` | `int` | `retry_count` | `0` |
| `.language(value)` | `str \| None` | `language` | `None` |
| `.repo_size(value)` | `RepoSizeCategory \| None` | `repo_size_category` | `None` |

## TaskCompletionEvent

### Fields

| Field | Type | Required | Constraints | Description |
|-------|------|----------|-------------|-------------|
| `instance_id` | `UUID` | Yes | Valid UUID | Mosaic Stack installation identifier |
| `event_id` | `UUID` | No | Valid UUID | Unique event identifier (default: auto-generated) |
| `schema_version` | `str` | No | -- | Event schema version (default: `"1.0"`) |
| `timestamp` | `datetime` | No | -- | When the task completed (default: now UTC) |
| `task_duration_ms` | `int` | Yes | 0--86,400,000 | Task wall-clock time in milliseconds |
| `task_type` | `TaskType` | Yes | Enum value | Type of work performed |
| `complexity` | `Complexity` | Yes | Enum value | Task complexity level |
| `harness` | `Harness` | Yes | Enum value | Coding tool / execution environment |
| `model` | `str` | Yes | 1--100 chars | Model identifier |
| `provider` | `Provider` | Yes | Enum value | LLM provider |
| `estimated_input_tokens` | `int` | Yes | 0--10,000,000 | Pre-task input token estimate |
| `estimated_output_tokens` | `int` | Yes | 0--10,000,000 | Pre-task output token estimate |
| `actual_input_tokens` | `int` | Yes | 0--10,000,000 | Actual input tokens consumed |
| `actual_output_tokens` | `int` | Yes | 0--10,000,000 | Actual output tokens generated |
| `estimated_cost_usd_micros` | `int` | Yes | 0--100,000,000 | Estimated cost in microdollars |
| `actual_cost_usd_micros` | `int` | Yes | 0--100,000,000 | Actual cost in microdollars |
| `quality_gate_passed` | `bool` | Yes | -- | Whether all quality gates passed |
| `quality_gates_run` | `list[QualityGate]` | No | -- | Gates executed (default: `[]`) |
| `quality_gates_failed` | `list[QualityGate]` | No | -- | Gates that failed (default: `[]`) |
| `context_compactions` | `int` | Yes | 0--100 | Context compaction events during task |
| `context_rotations` | `int` | Yes | 0--50 | Agent session rotations during task |
| `context_utilization_final` | `float` | Yes | 0.0--1.0 | Final context usage ratio |
| `outcome` | `Outcome` | Yes | Enum value | Final task result |
| `retry_count` | `int` | Yes | 0--20 | Retries before final outcome |
| `language` | `str \| None` | No | Max 30 chars | Primary programming language |
| `repo_size_category` | `RepoSizeCategory \| None` | No | Enum value | Repository size bucket |

## Prediction Types

### PredictionQuery

| Field | Type | Description |
|-------|------|-------------|
| `task_type` | `TaskType` | Task type to predict for |
| `model` | `str` | Model identifier |
| `provider` | `Provider` | LLM provider |
| `complexity` | `Complexity` | Complexity level |

### PredictionResponse

| Field | Type | Description |
|-------|------|-------------|
| `prediction` | `PredictionData \| None` | Prediction data, or `None` if no data is available |
| `metadata` | `PredictionMetadata` | Metadata about how the prediction was generated |

### PredictionData

| Field | Type | Description |
|-------|------|-------------|
| `input_tokens` | `TokenDistribution` | Input token distribution (p10/p25/median/p75/p90) |
| `output_tokens` | `TokenDistribution` | Output token distribution (p10/p25/median/p75/p90) |
| `cost_usd_micros` | `dict[str, int]` | `{"median": }` -- median cost in microdollars |
| `duration_ms` | `dict[str, int]` | `{"median": }` -- median duration in milliseconds |
| `correction_factors` | `CorrectionFactors` | Actual-to-estimated token ratios |
| `quality` | `QualityPrediction` | Gate pass rate and success rate |

### TokenDistribution

| Field | Type | Description |
|-------|------|-------------|
| `p10` | `int` | 10th percentile |
| `p25` | `int` | 25th percentile |
| `median` | `int` | 50th percentile (median) |
| `p75` | `int` | 75th percentile |
| `p90` | `int` | 90th percentile |

### CorrectionFactors

| Field | Type | Description |
|-------|------|-------------|
| `input` | `float` | Ratio of actual to estimated input tokens (>1.0 = estimates too low) |
| `output` | `float` | Ratio of actual to estimated output tokens |

### QualityPrediction

| Field | Type | Description |
|-------|------|-------------|
| `gate_pass_rate` | `float` | Fraction of tasks where all quality gates passed |
| `success_rate` | `float` | Fraction of tasks with `outcome: success` |

### PredictionMetadata

| Field | Type | Description |
|-------|------|-------------|
| `sample_size` | `int` | Number of events used to compute the prediction |
| `fallback_level` | `int` | `0` = exact match, `1+` = dimensions dropped, `-1` = no data |
| `confidence` | `str` | `"high"`, `"medium"`, `"low"`, or `"none"` |
| `last_updated` | `datetime \| None` | When the prediction was last computed |
| `dimensions_matched` | `dict[str, str \| None] \| None` | Which dimensions matched (`None` values = fallback) |
| `fallback_note` | `str \| None` | Explanation when fallback was used |
| `cache_hit` | `bool` | Whether the server served from its cache |

## Batch Types

### BatchEventRequest

| Field | Type | Constraints | Description |
|-------|------|-------------|-------------|
| `events` | `list[TaskCompletionEvent]` | 1--100 items | Events to submit |

### BatchEventResponse

| Field | Type | Description |
|-------|------|-------------|
| `accepted` | `int` | Count of accepted events |
| `rejected` | `int` | Count of rejected events |
| `results` | `list[BatchEventResult]` | Per-event results |

### BatchEventResult

| Field | Type | Description |
|-------|------|-------------|
| `event_id` | `UUID` | The event's unique identifier |
| `status` | `str` | `"accepted"` or `"rejected"` |
| `error` | `str \| None` | Error message if rejected |

## Enumerations

### TaskType

| Member | Value | Description |
|--------|-------|-------------|
| `PLANNING` | `"planning"` | Architecture design, task breakdown |
| `IMPLEMENTATION` | `"implementation"` | Writing new code |
| `CODE_REVIEW` | `"code_review"` | Reviewing existing code |
| `TESTING` | `"testing"` | Writing or running tests |
| `DEBUGGING` | `"debugging"` | Investigating and fixing bugs |
| `REFACTORING` | `"refactoring"` | Restructuring existing code |
| `DOCUMENTATION` | `"documentation"` | Writing docs, comments, READMEs |
| `CONFIGURATION` | `"configuration"` | Config files, CI/CD, infrastructure |
| `SECURITY_AUDIT` | `"security_audit"` | Security review, vulnerability analysis |
| `UNKNOWN` | `"unknown"` | Unclassified task type (fallback) |

### Complexity

| Member | Value | Description |
|--------|-------|-------------|
| `LOW` | `"low"` | Simple fixes, typos, config changes |
| `MEDIUM` | `"medium"` | Standard features, moderate logic |
| `HIGH` | `"high"` | Complex features, multi-file changes |
| `CRITICAL` | `"critical"` | Major refactoring, architectural changes |

### Harness

| Member | Value | Description |
|--------|-------|-------------|
| `CLAUDE_CODE` | `"claude_code"` | Anthropic Claude Code CLI |
| `OPENCODE` | `"opencode"` | OpenCode CLI |
| `KILO_CODE` | `"kilo_code"` | Kilo Code VS Code extension |
| `AIDER` | `"aider"` | Aider AI pair programming |
| `API_DIRECT` | `"api_direct"` | Direct API calls (no harness) |
| `OLLAMA_LOCAL` | `"ollama_local"` | Ollama local inference |
| `CUSTOM` | `"custom"` | Custom or unrecognized harness |
| `UNKNOWN` | `"unknown"` | Harness not reported |

### Provider

| Member | Value | Description |
|--------|-------|-------------|
| `ANTHROPIC` | `"anthropic"` | Anthropic (Claude models) |
| `OPENAI` | `"openai"` | OpenAI (GPT models) |
| `OPENROUTER` | `"openrouter"` | OpenRouter (multi-provider routing) |
| `OLLAMA` | `"ollama"` | Ollama (local/self-hosted) |
| `GOOGLE` | `"google"` | Google (Gemini models) |
| `MISTRAL` | `"mistral"` | Mistral AI |
| `CUSTOM` | `"custom"` | Custom or unrecognized provider |
| `UNKNOWN` | `"unknown"` | Provider not reported |

### Outcome

| Member | Value | Description |
|--------|-------|-------------|
| `SUCCESS` | `"success"` | Task completed, all quality gates passed |
| `FAILURE` | `"failure"` | Task failed after all retries |
| `PARTIAL` | `"partial"` | Task partially completed |
| `TIMEOUT` | `"timeout"` | Task exceeded time or token budget |

### QualityGate

| Member | Value | Description |
|--------|-------|-------------|
| `BUILD` | `"build"` | Code compiles/builds |
| `LINT` | `"lint"` | Linter passes |
| `TEST` | `"test"` | Tests pass |
| `COVERAGE` | `"coverage"` | Coverage meets threshold |
| `TYPECHECK` | `"typecheck"` | Type checker passes |
| `SECURITY` | `"security"` | Security scan passes |

### RepoSizeCategory

| Member | Value | Approximate LOC | Description |
|--------|-------|----------------|-------------|
| `TINY` | `"tiny"` | < 1,000 | Scripts, single-file projects |
| `SMALL` | `"small"` | 1,000--10,000 | Small libraries, tools |
| `MEDIUM` | `"medium"` | 10,000--100,000 | Standard applications |
| `LARGE` | `"large"` | 100,000--1,000,000 | Large applications, monorepos |
| `HUGE` | `"huge"` | > 1,000,000 | Enterprise codebases |
"""  # noqa: E501

TABLES = parse_tables(TABLES_MD)


@pytest.fixture(scope="module")
def reference() -> str:
    if not REFERENCE_PATH.exists():
        pytest.skip(
            f"the SDK reference is not at {REFERENCE_PATH}; the copies in this file are "
            "tested, but cannot be compared with it here"
        )
    return REFERENCE_PATH.read_text(encoding="utf-8")


def test_tables_equal_the_reference(reference: str) -> None:
    parsed = parse_tables(reference)
    assert list(parsed) == list(TABLES)
    for key, table in TABLES.items():
        assert parsed[key] == table, key


def test_parser_reads_escaped_pipes_and_nearest_headings() -> None:
    markdown = "\n".join(
        [
            "## Thing",
            "### Fields",
            "| Field | Type |",
            "|-------|------|",
            "| `a` | `str \\| None` |",
            "#### Inner",
            "| Z |",
            "|:-:|",
            "| z |",
        ]
    )
    assert parse_tables(markdown) == {
        ("Thing", "Fields"): Table(("Field", "Type"), [("`a`", "`str | None`")]),
        ("Thing", "Inner"): Table(("Z",), [("z",)]),
    }


_USED: set[tuple[str, str]] = set()


def rows(section: str, heading: str) -> list[Any]:
    """The rows of one table as pytest params, each named by its first cell."""
    _USED.add((section, heading))
    return [pytest.param(*row, id=code(row[0])) for row in TABLES[section, heading].rows]


def code(cell: str) -> str:
    """A cell without its backticks."""
    return cell.strip().strip("`")


def literal(cell: str) -> Any:
    """A cell holding a Python literal (`"1.0"`, `300.0`, `True`)."""
    return ast.literal_eval(code(cell))


# The names a type cell may use.
TYPE_NAMES: dict[str, Any] = {
    name: getattr(mt, name) for name in mt.__all__ if isinstance(getattr(mt, name), type)
}
TYPE_NAMES.update(
    {"str": str, "int": int, "float": float, "bool": bool, "list": list, "dict": dict},
    UUID=uuid.UUID,
    datetime=datetime,
)
TYPE_NAMES["None"] = None


def type_of(cell: str) -> Any:
    """The Python type a reference type cell names (`str | None` -> `str | None`)."""
    tp = eval(code(cell), {"__builtins__": {}}, TYPE_NAMES)
    return type(None) if tp is None else tp  # as typing.get_type_hints() gives it


def render(tp: Any) -> str:
    """A type as the reference writes it: `list[QualityGate]`, `PredictionData | None`."""
    if tp is type(None):
        return "None"
    if tp is pydantic.AwareDatetime:  # a datetime that must carry its zone
        return "datetime"
    if isinstance(tp, type) and issubclass(tp, _enums._OpenStrEnum):
        return "str"  # an answer's open enum (x-open-enum): a str that keeps unknown values
    origin = typing.get_origin(tp)
    if origin is typing.Annotated:
        return render(typing.get_args(tp)[0])
    if origin in (typing.Union, types.UnionType):
        return " | ".join(render(a) for a in typing.get_args(tp))
    if origin is not None:
        return f"{origin.__name__}[{', '.join(render(a) for a in typing.get_args(tp))}]"
    return str(tp.__name__)


def classes_in(tp: Any) -> Iterator[type]:
    origin = typing.get_origin(tp)
    if origin is None:
        if isinstance(tp, type):
            yield tp
        return
    for arg in typing.get_args(tp):
        yield from classes_in(arg)


def test_every_table_has_a_row_test() -> None:
    # `rows()` records each table a parametrized test draws its cases from (at import time).
    assert set(TABLES) - _USED == set()


# --- fixtures and helpers ------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ENV_VARS:
        monkeypatch.delenv(name, raising=False)


PREDICTION_JSON: dict[str, Any] = {
    "prediction": {
        "input_tokens": {"p10": 10, "p25": 20, "median": 30, "p75": 40, "p90": 50},
        "output_tokens": {"p10": 1, "p25": 2, "median": 3, "p75": 4, "p90": 5},
        "cost_usd_micros": {"median": 48000},
        "duration_ms": {"median": 45000},
        "correction_factors": {"input": 1.07, "output": 0.86},
        "quality": {"gate_pass_rate": 0.9, "success_rate": 0.8},
    },
    "metadata": {
        "sample_size": 120,
        "fallback_level": 0,
        "confidence": "high",
        "last_updated": "2025-06-01T12:00:00Z",
        "dimensions_matched": {
            "task_type": "testing",
            "model": "m",
            "provider": "openai",
            "complexity": "low",
        },
        "fallback_note": None,
        "cache_hit": False,
    },
}
QUERY = PredictionQuery(
    task_type=TaskType.TESTING, model="m", provider=Provider.OPENAI, complexity=Complexity.LOW
)


class Seen(NamedTuple):
    path: str
    headers: dict[str, str]
    body: bytes


class Capture:
    """A server on 127.0.0.1 that records every request and answers as the real one does: 202
    accepting every event, 200 with one prediction per query. `status` makes every answer that
    status instead; `hold` makes each request wait (until `release` is set) before its answer."""

    def __init__(self) -> None:
        self.seen: list[Seen] = []
        self.status: int | None = None
        self.hold = False
        self.release = threading.Event()
        self._lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                headers = {k.lower(): v for k, v in self.headers.items()}
                with outer._lock:
                    outer.seen.append(Seen(self.path, headers, body))
                if outer.hold:
                    outer.release.wait(30)
                status, payload = outer.answer(self.path, body)
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except OSError:  # the client gave up (a timeout test)
                    self.close_connection = True

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()
        self.url = f"http://127.0.0.1:{self._httpd.server_port}"

    def answer(self, path: str, body: bytes) -> tuple[int, bytes]:
        if self.status is not None:
            return self.status, b'{"detail": "scripted"}'
        request = json.loads(body)
        if path == "/v1/events/batch":
            results = [{"event_id": e["event_id"], "status": "accepted"} for e in request["events"]]
            answer = {"accepted": len(results), "rejected": 0, "results": results}
            return 202, json.dumps(answer).encode()
        return 200, json.dumps({"results": [PREDICTION_JSON for _ in request["queries"]]}).encode()

    def event_batches(self) -> list[list[dict[str, Any]]]:
        with self._lock:
            seen = list(self.seen)
        return [json.loads(s.body)["events"] for s in seen if s.path == "/v1/events/batch"]

    def event_ids(self) -> list[str]:
        return [e["event_id"] for batch in self.event_batches() for e in batch]

    def close(self) -> None:
        self.release.set()
        self._httpd.shutdown()
        self._httpd.server_close()


@pytest.fixture
def capture() -> Iterator[Capture]:
    srv = Capture()
    yield srv
    srv.close()


def make_config(url: str, **overrides: Any) -> TelemetryConfig:
    settings: dict[str, Any] = {
        "server_url": url,
        "api_key": SECRET_KEY,
        "instance_id": INSTANCE_ID,
        "submit_interval_seconds": 3600.0,
        "request_timeout_seconds": 5.0,
    }
    settings.update(overrides)
    return TelemetryConfig(**settings)


def make_event() -> TaskCompletionEvent:
    return EventBuilder(INSTANCE_ID).model("claude-sonnet-4-5").duration_ms(1000).build()


def wait_until(predicate: Callable[[], bool], timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.005)
    return predicate()


class FakeClock:
    """`time.monotonic` for the prediction cache, moved by hand instead of by sleeping."""

    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    fake = FakeClock()
    # Only the cache's view of time: threads and event loops keep the real clock.
    monkeypatch.setattr(cache_module, "time", types.SimpleNamespace(monotonic=fake.monotonic))
    return fake


def _split_params(text: str) -> list[str]:
    """`a: int, b: dict[str, int] = 1` -> ["a: int", "b: dict[str, int] = 1"]."""
    parts, depth, current = [], 0, ""
    for char in text:
        depth += char in "[("
        depth -= char in "])"
        if char == "," and depth == 0:
            parts.append(current.strip())
            current = ""
        else:
            current += char
    if current.strip():
        parts.append(current.strip())
    return parts


def _accepts(actual: Any, documented: Any) -> bool:
    """The SDK's parameter type takes everything the documented one does: equal, or a list
    documented where the SDK takes any sequence or iterable of the same items."""
    if actual == documented:
        return True
    wider = {list, Sequence, Iterable}
    return (
        typing.get_origin(documented) is list
        and typing.get_origin(actual) in wider
        and typing.get_args(actual) == typing.get_args(documented)
    )


def assert_signature(owner: type, spec: str) -> None:
    """`owner` has the member `spec` documents: `await name(a: T, *, b=1) -> R`, `Owner(a: T)`
    (the constructor) or `name: T` (a property). Parameters the reference does not list may
    follow, but only with defaults (the documented call must work)."""
    is_async = spec.startswith("await ")
    spec = spec.removeprefix("await ").removeprefix(".")
    prop = re.fullmatch(r"(\w+): (.+)", spec)
    if prop:
        attr = inspect.getattr_static(owner, prop.group(1))
        assert isinstance(attr, property), f"{owner.__name__}.{prop.group(1)} is not a property"
        assert typing.get_type_hints(attr.fget)["return"] == type_of(prop.group(2))
        return
    match = re.fullmatch(r"(\w+)\((.*)\)(?: -> (.+))?", spec)
    assert match, spec
    name, params, returns = match.groups()
    func = owner.__init__ if name == owner.__name__ else getattr(owner, name)
    assert inspect.iscoroutinefunction(func) is is_async, f"{name}: async is {is_async}"
    hints = typing.get_type_hints(func)
    actual = [p for p in inspect.signature(func).parameters.values() if p.name != "self"]
    keyword_only = False
    documented = _split_params(params)
    position = 0
    for text in documented:
        if text == "*":
            keyword_only = True
            continue
        param = re.fullmatch(r"(\w+)(?:: ([^=]+?))?(?: ?= ?(.+))?", text)
        assert param, text
        pname, annotation, default = param.groups()
        p = actual[position]
        position += 1
        assert p.name == pname, f"{name}: parameter {position} is {p.name}, not {pname}"
        expected_kind = p.KEYWORD_ONLY if keyword_only else p.POSITIONAL_OR_KEYWORD
        assert p.kind is expected_kind, f"{name}({pname}) is {p.kind.description}"
        if annotation:
            assert _accepts(hints[pname], type_of(annotation)), (name, pname, hints[pname])
        if default is not None:
            assert p.default == literal(default), (name, pname, p.default)
            assert type(p.default) is type(literal(default))
    for extra in actual[position:]:
        assert extra.default is not extra.empty, f"{name}: undocumented required {extra.name}"
    if returns is not None:
        assert hints["return"] == type_of(returns), (name, hints["return"])


def test_assert_signature_catches_differences() -> None:
    class Thing:
        def __init__(self, a: int, b: str = "x") -> None: ...
        def f(self, a: int, *, b: list[int] | None = None) -> str: ...
        async def g(self, items: Sequence[int]) -> None: ...
        @property
        def size(self) -> int: ...

    assert_signature(Thing, "Thing(a: int)")
    assert_signature(Thing, "f(a: int, *, b=None) -> str")
    assert_signature(Thing, "await g(items: list[int]) -> None")
    assert_signature(Thing, "size: int")
    for wrong in (
        "Thing(a: str)",
        "f(a: int, b=None) -> str",
        "f(*, a: int) -> str",
        "f(a: int) -> int",
        "g(items: list[int]) -> None",
        "await g(items: list[str]) -> None",
        "size: str",
        "f(a: int, *, b=1) -> str",
    ):
        with pytest.raises(AssertionError):
            assert_signature(Thing, wrong)


# --- TelemetryConfig: fields --------------------------------------------------------------

CONFIG_FIELDS = "TelemetryConfig", "Fields"


@pytest.mark.parametrize(("field", "type_", "default", "description"), rows(*CONFIG_FIELDS))
def test_config_field_type_and_default(
    field: str, type_: str, default: str, description: str
) -> None:
    name = code(field)
    declared = {f.name: f for f in dataclasses.fields(TelemetryConfig)}
    assert name in declared
    assert typing.get_type_hints(TelemetryConfig)[name] is type_of(type_)
    expected = literal(default)
    if name == "user_agent" and mt.__version__ != "0.1.0":
        # A dev build stamps its version (0.1.0.devYYYYMMDDHHMMSS), and the agent with it.
        assert re.fullmatch(r"0\.1\.0\.dev\d{14}", mt.__version__)
        expected = f"mosaicstack-telemetry-python/{mt.__version__}"
    assert declared[name].default == expected
    value = getattr(TelemetryConfig(), name)
    assert value == expected
    assert type(value) is type(expected)


def test_config_is_a_dataclass_with_the_reference_fields_first_in_order() -> None:
    # So positional construction in the reference's order keeps working.
    assert dataclasses.is_dataclass(TelemetryConfig)
    names = [code(row[0]) for row in TABLES[CONFIG_FIELDS].rows]
    assert [f.name for f in dataclasses.fields(TelemetryConfig)][: len(names)] == names
    positional = TelemetryConfig("http://127.0.0.1:1", SECRET_KEY, INSTANCE_ID, False)
    assert (positional.server_url, positional.api_key, positional.enabled) == (
        "http://127.0.0.1:1",
        SECRET_KEY,
        False,
    )


# What each field's Description promises, one check per row.


def _server_url(capture: Capture, caplog: pytest.LogCaptureFixture) -> None:
    for given in (capture.url + "/", capture.url + "///"):
        assert TelemetryConfig(server_url=given).server_url == capture.url
    client = TelemetryClient(make_config(capture.url + "/"))
    client.track(make_event())
    client.stop()
    assert [s.path for s in capture.seen] == ["/v1/events/batch"]


def _api_key(capture: Capture, caplog: pytest.LogCaptureFixture) -> None:
    assert make_config(capture.url, api_key=SECRET_KEY.upper()).validate() == []
    client = TelemetryClient(make_config(capture.url))
    client.track(make_event())
    client.stop()
    assert capture.seen[0].headers["authorization"] == f"Bearer {SECRET_KEY}"


def _instance_id(capture: Capture, caplog: pytest.LogCaptureFixture) -> None:
    assert make_config(capture.url, instance_id=str(uuid.uuid4())).validate() == []
    assert len(make_config(capture.url, instance_id="installation-7").validate()) == 1


def _enabled(capture: Capture, caplog: pytest.LogCaptureFixture) -> None:
    client = TelemetryClient(make_config(capture.url, enabled=False))
    before = set(threading.enumerate())
    client.start()
    client.track(make_event())
    assert client.queue_size == 0
    assert not client.is_running
    assert set(threading.enumerate()) - before == set()

    async def in_a_loop() -> set[asyncio.Task[Any]]:
        await client.start_async()
        tasks = asyncio.all_tasks() - {asyncio.current_task()}
        await client.stop_async()
        return tasks

    assert asyncio.run(in_a_loop()) == set()
    client.stop()
    assert capture.seen == []


def _submit_interval_seconds(capture: Capture, caplog: pytest.LogCaptureFixture) -> None:
    # An hour: nothing is sent before stop() (one event does not fill a batch).
    slow = TelemetryClient(make_config(capture.url, submit_interval_seconds=3600.0))
    slow.start()
    slow.track(make_event())
    time.sleep(0.2)
    assert capture.seen == []
    slow.stop()
    assert len(capture.event_ids()) == 1
    # 50 ms: the background flush sends it without stop().
    fast = TelemetryClient(make_config(capture.url, submit_interval_seconds=0.05))
    fast.start()
    try:
        fast.track(make_event())
        assert wait_until(lambda: len(capture.event_ids()) == 2)
        assert fast.is_running
    finally:
        fast.stop()


def _max_queue_size(capture: Capture, caplog: pytest.LogCaptureFixture) -> None:
    client = TelemetryClient(make_config(capture.url, max_queue_size=3))
    events = [make_event() for _ in range(5)]
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        for event in events:
            client.track(event)
    assert client.queue_size == 3
    assert any("evict" in r.getMessage() for r in caplog.records if r.levelno == logging.WARNING)
    client.stop()
    assert capture.event_ids() == [str(e.event_id) for e in events[2:]]


def _batch_size(capture: Capture, caplog: pytest.LogCaptureFixture) -> None:
    client = TelemetryClient(make_config(capture.url, batch_size=2))
    for _ in range(5):
        client.track(make_event())
    client.stop()
    assert [len(b) for b in capture.event_batches()] == [2, 2, 1]
    assert make_config(capture.url, batch_size=100).validate() == []
    assert len(make_config(capture.url, batch_size=101).validate()) == 1


def _request_timeout_seconds(capture: Capture, caplog: pytest.LogCaptureFixture) -> None:
    capture.hold = True  # the server would answer after 30 s
    config = make_config(capture.url, request_timeout_seconds=0.2, max_retries=0, batch_size=1)
    client = TelemetryClient(config)
    client.start()
    try:
        started = time.monotonic()
        client.track(make_event())  # a full batch: the sender wakes at once
        assert wait_until(lambda: client.stats().requeued == 1)
        assert time.monotonic() - started < 10.0  # generous: the request ends at ~0.2 s
        assert "timeout" in (client.stats().last_error or "").lower()
    finally:
        capture.hold = False
        capture.release.set()
        client.stop()
    assert client.queue_size == 0  # the event went back to the queue and stop() sent it


def _prediction_cache_ttl_seconds(capture: Capture, caplog: pytest.LogCaptureFixture) -> None:
    clock = FakeClock()
    patch = pytest.MonkeyPatch()
    patch.setattr(cache_module, "time", types.SimpleNamespace(monotonic=clock.monotonic))
    try:
        client = TelemetryClient(make_config(capture.url, prediction_cache_ttl_seconds=5.0))
        client.refresh_predictions_sync([QUERY])
        assert client.get_prediction(QUERY) is not None
        clock.now += 4.9
        assert client.get_prediction(QUERY) is not None
        clock.now += 0.2
        assert client.get_prediction(QUERY) is None
        client.stop()
    finally:
        patch.undo()


def _dry_run(capture: Capture, caplog: pytest.LogCaptureFixture) -> None:
    client = TelemetryClient(make_config(capture.url, dry_run=True))
    with caplog.at_level(logging.INFO, logger=LOGGER):
        client.track(make_event())
        client.stop()
    expected = f"[DRY RUN] Would submit batch of 1 events to {capture.url}/v1/events/batch"
    assert expected in [r.getMessage() for r in caplog.records if r.levelno == logging.INFO]
    assert capture.seen == []


def _max_retries(capture: Capture, caplog: pytest.LogCaptureFixture) -> None:
    capture.status = 503
    client = TelemetryClient(make_config(capture.url, max_retries=2, batch_size=1))
    with _scaled_time(0.001):
        client.start()
        try:
            client.track(make_event())
            # One attempt and two retries, then the batch goes back to wait for the next cycle.
            assert wait_until(lambda: client.stats().requeued == 1)
            assert len(capture.seen) == 3
            assert client.stats().retried == 2
        finally:
            capture.status = None
            client.stop()
    assert len(capture.seen) == 4  # stop() sent it, once the server recovered
    assert client.stats().sent == 1


def _user_agent(capture: Capture, caplog: pytest.LogCaptureFixture) -> None:
    default = TelemetryClient(make_config(capture.url))
    default.track(make_event())
    default.stop()
    custom = TelemetryClient(make_config(capture.url, user_agent="my-harness/2.0"))
    custom.track(make_event())
    custom.refresh_predictions_sync([QUERY])
    custom.stop()
    agents = [s.headers["user-agent"] for s in capture.seen]
    assert agents == [TelemetryConfig().user_agent, "my-harness/2.0", "my-harness/2.0"]


CONFIG_BEHAVIOUR: dict[str, Callable[[Capture, pytest.LogCaptureFixture], None]] = {
    "server_url": _server_url,
    "api_key": _api_key,
    "instance_id": _instance_id,
    "enabled": _enabled,
    "submit_interval_seconds": _submit_interval_seconds,
    "max_queue_size": _max_queue_size,
    "batch_size": _batch_size,
    "request_timeout_seconds": _request_timeout_seconds,
    "prediction_cache_ttl_seconds": _prediction_cache_ttl_seconds,
    "dry_run": _dry_run,
    "max_retries": _max_retries,
    "user_agent": _user_agent,
}


@pytest.mark.parametrize(("field", "type_", "default", "description"), rows(*CONFIG_FIELDS))
def test_config_field_does_what_its_description_says(
    field: str,
    type_: str,
    default: str,
    description: str,
    capture: Capture,
    caplog: pytest.LogCaptureFixture,
) -> None:
    CONFIG_BEHAVIOUR[code(field)](capture, caplog)


# --- TelemetryConfig: environment variables -----------------------------------------------

# A value for the environment and a different one for the constructor, per filled field.
ENV_SAMPLES = {
    "server_url": ("http://127.0.0.1:8123", "http://127.0.0.1:9"),
    "api_key": (SECRET_KEY, "b" * 64),
    "instance_id": (INSTANCE_ID, "12345678-1234-1234-1234-123456789abc"),
}


@pytest.mark.parametrize(
    ("var", "field", "notes"), rows("TelemetryConfig", "Environment Variables")
)
def test_environment_variable(
    var: str, field: str, notes: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    var, name = code(var), code(field)
    if name == "enabled":
        assert "Always overrides the constructor value" in notes
        for truthy in ("1", "true", "TRUE", "True", "yes", "YES", "yEs"):
            monkeypatch.setenv(var, truthy)
            assert TelemetryConfig(enabled=False).enabled is True, truthy
            assert TelemetryConfig().enabled is True, truthy
        for falsy in ("0", "false", "FALSE", "no", "off", "2", "enabled"):
            monkeypatch.setenv(var, falsy)
            assert TelemetryConfig(enabled=True).enabled is False, falsy
            assert TelemetryConfig().enabled is False, falsy
        for unset in ("", None):  # an empty string counts as unset (decisions.md)
            if unset is None:
                monkeypatch.delenv(var)
            else:
                monkeypatch.setenv(var, unset)
            assert TelemetryConfig(enabled=False).enabled is False
            assert TelemetryConfig(enabled=True).enabled is True
            assert TelemetryConfig().enabled is True
        return
    assert notes == f"Only used if `{name}` is not set in the constructor."
    from_env, from_constructor = ENV_SAMPLES[name]
    monkeypatch.setenv(var, from_env)
    config = TelemetryConfig()
    assert getattr(config, name) == from_env
    # The variable fills its own field and no other.
    for other in set(ENV_SAMPLES) - {name}:
        assert getattr(config, other) == ""
    assert getattr(TelemetryConfig(**{name: from_constructor}), name) == from_constructor
    # Read once, at construction.
    monkeypatch.setenv(var, from_constructor)
    assert getattr(config, name) == from_env
    monkeypatch.setenv(var, "")
    assert getattr(TelemetryConfig(), name) == ""


def test_environment_server_url_is_stripped_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOSAIC_TELEMETRY_SERVER_URL", "http://127.0.0.1:8123/")
    assert TelemetryConfig().server_url == "http://127.0.0.1:8123"


# --- TelemetryConfig.validate() -----------------------------------------------------------

VALIDATE_CHECKS = [
    "`server_url` is non-empty and starts with `http://` or `https://`",
    "`api_key` is a 64-character hex string",
    "`instance_id` is a valid UUID string",
    "`submit_interval_seconds` is positive",
    "`max_queue_size` is positive",
    "`batch_size` is between 1 and 100",
    "`request_timeout_seconds` is positive",
]
# Per check: the field it reads, values it must reject, values it must accept.
VALIDATE_CASES: dict[str, tuple[str, list[Any], list[Any]]] = {
    VALIDATE_CHECKS[0]: (
        "server_url",
        ["", "ftp://127.0.0.1", "127.0.0.1:8000", "tel-api.mosaicstack.dev", "http:/x"],
        ["http://127.0.0.1:8000", "https://tel-api.mosaicstack.dev"],
    ),
    VALIDATE_CHECKS[1]: (
        "api_key",
        ["", SECRET_KEY[:-1], SECRET_KEY + "a", SECRET_KEY[:-1] + "g", " " + SECRET_KEY[1:]],
        [SECRET_KEY, SECRET_KEY.upper(), "a" * 64],
    ),
    VALIDATE_CHECKS[2]: (
        "instance_id",
        ["", "not-a-uuid", INSTANCE_ID[:-1], INSTANCE_ID + "0"],
        [INSTANCE_ID, INSTANCE_ID.upper(), str(uuid.uuid4())],
    ),
    VALIDATE_CHECKS[3]: ("submit_interval_seconds", [0, 0.0, -1.0], [0.001, 300.0]),
    VALIDATE_CHECKS[4]: ("max_queue_size", [0, -1], [1, 1000]),
    VALIDATE_CHECKS[5]: ("batch_size", [0, 101, -1], [1, 50, 100]),
    VALIDATE_CHECKS[6]: ("request_timeout_seconds", [0, 0.0, -0.5], [0.01, 10.0]),
}


def test_validate_checks_equal_the_reference(reference: str) -> None:
    assert parse_bullets(reference, "validate() -> list[str]") == VALIDATE_CHECKS


def test_validate_signature_and_valid_config() -> None:
    assert_signature(TelemetryConfig, "validate() -> list[str]")
    assert make_config("http://127.0.0.1:8000").validate() == []


@pytest.mark.parametrize("check", VALIDATE_CHECKS)
def test_validate_check_gives_one_clear_message(check: str) -> None:
    field, bad_values, good_values = VALIDATE_CASES[check]
    assert f"`{field}`" in check
    for bad in bad_values:
        messages = make_config("http://127.0.0.1:8000", **{field: bad}).validate()
        assert len(messages) == 1, (bad, messages)
        assert field in messages[0], messages
        assert SECRET_KEY not in messages[0]
        assert SECRET_KEY.upper() not in messages[0]
        if field == "api_key" and bad:
            assert bad.strip() not in messages[0]  # no part of a key is ever shown
            assert bad[:16] not in messages[0]
    for good in good_values:
        assert make_config("http://127.0.0.1:8000", **{field: good}).validate() == [], good


def test_validate_reports_every_failed_check_once() -> None:
    config = make_config("http://127.0.0.1:8000")
    for field, bad_values, _ in VALIDATE_CASES.values():
        setattr(config, field, bad_values[1])
    messages = config.validate()
    assert len(messages) == len(VALIDATE_CHECKS)
    for field, _, _ in VALIDATE_CASES.values():
        assert len([m for m in messages if field in m]) == 1, (field, messages)


def test_client_with_invalid_config_logs_each_message_and_is_still_created(
    caplog: pytest.LogCaptureFixture,
) -> None:
    config = TelemetryConfig(server_url="nope", api_key="k" * 10, instance_id="x")
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        client = TelemetryClient(config)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == len(config.validate()) == 3
    for message in config.validate():
        assert any(message in w for w in warnings)
    assert isinstance(client, TelemetryClient)
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        TelemetryClient(TelemetryConfig(server_url="nope", enabled=False))
    assert caplog.records == []  # disabled: not validated, nothing logged


# --- EventBuilder --------------------------------------------------------------------------

BUILDER_CONSTRUCTOR = "EventBuilder(instance_id: str | UUID)"
BUILDER_METHODS = [
    ".tokens(*, estimated_in, estimated_out, actual_in, actual_out) -> EventBuilder",
    ".cost(*, estimated, actual) -> EventBuilder",
    ".quality(*, passed, gates_run=None, gates_failed=None) -> EventBuilder",
    ".context(*, compactions=0, rotations=0, utilization=0.0) -> EventBuilder",
    ".build() -> TaskCompletionEvent",
]
REQUIRED = inspect.Parameter.empty
# The keyword-only setters: each parameter's default (from the prose: tokens and cost default
# to 0) and the field it sets, and sample values that differ from the defaults.
KEYWORD_SETTERS: dict[str, dict[str, tuple[Any, str, Any]]] = {
    "tokens": {
        "estimated_in": (0, "estimated_input_tokens", 105000),
        "estimated_out": (0, "estimated_output_tokens", 45000),
        "actual_in": (0, "actual_input_tokens", 112340),
        "actual_out": (0, "actual_output_tokens", 38760),
    },
    "cost": {
        "estimated": (0, "estimated_cost_usd_micros", 630000),
        "actual": (0, "actual_cost_usd_micros", 919200),
    },
    "quality": {
        "passed": (REQUIRED, "quality_gate_passed", True),
        "gates_run": (None, "quality_gates_run", [QualityGate.BUILD, QualityGate.LINT]),
        "gates_failed": (None, "quality_gates_failed", [QualityGate.LINT]),
    },
    "context": {
        "compactions": (0, "context_compactions", 2),
        "rotations": (0, "context_rotations", 1),
        "utilization": (0.0, "context_utilization_final", 0.72),
    },
}
# What the event holds when a keyword-only setter is never called.
UNCALLED = {"quality_gate_passed": False, "quality_gates_run": [], "quality_gates_failed": []}
# Values for each one-value setter: the union types get one value per member.
SETTER_VALUES: dict[str, list[Any]] = {
    "event_id": [uuid.UUID("3f1b1a4e-5c6d-4e7f-8a9b-0c1d2e3f4a5b"), str(uuid.uuid4())],
    "timestamp": [
        datetime(2025, 6, 1, 12, 0, tzinfo=timezone.utc),
        datetime(2025, 6, 1, 14, 0, tzinfo=timezone(timedelta(hours=2))),
    ],
    "task_type": [TaskType.DEBUGGING],
    "complexity_level": [Complexity.CRITICAL],
    "harness_type": [Harness.AIDER],
    "model": ["claude-sonnet-4-5-20250929"],
    "provider": [Provider.ANTHROPIC],
    "duration_ms": [45000],
    "outcome_value": [Outcome.SUCCESS],
    "retry_count": [3],
    "language": ["python", None],
    "repo_size": [RepoSizeCategory.HUGE, None],
}


def test_builder_signatures_equal_the_reference(reference: str) -> None:
    assert parse_headings(reference, "EventBuilder", 4) == BUILDER_METHODS
    assert f"```python\n{BUILDER_CONSTRUCTOR}\n```" in reference


@pytest.mark.parametrize("spec", [BUILDER_CONSTRUCTOR, *BUILDER_METHODS])
def test_builder_signature(spec: str) -> None:
    assert_signature(EventBuilder, spec)


def test_builder_takes_a_string_or_a_uuid() -> None:
    for instance in (INSTANCE_ID, uuid.UUID(INSTANCE_ID)):
        assert EventBuilder(instance).build().instance_id == uuid.UUID(INSTANCE_ID)
        assert EventBuilder(instance_id=instance).build().instance_id == uuid.UUID(INSTANCE_ID)


@pytest.mark.parametrize(
    ("method", "param_type", "field", "default"), rows("EventBuilder", "Setter Methods")
)
def test_builder_setter(method: str, param_type: str, field: str, default: str) -> None:
    match = re.fullmatch(r"\.(\w+)\(value\)", code(method))
    assert match, method
    name, field = match.group(1), code(field)
    assert_signature(EventBuilder, f"{name}(value: {code(param_type)}) -> EventBuilder")
    # Default: the value the event has when the setter is never called.
    before = datetime.now(timezone.utc)
    first, second = EventBuilder(INSTANCE_ID).build(), EventBuilder(INSTANCE_ID).build()
    after = datetime.now(timezone.utc)
    value = getattr(first, field)
    if default == "Auto-generated UUIDv4":
        assert isinstance(value, uuid.UUID)
        assert value.version == 4
        assert value != getattr(second, field)
    elif default == "`datetime.now(UTC)`":
        assert value.utcoffset() == timedelta(0)
        assert before <= value <= after
    else:
        expected = eval(code(default), {"__builtins__": {}}, TYPE_NAMES)
        assert value == expected
        assert type(value) is type(expected)
    # Each documented value type: chaining returns the builder, the event holds the value.
    for sample in SETTER_VALUES[name]:
        builder = EventBuilder(INSTANCE_ID)
        assert getattr(builder, name)(sample) is builder
        built = getattr(builder.build(), field)
        assert built == (
            uuid.UUID(sample) if isinstance(sample, str) and name == "event_id" else sample
        )
        if isinstance(sample, datetime):
            assert built.utcoffset() == timedelta(0)


@pytest.mark.parametrize("name", list(KEYWORD_SETTERS))
def test_builder_keyword_only_setter(name: str) -> None:
    params = KEYWORD_SETTERS[name]
    signature = inspect.signature(getattr(EventBuilder, name))
    documented = [p for p in signature.parameters.values() if p.name != "self"]
    assert [p.name for p in documented] == list(params)
    for p in documented:
        assert p.kind is p.KEYWORD_ONLY, p
        assert p.default == params[p.name][0], p
    samples = [sample for _, _, sample in params.values()]
    with pytest.raises(TypeError):
        getattr(EventBuilder(INSTANCE_ID), name)(*samples)
    # With every value given: each sets its field.
    builder = EventBuilder(INSTANCE_ID)
    kwargs = {key: sample for key, (_, _, sample) in params.items()}
    assert getattr(builder, name)(**kwargs) is builder
    event = builder.build()
    for _, target, sample in params.values():
        assert getattr(event, target) == sample
    # With nothing given (but what is required): the defaults.
    required = {key: sample for key, (d, _, sample) in params.items() if d is REQUIRED}
    event = getattr(EventBuilder(INSTANCE_ID), name)(**required).build()
    for key, (default, target, _) in params.items():
        expected = required.get(key, [] if default is None else default)
        assert getattr(event, target) == expected
    # Never called: the same defaults (quality: passed=False, no gates).
    event = EventBuilder(INSTANCE_ID).build()
    for key, (default, target, _) in params.items():
        assert getattr(event, target) == UNCALLED.get(target, default), key


def test_builder_quality_requires_passed() -> None:
    with pytest.raises(TypeError):
        EventBuilder(INSTANCE_ID).quality()  # type: ignore[call-arg]


def test_builder_quality_copies_the_gate_lists() -> None:
    gates = [QualityGate.BUILD]
    builder = EventBuilder(INSTANCE_ID).quality(passed=True, gates_run=gates)
    gates.append(QualityGate.TEST)
    event = builder.build()
    assert event.quality_gates_run == [QualityGate.BUILD]
    event.quality_gates_run.append(QualityGate.LINT)
    assert builder.build().quality_gates_run == [QualityGate.BUILD]


def test_builder_build_is_reusable_with_a_fresh_id_and_time() -> None:
    builder = (
        EventBuilder(INSTANCE_ID)
        .task_type(TaskType.TESTING)
        .model("claude-haiku-4-5-20251001")
        .tokens(actual_in=10)
        .quality(passed=True, gates_run=[QualityGate.TEST])
    )
    first = builder.build()
    second = builder.build()
    assert first.event_id != second.event_id
    assert second.event_id.version == 4
    assert first.timestamp <= second.timestamp
    same = {"event_id", "timestamp"}
    assert first.model_dump(exclude=same) == second.model_dump(exclude=same)
    # Changing the builder afterwards leaves the events already built alone.
    builder.model("other")
    assert first.model == "claude-haiku-4-5-20251001"
    assert builder.build().model == "other"
    # An explicit id and time are kept for every build.
    stamp = datetime(2025, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    fixed = uuid.uuid4()
    builder.event_id(fixed).timestamp(stamp)
    assert [(e.event_id, e.timestamp) for e in (builder.build(), builder.build())] == [
        (fixed, stamp),
        (fixed, stamp),
    ]
    # None takes them back: fresh per build again, and the time is now, in UTC.
    builder.event_id(None).timestamp(None)  # type: ignore[arg-type]
    third, fourth = builder.build(), builder.build()
    assert len({fixed, third.event_id, fourth.event_id}) == 3
    assert third.timestamp.tzinfo is timezone.utc
    assert third.timestamp > stamp


def test_builder_build_raises_validation_error_for_invalid_values() -> None:
    with pytest.raises(pydantic.ValidationError) as raised:
        EventBuilder(INSTANCE_ID).duration_ms(-1).build()
    assert isinstance(raised.value, ValueError)
    with pytest.raises(ValueError, match="instance_id"):
        EventBuilder("not-a-uuid").build()


# --- TaskCompletionEvent -------------------------------------------------------------------

# Every required field at a valid value.
VALID_EVENT: dict[str, Any] = {
    "instance_id": INSTANCE_ID,
    "task_duration_ms": 45000,
    "task_type": "implementation",
    "complexity": "medium",
    "harness": "claude_code",
    "model": "claude-sonnet-4-5-20250929",
    "provider": "anthropic",
    "estimated_input_tokens": 105000,
    "estimated_output_tokens": 45000,
    "actual_input_tokens": 112340,
    "actual_output_tokens": 38760,
    "estimated_cost_usd_micros": 630000,
    "actual_cost_usd_micros": 919200,
    "quality_gate_passed": True,
    "context_compactions": 2,
    "context_rotations": 0,
    "context_utilization_final": 0.72,
    "outcome": "success",
    "retry_count": 0,
}
# Values for the fields without a constraint ("--").
FREE_VALUES: dict[str, list[Any]] = {
    "schema_version": ["1.0"],
    "timestamp": [datetime(2025, 6, 1, 12, 0, tzinfo=timezone.utc)],
    "quality_gate_passed": [True, False],
    "quality_gates_run": [[], [QualityGate.BUILD, QualityGate.TEST], ["lint"]],
    "quality_gates_failed": [[], [QualityGate.COVERAGE]],
}
EVENT_FIELDS = "TaskCompletionEvent", "Fields"


def constraint_values(name: str, type_: str, constraint: str) -> tuple[list[Any], list[Any]]:
    """Values a Constraints cell must accept (its bounds) and reject (one past each)."""
    if constraint == "--":
        return FREE_VALUES[name], []
    if constraint == "Valid UUID":
        return [uuid.uuid4(), str(uuid.uuid4())], ["not-a-uuid", "", "1234"]
    if constraint == "Enum value":
        enum = next(c for c in classes_in(type_of(type_)) if issubclass(c, Enum))
        return [*enum, *(m.value for m in enum)], ["not-a-member", "", enum_odd(enum)]
    match = re.fullmatch(r"Max (\d+) chars", constraint)
    if match:
        most = int(match.group(1))
        return ["x" * most, "py"], ["x" * (most + 1)]
    match = re.fullmatch(r"([\d.,]+)--([\d.,]+)( chars| items)?", constraint)
    assert match, f"a constraint these tests cannot read: {constraint!r}"
    low_text, high_text, unit = match.groups()
    if unit:
        low, high = int(low_text.replace(",", "")), int(high_text.replace(",", ""))
        return ["x" * low, "x" * high], ["x" * (low - 1), "x" * (high + 1)]
    if "." in low_text:
        flow, fhigh = float(low_text), float(high_text)
        inf = math.inf
        return [flow, fhigh], [math.nextafter(flow, -inf), math.nextafter(fhigh, inf)]
    low, high = int(low_text.replace(",", "")), int(high_text.replace(",", ""))
    return [low, high], [low - 1, high + 1]


def enum_odd(enum: Any) -> str:
    """A member's value in upper case: values are lower case, exactly."""
    return str(next(iter(enum)).value).upper()


def _same(stored: Any, given: Any) -> bool:
    if isinstance(stored, uuid.UUID):
        return stored == uuid.UUID(str(given))
    return bool(stored == given)


@pytest.mark.parametrize(
    ("field", "type_", "required", "constraints", "description"), rows(*EVENT_FIELDS)
)
def test_event_field(
    field: str, type_: str, required: str, constraints: str, description: str
) -> None:
    name = code(field)
    info = TaskCompletionEvent.model_fields[name]
    assert render(info.annotation) == code(type_)
    for cls in classes_in(info.annotation):
        if cls.__name__ in mt.__all__:
            assert getattr(mt, cls.__name__) is cls  # the public type, not a generated twin
    # Required: leaving it out fails, and names it; optional: leaving it out is fine.
    assert required in ("Yes", "No")
    without = {k: v for k, v in VALID_EVENT.items() if k != name}
    if required == "Yes":
        assert info.is_required()
        with pytest.raises(pydantic.ValidationError) as raised:
            TaskCompletionEvent(**without)
        assert [(e["loc"], e["type"]) for e in raised.value.errors()] == [((name,), "missing")]
    else:
        assert not info.is_required()
        TaskCompletionEvent(**without)
    accepted, rejected = constraint_values(name, type_, constraints)
    for value in accepted:
        event = TaskCompletionEvent(**{**VALID_EVENT, name: value})
        assert _same(getattr(event, name), value), (name, value)
    for value in rejected:
        with pytest.raises(pydantic.ValidationError) as raised:
            TaskCompletionEvent(**{**VALID_EVENT, name: value})
        assert {e["loc"][0] for e in raised.value.errors()} == {name}, (name, value)


def test_event_fields_are_the_table_in_order() -> None:
    names = [code(row[0]) for row in TABLES[EVENT_FIELDS].rows]
    assert list(TaskCompletionEvent.model_fields) == names
    required = {code(row[0]) for row in TABLES[EVENT_FIELDS].rows if row[2] == "Yes"}
    assert set(VALID_EVENT) == required
    with pytest.raises(pydantic.ValidationError):
        TaskCompletionEvent(**VALID_EVENT, unknown_field=1)  # nothing the server cannot read


def test_event_model_defaults() -> None:
    before = datetime.now(timezone.utc)
    first, second = TaskCompletionEvent(**VALID_EVENT), TaskCompletionEvent(**VALID_EVENT)
    after = datetime.now(timezone.utc)
    assert first.event_id.version == 4
    assert first.event_id != second.event_id
    assert first.timestamp.utcoffset() == timedelta(0)
    assert before <= first.timestamp <= after
    assert first.schema_version == "1.0"
    assert first.quality_gates_run == [] == first.quality_gates_failed
    assert first.quality_gates_run is not second.quality_gates_run
    assert first.language is None
    assert first.repo_size_category is None


@pytest.mark.skipif(not hasattr(time, "tzset"), reason="needs time.tzset (Unix)")
def test_naive_timestamp_is_local_time_converted_to_utc(monkeypatch: pytest.MonkeyPatch) -> None:
    # A POSIX zone string: UTC+5:30, with no daylight saving and no zone database needed.
    monkeypatch.setenv("TZ", "IST-5:30")
    time.tzset()
    try:
        naive = datetime(2025, 6, 1, 12, 0, 0)
        expected = datetime(2025, 6, 1, 6, 30, 0, tzinfo=timezone.utc)
        for event in (
            TaskCompletionEvent(**VALID_EVENT, timestamp=naive),
            EventBuilder(INSTANCE_ID).timestamp(naive).build(),
        ):
            assert event.timestamp == expected
            assert event.timestamp.utcoffset() == timedelta(0)
            assert event.model_dump(mode="json")["timestamp"].startswith("2025-06-01T06:30:00")
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()


def test_aware_timestamp_is_converted_to_utc() -> None:
    stamp = datetime(2025, 6, 1, 12, 0, tzinfo=timezone(timedelta(hours=-7)))
    event = TaskCompletionEvent(**VALID_EVENT, timestamp=stamp)
    assert event.timestamp == stamp
    assert event.timestamp.utcoffset() == timedelta(0)
    assert event.timestamp.hour == 19


# --- prediction and batch types ------------------------------------------------------------

MODEL_TABLES = [
    ("Prediction Types", "PredictionQuery"),
    ("Prediction Types", "PredictionResponse"),
    ("Prediction Types", "PredictionData"),
    ("Prediction Types", "TokenDistribution"),
    ("Prediction Types", "CorrectionFactors"),
    ("Prediction Types", "QualityPrediction"),
    ("Prediction Types", "PredictionMetadata"),
    ("Batch Types", "BatchEventRequest"),
    ("Batch Types", "BatchEventResponse"),
    ("Batch Types", "BatchEventResult"),
]


def _model_rows() -> list[Any]:
    params = []
    for key in MODEL_TABLES:
        _USED.add(key)
        table = TABLES[key]
        params.extend(
            pytest.param(
                key[1], dict(zip(table.header, row, strict=True)), id=f"{key[1]}.{code(row[0])}"
            )
            for row in table.rows
        )
    return params


@pytest.mark.parametrize(("model", "row"), _model_rows())
def test_model_field(model: str, row: dict[str, str]) -> None:
    cls = getattr(mt, model)
    info = cls.model_fields[code(row["Field"])]
    assert render(info.annotation) == code(row["Type"])
    for inner in classes_in(info.annotation):
        if inner.__name__ in mt.__all__:
            assert getattr(mt, inner.__name__) is inner  # nested objects are the public types
    constraint = row.get("Constraints")
    if constraint:  # BatchEventRequest.events: 1--100 items
        accepted, rejected = constraint_values("", row["Type"], constraint)
        event = TaskCompletionEvent(**VALID_EVENT)
        for count in (len(v) for v in accepted):
            assert len(cls(**{code(row["Field"]): [event] * count}).events) == count
        for count in (len(v) for v in rejected):
            with pytest.raises(pydantic.ValidationError):
                cls(**{code(row["Field"]): [event] * count})


# Answer fields the reference predates (contract 1.1, issue 14; docs/wire.md): optional, so a
# 1.0 server's answers still read.
BEYOND_REFERENCE = {"BatchEventResult": ["index", "code"], "BatchEventResponse": ["duplicate"]}


@pytest.mark.parametrize("key", MODEL_TABLES, ids=[k[1] for k in MODEL_TABLES])
def test_model_fields_are_the_table_in_order(key: tuple[str, str]) -> None:
    cls = getattr(mt, key[1])
    assert issubclass(cls, pydantic.BaseModel)
    beyond = BEYOND_REFERENCE.get(key[1], [])
    assert all(not cls.model_fields[name].is_required() for name in beyond)
    fields = [name for name in cls.model_fields if name not in beyond]
    assert fields == [code(row[0]) for row in TABLES[key].rows]


def test_prediction_response_parses_the_wire_format() -> None:
    response = PredictionResponse.model_validate(PREDICTION_JSON)
    data = response.prediction
    assert isinstance(data, mt.PredictionData)
    assert isinstance(data.input_tokens, mt.TokenDistribution)
    assert (data.input_tokens.p10, data.input_tokens.median, data.input_tokens.p90) == (10, 30, 50)
    assert data.cost_usd_micros["median"] == 48000  # a dict, as the guide reads it
    assert data.duration_ms["median"] == 45000
    assert isinstance(data.correction_factors, mt.CorrectionFactors)
    assert data.correction_factors.input == 1.07
    assert isinstance(data.quality, mt.QualityPrediction)
    assert data.quality.success_rate == 0.8
    meta = response.metadata
    assert isinstance(meta, mt.PredictionMetadata)
    assert meta.last_updated == datetime(2025, 6, 1, 12, 0, tzinfo=timezone.utc)
    assert meta.dimensions_matched is not None
    assert meta.dimensions_matched["model"] == "m"
    assert meta.cache_hit is False
    none = PredictionResponse.model_validate(
        {
            "prediction": None,
            "metadata": {"sample_size": 0, "fallback_level": -1, "confidence": "none"},
        }
    )
    assert none.prediction is None
    assert none.metadata.last_updated is None
    assert none.metadata.dimensions_matched is None
    assert none.metadata.fallback_note is None


@pytest.mark.parametrize("confidence", ["high", "medium", "low", "none"])
def test_prediction_metadata_confidence_values(confidence: str) -> None:
    meta = {"sample_size": 1, "fallback_level": 0, "confidence": confidence}
    assert mt.PredictionMetadata.model_validate(meta).confidence == confidence


def test_prediction_metadata_fallback_levels() -> None:
    for level in (-1, 0, 1, 2, 3):
        meta = {"sample_size": 1, "fallback_level": level, "confidence": "low"}
        assert mt.PredictionMetadata.model_validate(meta).fallback_level == level


def test_batch_event_result_statuses() -> None:
    event_id = uuid.uuid4()
    accepted = BatchEventResult.model_validate({"event_id": str(event_id), "status": "accepted"})
    assert (accepted.event_id, accepted.status, accepted.error) == (event_id, "accepted", None)
    rejected = BatchEventResult.model_validate(
        {"event_id": str(event_id), "status": "rejected", "error": "instance_id mismatch"}
    )
    assert rejected.error == "instance_id mismatch"
    response = BatchEventResponse.model_validate(
        {"accepted": 1, "rejected": 1, "results": [accepted.model_dump(), rejected.model_dump()]}
    )
    assert [r.status for r in response.results] == ["accepted", "rejected"]


def test_prediction_query_takes_enum_values() -> None:
    query = PredictionQuery.model_validate(
        {"task_type": "testing", "model": "m", "provider": "openai", "complexity": "low"}
    )
    assert query == QUERY
    assert query.task_type is TaskType.TESTING


def test_batch_event_request_serializes_events() -> None:
    event = TaskCompletionEvent(**VALID_EVENT)
    body = json.loads(BatchEventRequest(events=[event]).model_dump_json())
    assert body["events"][0]["event_id"] == str(event.event_id)
    assert body["events"][0]["task_type"] == "implementation"


# --- enumerations --------------------------------------------------------------------------

ENUMS = [
    "TaskType",
    "Complexity",
    "Harness",
    "Provider",
    "Outcome",
    "QualityGate",
    "RepoSizeCategory",
]


def _enum_rows() -> list[Any]:
    params = []
    for name in ENUMS:
        _USED.add(("Enumerations", name))
        params.extend(
            pytest.param(name, code(row[0]), literal(row[1]), id=f"{name}.{code(row[0])}")
            for row in TABLES["Enumerations", name].rows
        )
    return params


@pytest.mark.parametrize(("enum", "member", "value"), _enum_rows())
def test_enum_member(enum: str, member: str, value: str) -> None:
    cls = getattr(mt, enum)
    item = cls[member]
    assert item.value == value
    assert value == value.lower()
    assert cls(value) is item
    assert isinstance(item, str)
    assert item == value
    assert str(item) == value
    assert f"{item}" == value
    assert f"{item:>20}" == f"{value:>20}"
    assert "{}".format(item) == value  # noqa: UP032  # str.format, as old code does
    assert json.dumps({"v": item}) == json.dumps({"v": value})


@pytest.mark.parametrize("enum", ENUMS)
def test_enum_members_are_the_table_in_order(enum: str) -> None:
    cls = getattr(mt, enum)
    assert issubclass(cls, str)
    assert issubclass(cls, Enum)
    table = TABLES["Enumerations", enum]
    assert [(m.name, m.value) for m in cls] == [(code(r[0]), literal(r[1])) for r in table.rows]
    assert len(cls.__members__) == len(table.rows)  # no alias hides behind a value


# --- TelemetryError ------------------------------------------------------------------------


def test_telemetry_error_extends_exception() -> None:
    assert issubclass(TelemetryError, Exception)
    assert TelemetryError.__mro__[1] is Exception
    with pytest.raises(TelemetryError, match="boom"):
        raise TelemetryError("boom")
    with pytest.raises(Exception, match=r"^caught as Exception$") as raised:
        raise TelemetryError("caught as Exception")
    assert type(raised.value) is TelemetryError


# --- EventQueue ----------------------------------------------------------------------------

EVENT_QUEUE_API = [
    "`EventQueue(max_size: int = 1000)`",
    "`put(event: TaskCompletionEvent) -> None` -- Add event, evict oldest if full",
    "`drain(max_items: int) -> list[TaskCompletionEvent]` -- Remove and return up to N events",
    "`put_back(events: list[TaskCompletionEvent]) -> None` -- Re-queue events at the front "
    "(for retries)",
    "`size: int` -- Current queue length",
    "`is_empty: bool` -- Whether the queue is empty",
]
PREDICTION_CACHE_API = [
    "`PredictionCache(ttl_seconds: float = 21600.0)`",
    "`get(query: PredictionQuery) -> PredictionResponse | None` -- Get cached prediction",
    "`put(query: PredictionQuery, response: PredictionResponse) -> None` -- Store prediction",
    "`clear() -> None` -- Invalidate all entries",
    "`size: int` -- Number of entries (including possibly expired)",
]


def test_internal_component_apis_equal_the_reference(reference: str) -> None:
    assert parse_bullets(reference, "EventQueue") == EVENT_QUEUE_API
    assert parse_bullets(reference, "PredictionCache") == PREDICTION_CACHE_API


@pytest.mark.parametrize(
    ("owner", "item"),
    [(EventQueue, item) for item in EVENT_QUEUE_API]
    + [(PredictionCache, item) for item in PREDICTION_CACHE_API],
    ids=[code(i.split(" -- ", maxsplit=1)[0]) for i in EVENT_QUEUE_API + PREDICTION_CACHE_API],
)
def test_internal_component_signature(owner: type, item: str) -> None:
    assert_signature(owner, code(item.split(" -- ", maxsplit=1)[0]))


def test_event_queue_is_fifo_with_a_default_bound_of_1000() -> None:
    queue = EventQueue()
    events = [make_event() for _ in range(1001)]
    assert queue.is_empty
    assert queue.size == 0
    for event in events[:1000]:
        queue.put(event)
    assert queue.size == 1000
    assert not queue.is_empty
    queue.put(events[1000])  # full: the oldest goes
    assert queue.size == 1000
    assert queue.drain(1) == [events[1]]
    assert queue.drain(2) == events[2:4]
    assert queue.drain(0) == []
    assert queue.drain(5000) == events[4:]
    assert queue.is_empty
    assert queue.drain(3) == []


def test_event_queue_evicts_the_oldest_when_full() -> None:
    queue = EventQueue(max_size=3)
    events = [make_event() for _ in range(5)]
    for event in events:
        queue.put(event)
    assert queue.size == 3
    assert queue.drain(10) == events[2:]


def test_event_queue_put_back_requeues_at_the_front_in_order() -> None:
    queue = EventQueue(max_size=10)
    a, b, c, d = (make_event() for _ in range(4))
    queue.put(c)
    queue.put(d)
    queue.put_back([a, b])
    assert queue.size == 4
    assert queue.drain(10) == [a, b, c, d]


def test_event_queue_put_back_into_a_full_queue_keeps_the_newest() -> None:
    queue = EventQueue(max_size=3)
    a, b, c, d = (make_event() for _ in range(4))
    queue.put(c)
    queue.put(d)
    queue.put_back([a, b])  # four for three places: the oldest, a, goes
    assert queue.drain(10) == [b, c, d]


def test_event_queue_is_thread_safe() -> None:
    queue = EventQueue(max_size=100_000)
    event = make_event()
    drained: list[int] = []

    def producer() -> None:
        for _ in range(2000):
            queue.put(event)

    def consumer() -> None:
        for _ in range(200):
            drained.append(len(queue.drain(7)))

    threads = [threading.Thread(target=producer) for _ in range(4)]
    threads += [threading.Thread(target=consumer) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(drained) + queue.size == 8000


# --- PredictionCache -----------------------------------------------------------------------


def _response(sample_size: int) -> PredictionResponse:
    return PredictionResponse.model_validate(
        {**PREDICTION_JSON, "metadata": {**PREDICTION_JSON["metadata"], "sample_size": sample_size}}
    )


def test_prediction_cache_get_put_clear_size(clock: FakeClock) -> None:
    cache = PredictionCache()
    other = QUERY.model_copy(update={"complexity": Complexity.HIGH})
    assert cache.get(QUERY) is None
    assert cache.size == 0
    cache.put(QUERY, _response(1))
    cache.put(other, _response(2))
    assert cache.size == 2
    cached = cache.get(QUERY)
    assert cached is not None
    assert cached.metadata.sample_size == 1
    cache.put(QUERY, _response(3))  # replaces
    assert cache.size == 2
    assert cache.get(QUERY).metadata.sample_size == 3  # type: ignore[union-attr]
    cache.clear()
    assert cache.size == 0
    assert cache.get(QUERY) is None
    assert cache.get(other) is None


def test_prediction_cache_ttl_defaults_to_six_hours(clock: FakeClock) -> None:
    cache = PredictionCache()
    cache.put(QUERY, _response(1))
    clock.now += 21600.0 - 0.001
    assert cache.get(QUERY) is not None
    clock.now += 0.002
    assert cache.get(QUERY) is None


def test_prediction_cache_size_counts_expired_entries_until_read(clock: FakeClock) -> None:
    cache = PredictionCache(ttl_seconds=0.5)
    cache.put(QUERY, _response(1))
    clock.now += 0.5
    assert cache.size == 1  # expired, not yet read
    assert cache.get(QUERY) is None
    assert cache.size == 0  # reading it removed it


def test_prediction_cache_purges_expired_entries_as_it_grows(clock: FakeClock) -> None:
    # decisions.md: "counts expired entries until they are read or purged". A service asking
    # for ever new queries kept every expired answer for good.
    cache = PredictionCache(ttl_seconds=60)
    queries = [QUERY.model_copy(update={"model": f"m{i}"}) for i in range(3000)]
    for query in queries[:1000]:
        cache.put(query, _response(1))
    clock.now += 60  # all 1,000 expired, none read
    for query in queries[1000:1023]:
        cache.put(query, _response(2))
    assert cache.size == 1023  # expired entries still count
    cache.put(queries[1023], _response(2))  # the 1,024th: a purge
    assert cache.size == 24
    for query in queries[1024:3000]:  # fresh ones are never purged
        cache.put(query, _response(3))
    assert cache.size == 2000
    assert all(cache.get(q) is not None for q in queries[1000:])


def test_prediction_cache_key_is_the_dimension_values(clock: FakeClock) -> None:
    cache = PredictionCache()
    cache.put(QUERY, _response(1))
    # Raw strings (model_construct skips the enum conversion): the same key as the enums.
    as_strings = PredictionQuery.model_construct(
        task_type="testing", model="m", provider="openai", complexity="low"
    )
    assert cache.get(as_strings) is not None
    cache.clear()
    cache.put(as_strings, _response(2))
    assert cache.get(QUERY) is not None
    # The model is compared exactly.
    for model in ("M", "m ", " m", "m2"):
        assert cache.get(QUERY.model_copy(update={"model": model})) is None, model
    for dimension, value in (
        ("task_type", TaskType.PLANNING),
        ("provider", Provider.OLLAMA),
        ("complexity", Complexity.HIGH),
    ):
        assert cache.get(QUERY.model_copy(update={dimension: value})) is None


def test_prediction_cache_caches_a_null_prediction(clock: FakeClock) -> None:
    cache = PredictionCache()
    empty = PredictionResponse.model_validate(
        {
            "prediction": None,
            "metadata": {"sample_size": 0, "fallback_level": -1, "confidence": "none"},
        }
    )
    cache.put(QUERY, empty)
    assert cache.get(QUERY) == empty


# --- TelemetryClient -----------------------------------------------------------------------

CLIENT_CONSTRUCTOR = "TelemetryClient(config: TelemetryConfig)"
CLIENT_API = [
    "start() -> None",
    "await start_async() -> None",
    "stop() -> None",
    "await stop_async() -> None",
    "track(event: TaskCompletionEvent) -> None",
    "get_prediction(query: PredictionQuery) -> PredictionResponse | None",
    "refresh_predictions_sync(queries: list[PredictionQuery]) -> None",
    "await refresh_predictions(queries: list[PredictionQuery]) -> None",
    "queue_size: int",
    "is_running: bool",
]


def test_client_api_equals_the_reference(reference: str) -> None:
    assert parse_headings(reference, "TelemetryClient", 4) == CLIENT_API
    assert f"```python\n{CLIENT_CONSTRUCTOR}\n```" in reference


@pytest.mark.parametrize("spec", [CLIENT_CONSTRUCTOR, *CLIENT_API])
def test_client_signature(spec: str) -> None:
    assert_signature(TelemetryClient, spec)


def _sender_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == SENDER_THREAD]


def test_client_start_spawns_one_daemon_thread_and_stop_flushes(capture: Capture) -> None:
    client = TelemetryClient(make_config(capture.url))
    client.stop()  # safe when never started
    assert not client.is_running
    client.start()
    try:
        assert client.is_running
        assert len(_sender_threads()) == 1
        assert _sender_threads()[0].daemon
        events = [make_event() for _ in range(3)]
        for event in events:
            client.track(event)
        assert client.queue_size == 3
    finally:
        client.stop()
    assert not client.is_running
    assert client.queue_size == 0
    assert capture.event_ids() == [str(e.event_id) for e in events]
    assert wait_until(lambda: not _sender_threads())


async def test_client_start_async_creates_a_task_and_stop_async_flushes(capture: Capture) -> None:
    client = TelemetryClient(make_config(capture.url))
    await client.stop_async()  # safe when never started
    before = asyncio.all_tasks()
    await client.start_async()
    try:
        assert client.is_running
        assert len(asyncio.all_tasks() - before) == 1
        assert _sender_threads() == []
        event = make_event()
        client.track(event)
        assert client.queue_size == 1
    finally:
        await client.stop_async()
    assert not client.is_running
    assert asyncio.all_tasks() - before == set()
    assert capture.event_ids() == [str(event.event_id)]


def test_client_context_manager(capture: Capture) -> None:
    event = make_event()
    with TelemetryClient(make_config(capture.url)) as client:
        assert isinstance(client, TelemetryClient)
        assert client.is_running
        client.track(event)
    assert not client.is_running
    assert capture.event_ids() == [str(event.event_id)]


async def test_client_async_context_manager(capture: Capture) -> None:
    event = make_event()
    async with TelemetryClient(make_config(capture.url)) as client:
        assert isinstance(client, TelemetryClient)
        assert client.is_running
        assert _sender_threads() == []
        client.track(event)
    assert not client.is_running
    assert capture.event_ids() == [str(event.event_id)]


def test_client_track_never_throws(capture: Capture) -> None:
    clients = [
        TelemetryClient(make_config(capture.url)),
        TelemetryClient(make_config(capture.url, enabled=False)),
        TelemetryClient(TelemetryConfig(server_url="nope")),
    ]
    for client in clients:
        for bad in (make_event(), None, "event", {"task_type": "testing"}, 42):
            assert client.track(bad) is None  # type: ignore[func-returns-value,arg-type]
    assert clients[0].queue_size == 1  # only the real event
    assert clients[1].queue_size == clients[2].queue_size == 0  # disabled / invalid: dropped
    for client in clients:
        client.stop()
    assert len(capture.event_ids()) == 1


def test_client_track_is_thread_safe(capture: Capture) -> None:
    client = TelemetryClient(make_config(capture.url, max_queue_size=10_000))
    event = make_event()

    def worker() -> None:
        for _ in range(250):
            client.track(event)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert client.queue_size == 2000


def test_client_predictions_sync(capture: Capture) -> None:
    client = TelemetryClient(make_config(capture.url))
    assert client.get_prediction(QUERY) is None  # not cached
    client.refresh_predictions_sync([])
    assert capture.seen == []  # an empty list is a no-op
    client.refresh_predictions_sync([QUERY])
    assert [s.path for s in capture.seen] == ["/v1/predictions/batch"]
    assert json.loads(capture.seen[0].body) == {"queries": [QUERY.model_dump(mode="json")]}
    assert client.get_prediction(QUERY) == PredictionResponse.model_validate(PREDICTION_JSON)
    client.stop()


async def test_client_predictions_async(capture: Capture) -> None:
    client = TelemetryClient(make_config(capture.url))
    assert client.get_prediction(QUERY) is None
    await client.refresh_predictions([])
    assert capture.seen == []
    await client.refresh_predictions([QUERY])
    assert [s.path for s in capture.seen] == ["/v1/predictions/batch"]
    assert client.get_prediction(QUERY) == PredictionResponse.model_validate(PREDICTION_JSON)
    await client.stop_async()


def test_client_prediction_expires_after_the_ttl(capture: Capture, clock: FakeClock) -> None:
    client = TelemetryClient(make_config(capture.url))
    client.refresh_predictions_sync([QUERY])
    assert client.get_prediction(QUERY) is not None
    clock.now += 21600.0
    assert client.get_prediction(QUERY) is None
    client.stop()
