"""The generated low-level client (openapi-python-client) speaks the contract.

Requests are built by the endpoint modules and really sent to a capturing HTTP server on
127.0.0.1; the captured method, path, headers and JSON body are checked against the contract
(the body with jsonschema_rs against the operation's request schema). Contract-valid answers are
parsed back into the client's attrs models.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import jsonschema_rs
import pytest
import yaml
from _mosaicstack_telemetry_generated.client import AuthenticatedClient, Client, errors
from _mosaicstack_telemetry_generated.client.api.events import submit_events_batch
from _mosaicstack_telemetry_generated.client.api.predictions import query_predictions_batch
from _mosaicstack_telemetry_generated.client.models import (
    BatchEventRequest,
    BatchEventResponse,
    ErrorResponse,
    PredictionBatchRequest,
    PredictionBatchResponse,
    ValidationErrorItem,
)
from _mosaicstack_telemetry_generated.client.types import UNSET

ROOT = Path(__file__).resolve().parents[2]
CONTRACT_PATH = ROOT / "openapi" / "telemetry-v1.yaml"
TOKEN = "0123456789abcdef" * 4
TIMEOUT = httpx.Timeout(10.0)


def _load_contract() -> dict[str, Any]:
    with CONTRACT_PATH.open(encoding="utf-8") as f:
        loaded = yaml.safe_load(f)
    assert isinstance(loaded, dict)
    return loaded


CONTRACT = _load_contract()


def contract_validator(name: str) -> jsonschema_rs.Validator:
    wrapper = {"$ref": f"#/components/schemas/{name}", "components": CONTRACT["components"]}
    return jsonschema_rs.Draft202012Validator(wrapper, validate_formats=True)


def request_schema_name(path: str) -> str:
    ref = CONTRACT["paths"][path]["post"]["requestBody"]["content"]["application/json"]["schema"]
    return str(ref["$ref"]).rsplit("/", 1)[-1]


def assert_contract_valid(name: str, instance: Any) -> None:
    errs = [
        f"{list(e.instance_path)}: {e.message}"
        for e in contract_validator(name).iter_errors(instance)
    ]
    assert not errs, f"not a valid {name}: {errs}"


# --- payloads ------------------------------------------------------------------------------

MINIMAL_EVENT: dict[str, Any] = {
    "instance_id": "12345678-1234-4234-8234-123456789abc",
    "task_duration_ms": 86_400_000,
    "task_type": "code_review",
    "complexity": "critical",
    "harness": "claude_code",
    "model": "claude-opus-4",
    "provider": "anthropic",
    "estimated_input_tokens": 0,
    "estimated_output_tokens": 10_000_000,
    "actual_input_tokens": 1,
    "actual_output_tokens": 2,
    "estimated_cost_usd_micros": 100_000_000,
    "actual_cost_usd_micros": 0,
    "quality_gate_passed": False,
    "context_compactions": 100,
    "context_rotations": 50,
    "context_utilization_final": 1.0,
    "outcome": "partial",
    "retry_count": 20,
}
FULL_EVENT: dict[str, Any] = {
    **MINIMAL_EVENT,
    "event_id": "9b2f8a3e-7c1d-4e5f-8a9b-0c1d2e3f4a5b",
    "schema_version": "1.0",
    "timestamp": "2026-01-02T03:04:05.678000Z",
    "quality_gates_run": ["build", "lint", "test", "coverage", "typecheck", "security"],
    "quality_gates_failed": ["coverage"],
    "language": "python",
    "repo_size_category": None,
}
EVENTS_PAYLOAD: dict[str, Any] = {"events": [MINIMAL_EVENT, FULL_EVENT]}
QUERIES_PAYLOAD: dict[str, Any] = {
    "queries": [
        {"task_type": "testing", "model": "gpt-4o", "provider": "openai", "complexity": "low"},
        {"task_type": "unknown", "model": "x" * 100, "provider": "unknown", "complexity": "medium"},
    ]
}

EVENTS_RESPONSE: dict[str, Any] = {
    "accepted": 1,
    "rejected": 1,
    "results": [
        {"event_id": "9b2f8a3e-7c1d-4e5f-8a9b-0c1d2e3f4a5b", "status": "accepted", "error": None},
        {
            "event_id": "00000000-0000-0000-0000-000000000000",
            "status": "rejected",
            "error": "instance_id does not match the API key",
        },
    ],
}
PREDICTIONS_RESPONSE: dict[str, Any] = {
    "results": [
        {
            "prediction": {
                "input_tokens": {"p10": 1, "p25": 2, "median": 3, "p75": 4, "p90": 5},
                "output_tokens": {"p10": 10, "p25": 20, "median": 30, "p75": 40, "p90": 50},
                "cost_usd_micros": {"median": 1234, "p90": 5678},
                "duration_ms": {"median": 60_000},
                "correction_factors": {"input": 1.25, "output": 0.8},
                "quality": {"gate_pass_rate": 0.9, "success_rate": 0.75},
            },
            "metadata": {
                "sample_size": 120,
                "fallback_level": 0,
                "confidence": "high",
                "last_updated": "2026-01-02T03:04:05Z",
                "dimensions_matched": {
                    "task_type": "testing",
                    "model": "gpt-4o",
                    "provider": "openai",
                    "complexity": "low",
                },
                "fallback_note": None,
                "cache_hit": True,
            },
        },
        {
            "prediction": None,
            "metadata": {"sample_size": 0, "fallback_level": -1, "confidence": "none"},
        },
    ]
}


def test_sample_payloads_are_contract_valid() -> None:
    """The data below is what the contract allows, so the checks on it are meaningful."""
    assert_contract_valid("BatchEventRequest", EVENTS_PAYLOAD)
    assert_contract_valid("PredictionBatchRequest", QUERIES_PAYLOAD)
    assert_contract_valid("BatchEventResponse", EVENTS_RESPONSE)
    assert_contract_valid("PredictionBatchResponse", PREDICTIONS_RESPONSE)
    # ...and the validator is not a yes-man.
    assert not contract_validator("BatchEventRequest").is_valid({"events": []})
    assert not contract_validator("BatchEventRequest").is_valid(
        {"events": [{**MINIMAL_EVENT, "retry_count": 21}]}
    )


# --- a capturing server on 127.0.0.1 -------------------------------------------------------


@dataclass
class Captured:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class CapturingServer:
    url: str
    reply_status: int = 200
    reply_body: Any = field(default_factory=dict)
    requests: list[Captured] = field(default_factory=list)


@pytest.fixture
def server() -> Iterator[CapturingServer]:
    state = CapturingServer(url="")

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _capture(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            state.requests.append(
                Captured(
                    method=self.command,
                    path=self.path,
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=body,
                )
            )
            payload = json.dumps(state.reply_body).encode()
            self.send_response(state.reply_status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_POST = _capture

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    host, port = httpd.server_address[:2]
    state.url = f"http://{host!s}:{port}"
    thread = threading.Thread(
        target=httpd.serve_forever,
        kwargs={"poll_interval": 0.05},
        name="capturing-server",
        daemon=True,
    )
    thread.start()
    try:
        yield state
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=10)


# --- building requests ---------------------------------------------------------------------


def test_events_request_kwargs_match_the_contract() -> None:
    body = BatchEventRequest.from_dict(EVENTS_PAYLOAD)
    kwargs = submit_events_batch._get_kwargs(body=body)
    assert kwargs["method"].upper() == "POST"
    assert kwargs["url"] == "/v1/events/batch"
    assert "post" in CONTRACT["paths"][kwargs["url"]]
    assert kwargs["headers"] == {"Content-Type": "application/json"}
    assert_contract_valid(request_schema_name("/v1/events/batch"), kwargs["json"])

    minimal, full = kwargs["json"]["events"]
    assert minimal == MINIMAL_EVENT  # unset optional fields are left out, not sent as null
    sent_time = datetime.fromisoformat(full.pop("timestamp"))
    assert sent_time == datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=timezone.utc)
    assert sent_time.utcoffset() is not None
    assert full == {k: v for k, v in FULL_EVENT.items() if k != "timestamp"}


def test_predictions_request_kwargs_match_the_contract() -> None:
    body = PredictionBatchRequest.from_dict(QUERIES_PAYLOAD)
    kwargs = query_predictions_batch._get_kwargs(body=body)
    assert kwargs["method"].upper() == "POST"
    assert kwargs["url"] == "/v1/predictions/batch"
    assert kwargs["headers"] == {"Content-Type": "application/json"}
    assert_contract_valid(request_schema_name("/v1/predictions/batch"), kwargs["json"])
    assert kwargs["json"] == QUERIES_PAYLOAD


def test_client_models_reject_values_outside_the_enums() -> None:
    with pytest.raises(TypeError, match="not_a_task_type"):
        BatchEventRequest.from_dict({"events": [{**MINIMAL_EVENT, "task_type": "not_a_task_type"}]})


# --- sending them --------------------------------------------------------------------------


def test_events_are_sent_as_the_contract_says(server: CapturingServer) -> None:
    server.reply_status, server.reply_body = 202, EVENTS_RESPONSE
    body = BatchEventRequest.from_dict(EVENTS_PAYLOAD)
    with AuthenticatedClient(base_url=server.url, token=TOKEN, timeout=TIMEOUT) as client:
        response = submit_events_batch.sync_detailed(client=client, body=body)

    (seen,) = server.requests
    assert seen.method == "POST"
    assert seen.path == "/v1/events/batch"
    assert seen.headers["authorization"] == f"Bearer {TOKEN}"
    assert seen.headers["content-type"] == "application/json"
    assert seen.json() == submit_events_batch._get_kwargs(body=body)["json"]
    assert_contract_valid("BatchEventRequest", seen.json())

    assert response.status_code == 202
    parsed = response.parsed
    assert isinstance(parsed, BatchEventResponse)
    assert (parsed.accepted, parsed.rejected) == (1, 1)
    first, second = parsed.results
    assert first.event_id == UUID("9b2f8a3e-7c1d-4e5f-8a9b-0c1d2e3f4a5b")
    assert (first.status, first.error) == ("accepted", None)
    assert second.event_id == UUID(int=0)
    assert (second.status, second.error) == ("rejected", "instance_id does not match the API key")


async def test_events_are_sent_the_same_way_from_async(server: CapturingServer) -> None:
    server.reply_status, server.reply_body = 202, EVENTS_RESPONSE
    body = BatchEventRequest.from_dict(EVENTS_PAYLOAD)
    async with AuthenticatedClient(base_url=server.url, token=TOKEN, timeout=TIMEOUT) as client:
        response = await submit_events_batch.asyncio_detailed(client=client, body=body)

    (seen,) = server.requests
    assert (seen.method, seen.path) == ("POST", "/v1/events/batch")
    assert seen.headers["authorization"] == f"Bearer {TOKEN}"
    assert seen.headers["content-type"] == "application/json"
    assert_contract_valid("BatchEventRequest", seen.json())
    assert isinstance(response.parsed, BatchEventResponse)


def test_predictions_are_sent_without_a_key(server: CapturingServer) -> None:
    server.reply_status, server.reply_body = 200, PREDICTIONS_RESPONSE
    body = PredictionBatchRequest.from_dict(QUERIES_PAYLOAD)
    with Client(base_url=server.url, timeout=TIMEOUT) as client:
        response = query_predictions_batch.sync_detailed(client=client, body=body)

    (seen,) = server.requests
    assert seen.method == "POST"
    assert seen.path == "/v1/predictions/batch"
    assert "authorization" not in seen.headers
    assert seen.headers["content-type"] == "application/json"
    assert seen.json() == QUERIES_PAYLOAD
    assert_contract_valid("PredictionBatchRequest", seen.json())

    assert response.status_code == 200
    parsed = response.parsed
    assert isinstance(parsed, PredictionBatchResponse)
    found, empty = parsed.results
    assert found.prediction is not None
    # The attrs client types the declared median; other statistics stay reachable by key.
    assert found.prediction.cost_usd_micros.median == 1234
    assert found.prediction.cost_usd_micros["p90"] == 5678
    assert found.prediction.duration_ms.median == 60_000
    assert found.prediction.input_tokens.median == 3
    assert found.prediction.correction_factors.input_ == 1.25
    assert found.prediction.quality.success_rate == 0.75
    assert found.metadata.confidence == "high"
    assert found.metadata.last_updated == datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    assert found.metadata.cache_hit is True
    assert empty.prediction is None
    assert (empty.metadata.fallback_level, empty.metadata.confidence) == (-1, "none")
    assert empty.metadata.last_updated is UNSET


# --- parsing answers -----------------------------------------------------------------------


def _response(status: int, body: Any, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(status, json=body, headers=headers)


def test_build_response_parses_a_202() -> None:
    client = AuthenticatedClient(base_url="http://127.0.0.1:9", token=TOKEN, timeout=TIMEOUT)
    built = submit_events_batch._build_response(
        client=client, response=_response(202, EVENTS_RESPONSE)
    )
    assert built.status_code == 202
    assert isinstance(built.parsed, BatchEventResponse)
    assert built.parsed.to_dict() == EVENTS_RESPONSE


def test_build_response_parses_a_200() -> None:
    client = Client(base_url="http://127.0.0.1:9", timeout=TIMEOUT)
    built = query_predictions_batch._build_response(
        client=client, response=_response(200, PREDICTIONS_RESPONSE)
    )
    assert built.status_code == 200
    assert isinstance(built.parsed, PredictionBatchResponse)
    assert [r.metadata.sample_size for r in built.parsed.results] == [120, 0]
    # What the client would send back out is still what the contract describes.
    assert_contract_valid("PredictionBatchResponse", built.parsed.to_dict())


@pytest.mark.parametrize(
    ("module", "status"),
    [
        (submit_events_batch, s)
        for s in ("400", "401", "403", "408", "413", "429", "500", "502", "503", "504")
    ]
    + [
        (query_predictions_batch, s)
        for s in ("400", "408", "413", "429", "500", "502", "503", "504")
    ],
)
def test_documented_errors_parse_as_error_response(module: Any, status: str) -> None:
    body = {"detail": f"status {status}"}
    assert_contract_valid("ErrorResponse", body)
    headers = {"Retry-After": "30"} if status == "429" else None
    client = Client(base_url="http://127.0.0.1:9", timeout=TIMEOUT)
    built = module._build_response(client=client, response=_response(int(status), body, headers))
    assert isinstance(built.parsed, ErrorResponse)
    assert built.parsed.detail == f"status {status}"
    if status == "429":
        # Not modelled by the generator: read from the headers, as the SDK does.
        assert built.headers["retry-after"] == "30"


@pytest.mark.parametrize("module", [submit_events_batch, query_predictions_batch])
def test_422_detail_list_parses_as_items(module: Any) -> None:
    body = {
        "detail": [
            {
                "loc": ["body", "events", 0, "retry_count"],
                "msg": "too big",
                "type": "less_than_equal",
            }
        ]
    }
    assert_contract_valid("ErrorResponse", body)
    client = Client(base_url="http://127.0.0.1:9", timeout=TIMEOUT)
    built = module._build_response(client=client, response=_response(422, body))
    assert isinstance(built.parsed, ErrorResponse)
    assert isinstance(built.parsed.detail, list)
    (item,) = built.parsed.detail
    assert isinstance(item, ValidationErrorItem)
    assert (item.loc, item.msg, item.type_) == (
        ["body", "events", 0, "retry_count"],
        "too big",
        "less_than_equal",
    )


@pytest.mark.parametrize(
    ("module", "status"), [(query_predictions_batch, 401), (submit_events_batch, 418)]
)
def test_undocumented_status_is_unexpected(module: Any, status: int) -> None:
    lenient = Client(base_url="http://127.0.0.1:9", timeout=TIMEOUT)
    assert (
        module._build_response(client=lenient, response=_response(status, {"detail": "x"})).parsed
        is None
    )
    strict = Client(base_url="http://127.0.0.1:9", timeout=TIMEOUT, raise_on_unexpected_status=True)
    with pytest.raises(errors.UnexpectedStatus) as info:
        module._build_response(client=strict, response=_response(status, {"detail": "x"}))
    assert info.value.status_code == status


# --- the key stays out of repr -------------------------------------------------------------


def test_authenticated_client_repr_hides_the_token() -> None:
    client = AuthenticatedClient(base_url="http://127.0.0.1:9", token=TOKEN, timeout=TIMEOUT)
    assert TOKEN not in repr(client)
    assert TOKEN not in str(client)
    # Building the httpx client puts the bearer header into the client's header dict.
    httpx_client = client.get_httpx_client()
    try:
        assert httpx_client.headers["authorization"] == f"Bearer {TOKEN}"
        assert TOKEN not in repr(client)
        assert TOKEN not in repr(client.with_headers({"X-Extra": "1"}))
    finally:
        httpx_client.close()


def test_build_response_keeps_values_a_newer_server_adds() -> None:
    """Open enums (x-open-enum) are plain strings in the attrs client: a status, a code or a
    confidence it does not know does not fail the whole answer (scripts/_generate.py)."""
    events = {
        "accepted": 0,
        "rejected": 0,
        "duplicate": 1,
        "results": [
            {
                "index": 0,
                "event_id": "9b2f8a3e-7c1d-4e5f-8a9b-0c1d2e3f4a5b",
                "status": "superseded",
                "code": "quota_exceeded",
                "error": None,
                "unknown_field": True,
            }
        ],
    }
    built = submit_events_batch._build_response(
        client=Client(base_url="http://127.0.0.1"),
        response=httpx.Response(202, json=events),
    )
    assert isinstance(built.parsed, BatchEventResponse)
    assert built.parsed.results[0].status == "superseded"
    assert built.parsed.to_dict()["results"][0]["code"] == "quota_exceeded"
    odd = json.loads(json.dumps(PREDICTIONS_RESPONSE))
    odd["results"][0]["metadata"]["confidence"] = "very_high"
    built_predictions = query_predictions_batch._build_response(
        client=Client(base_url="http://127.0.0.1"), response=httpx.Response(200, json=odd)
    )
    assert isinstance(built_predictions.parsed, PredictionBatchResponse)
    assert built_predictions.parsed.results[0].metadata.confidence == "very_high"
