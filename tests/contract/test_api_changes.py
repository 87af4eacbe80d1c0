"""Issue 13's table, one test per row: an API change, and what the SDK does about it now.

Each row either runs this SDK against a stub server that answers the newer shape, or applies
the change to a temporary copy of the contract (regenerated once per change, module-scoped)
and shows what catches it: the reachability check, the compatibility gate, the server.
"""

from __future__ import annotations

import copy
import importlib.util
import json
import logging
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml
from tests.contract._reachability import problems

from mosaicstack_telemetry import EventBuilder, TelemetryClient, TelemetryConfig
from mosaicstack_telemetry._enums import Confidence
from mosaicstack_telemetry._predictionmodels import PredictionQuery

ROOT = Path(__file__).resolve().parents[2]
CONTRACT = ROOT / "openapi" / "telemetry-v1.yaml"
TODAY: dict[str, Any] = yaml.safe_load(CONTRACT.read_text(encoding="utf-8"))
KEY = "0123456789abcdef" * 4
INSTANCE = "12345678-1234-4234-8234-123456789abc"


# --- a stub server answering a newer shape ---------------------------------------------------


class Stub:
    """Answers every POST with `reply(body)` (status, JSON or bytes), on 127.0.0.1."""

    def __init__(self) -> None:
        self.reply: Any = lambda body: (202, {})
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                status, answer = outer.reply(body)
                data = answer if isinstance(answer, bytes) else json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def stub() -> Iterator[Stub]:
    server = Stub()
    yield server
    server.close()


def client(url: str) -> TelemetryClient:
    return TelemetryClient(TelemetryConfig(server_url=url, api_key=KEY, instance_id=INSTANCE))


def events(n: int) -> list[Any]:
    return [EventBuilder(instance_id=INSTANCE).model(f"m{i}").build() for i in range(n)]


# Row 1 and row 6: a newer server sends statuses; one this SDK knows (duplicate), one it does
# not (superseded), with rejections among them and fields this SDK does not know (row 3).
NEWER_ANSWER = ["accepted", "rejected", "duplicate", "superseded", "rejected", "accepted"]


def newer_202(body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    results = []
    for i, (event, status) in enumerate(zip(body["events"], NEWER_ANSWER, strict=True)):
        rejected = status == "rejected"
        results.append(
            {
                "index": i,
                "event_id": event["event_id"],
                "status": status,
                "code": "quota_exceeded" if rejected else None,
                "error": "over quota" if rejected else None,
                "trace": {"shard": 3},  # a field this SDK does not know
            }
        )
    return 202, {"accepted": 2, "rejected": 2, "duplicate": 1, "results": results, "region": "eu"}


def test_row_1_a_newer_status_is_delivered_and_rejections_are_kept(
    stub: Stub, caplog: pytest.LogCaptureFixture
) -> None:
    """Was: the whole 202 discarded, 6 counted sent, 2 rejections lost, nothing logged."""
    stub.reply = newer_202
    caplog.set_level(logging.WARNING, "mosaicstack_telemetry")
    sent = events(6)
    with client(stub.url) as c:
        for event in sent:
            c.track(event)
        result = c.flush(timeout=10)
        stats = c.stats()
    assert (stats.sent, stats.duplicate, stats.rejected) == (3, 1, 2)  # 2 accepted + 1 unknown
    assert (result.sent, result.duplicate, result.rejected, result.remaining) == (3, 1, 2, 0)
    text = caplog.text
    assert str(sent[1].event_id) in text  # each rejection logged with its id ...
    assert str(sent[4].event_id) in text
    assert "quota_exceeded" in text  # ... and its code
    assert text.count("'superseded'") == 1  # the unknown status, named once


def test_row_1_an_unreadable_body_says_why_at_debug(
    stub: Stub, caplog: pytest.LogCaptureFixture
) -> None:
    stub.reply = lambda body: (202, b"<html>accepted, probably</html>")
    caplog.set_level(logging.DEBUG, "mosaicstack_telemetry")
    with client(stub.url) as c:
        for event in events(2):
            c.track(event)
        c.flush(timeout=10)
        assert c.stats().sent == 2
    debug = [r.getMessage() for r in caplog.records if r.levelno == logging.DEBUG]
    (line,) = [m for m in debug if "could not be read" in m]
    assert "the body is not JSON" in line
    assert "<html>accepted, probably</html>" in line
    assert KEY not in caplog.text


def prediction(confidence: str) -> dict[str, Any]:
    dist = {"p10": 1, "p25": 2, "median": 3, "p75": 4, "p90": 5}
    return {
        "prediction": {
            "input_tokens": dist,
            "output_tokens": dist,
            "cost_usd_micros": {"median": 100, "p95": 400},
            "duration_ms": {"median": 2000},
            "correction_factors": {"input": 1.0, "output": 1.0},
            "quality": {"gate_pass_rate": 1.0, "success_rate": 1.0, "flaky_rate": 0.1},
        },
        "metadata": {
            "sample_size": 150,
            "fallback_level": 0,
            "confidence": confidence,
            "model_family": "claude",  # a field this SDK does not know
        },
    }


def test_row_2_an_unknown_confidence_costs_no_other_answer(stub: Stub) -> None:
    """Was: one odd confidence, every prediction of the batch thrown away (3 -> 0 cached)."""
    stub.reply = lambda body: (
        200,
        {"results": [prediction("high"), prediction("very_high"), prediction("low")]},
    )
    queries = [
        PredictionQuery(task_type="testing", model=f"m{i}", provider="openai", complexity="low")
        for i in range(3)
    ]
    with client(stub.url) as c:
        c.refresh_predictions_sync(queries)
        cached = [c.get_prediction(q) for q in queries]
    assert all(p is not None for p in cached)
    odd = cached[1]
    assert odd is not None
    assert odd.metadata.confidence == "very_high"  # the raw value, kept
    assert odd.metadata.confidence.effective is Confidence.LOW  # treated as the lowest
    assert odd.prediction is not None
    assert odd.prediction.cost_usd_micros == {"median": 100, "p95": 400}


def test_row_3_extra_fields_are_ignored(stub: Stub) -> None:
    """Still fine: fields this SDK does not know, in the body and in a result."""

    def answer(body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        result = {"event_id": body["events"][0]["event_id"], "status": "accepted", "x": [1]}
        return 202, {"accepted": 1, "rejected": 0, "results": [result], "more": {"a": True}}

    stub.reply = answer
    with client(stub.url) as c:
        c.track(events(1)[0])
        assert c.flush(timeout=10).sent == 1


# --- changes applied to a copy of the contract -----------------------------------------------


def regenerate(tmp: Path, change: Any) -> Path:
    """A copy of the repository's contract, generator settings and scripts with `change`
    applied, regenerated by scripts/_generate.py; returns the copy's generated/ folder."""
    for folder in ("openapi", "scripts"):
        shutil.copytree(ROOT / folder, tmp / folder, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy2(ROOT / "pyproject.toml", tmp / "pyproject.toml")
    doc = copy.deepcopy(TODAY)
    change(doc)
    (tmp / "openapi" / "telemetry-v1.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
    subprocess.run(
        [sys.executable, str(tmp / "scripts" / "_generate.py")],
        cwd=tmp,
        check=True,
        capture_output=True,
        timeout=300,
    )
    return tmp / "generated"


def add_probe_calls(doc: dict[str, Any]) -> None:
    event = doc["components"]["schemas"]["TaskCompletionEvent"]
    event["properties"]["probe_calls"] = {
        "type": "integer",
        "minimum": 0,
        "default": 0,
        "description": "A field no contract has (the docs walk through adding tool_calls).",
    }


@pytest.fixture(scope="module")
def with_probe_calls(tmp_path_factory: pytest.TempPathFactory) -> Path:
    started = time.monotonic()
    generated = regenerate(tmp_path_factory.mktemp("probe_calls"), add_probe_calls)
    print(f"regenerated with probe_calls in {time.monotonic() - started:.1f} s")
    return generated


SEND_WITH_THE_REGENERATED_SDK = """
import json, sys
from mosaicstack_telemetry import EventBuilder, TelemetryClient, TelemetryConfig
from mosaicstack_telemetry._models import TaskCompletionEvent, dump_event
assert "probe_calls" in TaskCompletionEvent.model_fields, "not the regenerated models"
url, key, instance = sys.argv[1:4]
left = EventBuilder(instance_id=instance).model("left-out").build()
set_ = TaskCompletionEvent.model_validate({**left.model_dump(), "event_id": None,
    "model": "set", "probe_calls": 3} | {"event_id": __import__("uuid").uuid4()})
out = {"left": json.loads(dump_event(left)), "set": json.loads(dump_event(set_))}
with TelemetryClient(TelemetryConfig(server_url=url, api_key=key, instance_id=instance)) as c:
    c.track(left)
    first = c.flush(timeout=10)
    c.track(set_)
    second = c.flush(timeout=10)
out["first"] = [first.sent, first.rejected]
out["second"] = [second.sent, second.rejected]
print(json.dumps(out))
"""


def test_row_4_a_new_optional_field_changes_nothing_sent_until_set(
    with_probe_calls: Path, tmp_path: Path
) -> None:
    """Was: every event carried "probe_calls": 0 and today's server rejected all of them."""
    server = pytest.importorskip("mosaicstack_telemetry.server")
    with server.start_server(keys={KEY: INSTANCE}) as today:  # today's contract
        env = {**os.environ, "PYTHONPATH": f"{with_probe_calls}{os.pathsep}{ROOT}"}
        done = subprocess.run(
            [sys.executable, "-c", SEND_WITH_THE_REGENERATED_SDK, today.url, KEY, INSTANCE],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        out = json.loads(done.stdout)
    assert "probe_calls" not in out["left"]  # left at its default: not sent
    assert out["set"]["probe_calls"] == 3  # set by the user: sent
    assert out["first"] == [1, 0]  # today's server takes the event it can read
    assert out["second"] == [0, 1]  # and rejects the field it does not know, visibly


def test_row_4_the_new_field_names_every_place_to_reach_it(with_probe_calls: Path) -> None:
    """Was: no setter, no CLI option, no test noticed. Now the reachability check names them."""
    regenerated = yaml.safe_load(
        (with_probe_calls / "_mosaicstack_telemetry_generated" / "telemetry-v1.yaml").read_text()
    )
    (message,) = problems(regenerated, cli_help="")[-1:]
    assert message.startswith("probe_calls: a field of the contract with no row in docs/wire.md")
    for place in ("_builder.py", "mosaic-telemetry track", "server/_store.py"):
        assert place in message


def _with_value(schema: str, value: str, varname: str) -> Any:
    def change(doc: dict[str, Any]) -> None:
        component = doc["components"]["schemas"][schema]
        component["enum"].append(value)
        component["x-enum-varnames"].append(varname)
        component["x-enum-descriptions"].append("Added")

    return change


def test_row_5_a_new_provider_names_the_enum_and_the_spec() -> None:
    """Was: the README named _enums.py only; the spec and copied tables also had to change."""
    changed = copy.deepcopy(TODAY)
    _with_value("Provider", "xai", "XAI")(changed)
    (message,) = [p for p in problems(changed, cli_help="--provider") if "xai" in p]
    assert "src/mosaicstack_telemetry/_enums.py" in message
    assert "shared/spec/sdk-reference.md" in message
    assert "tests/reference/test_reference_sdk.py" in message
    readme = (ROOT / "docs" / "regenerating.md").read_text(encoding="utf-8")
    assert "sdk-reference.md" in readme
    assert "test_reference_sdk.py" in readme


def test_row_6_a_new_status_is_caught_and_counted(stub: Stub) -> None:
    """Was: nothing caught it, and the duplicates were in no counter. Now the reachability
    check names _enums.py, and a status the SDK knows is counted (row 1 shows the unknown
    one delivered)."""
    changed = copy.deepcopy(TODAY)
    _with_value("EventStatus", "superseded", "SUPERSEDED")(changed)
    (message,) = [p for p in problems(changed, cli_help="") if "SUPERSEDED" in p]
    assert "src/mosaicstack_telemetry/_enums.py" in message
    stub.reply = newer_202
    with client(stub.url) as c:
        for event in events(6):
            c.track(event)
        assert c.flush(timeout=10).duplicate == 1


def _load_compat() -> Any:
    spec = importlib.util.spec_from_file_location("_compat_rows", ROOT / "scripts" / "_compat.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def rename_model(doc: dict[str, Any]) -> None:
    event = doc["components"]["schemas"]["TaskCompletionEvent"]
    event["properties"] = {
        ("model_id" if k == "model" else k): v for k, v in event["properties"].items()
    }
    event["required"] = ["model_id" if r == "model" else r for r in event["required"]]


def test_row_7_a_renamed_required_field_fails_loudly_everywhere(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Was: generate, check and info.version all silent; 366 failures hiding the three places;
    the server answering a valid renamed event 500, retried until the deadline."""
    changed = copy.deepcopy(TODAY)
    rename_model(changed)
    working = tmp_path / "working.yaml"
    working.write_text(yaml.safe_dump(changed, sort_keys=False))
    compat = _load_compat()
    # The gate: the version did not move, and a rename is breaking.
    assert compat.gate(CONTRACT, working, use_optic=False) == 1
    out = capsys.readouterr()
    assert "info.version must move" in out.err
    assert ".events[].model: removed (or renamed)" in out.out
    major, minor, _ = (int(part) for part in TODAY["info"]["version"].split("."))
    changed["info"]["version"] = f"{major}.{minor + 1}.0"  # a minor bump: not enough
    working.write_text(yaml.safe_dump(changed, sort_keys=False))
    assert compat.gate(CONTRACT, working, use_optic=False) == 1
    assert "breaking changes need a new major version" in capsys.readouterr().err
    # The places that name "model", each by file.
    found = "\n".join(problems(changed, cli_help="--model"))
    for place in ("docs/wire.md", "_builder.py", "server/_store.py"):
        assert place in found
    # The server: refuses to start on such a contract, instead of a 500 per valid event.
    from mosaicstack_telemetry.server._store import check_contract

    with pytest.raises(ValueError, match="'model'"):
        check_contract(changed["components"]["schemas"]["TaskCompletionEvent"])
