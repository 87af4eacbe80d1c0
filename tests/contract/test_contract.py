"""The OpenAPI contract itself: valid OpenAPI 3.1, and the wire decisions it must encode.

openapi/telemetry-v1.yaml is the single source of truth of the SDK (models, client, server);
these tests pin the parts of it that the decisions (shared/spec/decisions.md) fix: the two
operations, their security, the documented error statuses and their body, and the batch limits.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml
from openapi_spec_validator import OpenAPIV31SpecValidator, validate
from openapi_spec_validator.validation.exceptions import OpenAPIValidationError

ROOT = Path(__file__).resolve().parents[2]
CONTRACT_PATH = ROOT / "openapi" / "telemetry-v1.yaml"

EVENTS_PATH = "/v1/events/batch"
PREDICTIONS_PATH = "/v1/predictions/batch"
ERROR_STATUSES = [
    "400",
    "401",
    "403",
    "408",
    "413",
    "415",
    "422",
    "429",
    "500",
    "502",
    "503",
    "504",
]
PUBLIC_ERROR_STATUSES = [s for s in ERROR_STATUSES if s not in {"401", "403"}]
ERROR_SCHEMA_REF = "#/components/schemas/ErrorResponse"


@pytest.fixture(scope="module")
def contract() -> dict[str, Any]:
    with CONTRACT_PATH.open(encoding="utf-8") as f:
        loaded = yaml.safe_load(f)
    assert isinstance(loaded, dict)
    return loaded


def resolve(contract: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    """Follow local `$ref`s (`#/a/b/c`) until a node without one."""
    seen: set[str] = set()
    while "$ref" in node:
        ref = node["$ref"]
        assert isinstance(ref, str)
        assert ref.startswith("#/"), f"only local references are expected, got {ref}"
        assert ref not in seen, f"reference cycle at {ref}"
        seen.add(ref)
        target: Any = contract
        for part in ref[2:].split("/"):
            target = target[part]
        node = target
    return node


def operation(contract: dict[str, Any], path: str) -> dict[str, Any]:
    op = contract["paths"][path]["post"]
    assert isinstance(op, dict)
    return op


def schema(contract: dict[str, Any], name: str) -> dict[str, Any]:
    found = contract["components"]["schemas"][name]
    assert isinstance(found, dict)
    return found


# --- validity ------------------------------------------------------------------------------


def test_contract_is_valid_openapi_3_1(contract: dict[str, Any]) -> None:
    assert contract["openapi"].startswith("3.1.")
    validate(contract, cls=OpenAPIV31SpecValidator)  # raises on any violation


def test_validator_rejects_a_broken_contract(contract: dict[str, Any]) -> None:
    """The validity check above is not vacuous: the same validator rejects a damaged copy."""
    broken = copy.deepcopy(contract)
    broken["paths"][EVENTS_PATH]["post"]["responses"]["202"] = {"content": {}}  # no description
    with pytest.raises(OpenAPIValidationError):
        validate(broken, cls=OpenAPIV31SpecValidator)


# --- operations and security ---------------------------------------------------------------


def test_exactly_the_two_operations(contract: dict[str, Any]) -> None:
    found = {
        (path, method, op.get("operationId"))
        for path, item in contract["paths"].items()
        for method, op in item.items()
        if method in {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
    }
    assert found == {
        (EVENTS_PATH, "post", "submit_events_batch"),
        (PREDICTIONS_PATH, "post", "query_predictions_batch"),
    }


def test_bearer_scheme(contract: dict[str, Any]) -> None:
    schemes = contract["components"]["securitySchemes"]
    assert list(schemes) == ["bearerAuth"]
    assert (schemes["bearerAuth"]["type"], schemes["bearerAuth"]["scheme"]) == ("http", "bearer")


def test_events_require_bearer_auth(contract: dict[str, Any]) -> None:
    assert operation(contract, EVENTS_PATH)["security"] == [{"bearerAuth": []}]


def test_predictions_are_public(contract: dict[str, Any]) -> None:
    # An explicit empty list overrides the document-wide bearer requirement.
    assert contract["security"] == [{"bearerAuth": []}]
    assert operation(contract, PREDICTIONS_PATH)["security"] == []


# --- request and response bodies -----------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "request_schema", "success", "response_schema"),
    [
        (EVENTS_PATH, "BatchEventRequest", "202", "BatchEventResponse"),
        (PREDICTIONS_PATH, "PredictionBatchRequest", "200", "PredictionBatchResponse"),
    ],
)
def test_request_and_success_bodies(
    contract: dict[str, Any], path: str, request_schema: str, success: str, response_schema: str
) -> None:
    op = operation(contract, path)
    assert op["requestBody"]["required"] is True
    assert list(op["requestBody"]["content"]) == ["application/json"]
    media = op["requestBody"]["content"]["application/json"]
    assert media["schema"] == {"$ref": f"#/components/schemas/{request_schema}"}
    assert media["examples"], "every request body has examples (schemathesis's examples phase)"
    successes = [s for s in op["responses"] if s.startswith("2")]
    assert successes == [success]
    body = resolve(contract, op["responses"][success])
    assert list(body["content"]) == ["application/json"]
    answer = body["content"]["application/json"]
    assert answer["schema"] == {"$ref": f"#/components/schemas/{response_schema}"}
    assert answer["examples"]


def test_the_202_example_mixes_every_status(contract: dict[str, Any]) -> None:
    examples = operation(contract, EVENTS_PATH)["responses"]["202"]["content"]["application/json"]
    statuses = {r["status"] for e in examples["examples"].values() for r in e["value"]["results"]}
    assert statuses == set(schema(contract, "EventStatus")["enum"])


@pytest.mark.parametrize(
    ("path", "statuses"),
    [(EVENTS_PATH, ERROR_STATUSES), (PREDICTIONS_PATH, PUBLIC_ERROR_STATUSES)],
)
def test_documented_error_statuses(
    contract: dict[str, Any], path: str, statuses: list[str]
) -> None:
    responses = operation(contract, path)["responses"]
    errors = sorted(s for s in responses if not s.startswith("2"))
    assert errors == statuses


@pytest.mark.parametrize(
    ("path", "status"),
    [(EVENTS_PATH, s) for s in ERROR_STATUSES]
    + [(PREDICTIONS_PATH, s) for s in PUBLIC_ERROR_STATUSES],
)
def test_every_error_uses_error_response(contract: dict[str, Any], path: str, status: str) -> None:
    response = resolve(contract, operation(contract, path)["responses"][status])
    assert response["description"].strip()
    assert response["content"] == {"application/json": {"schema": {"$ref": ERROR_SCHEMA_REF}}}


@pytest.mark.parametrize("path", [EVENTS_PATH, PREDICTIONS_PATH])
def test_429_declares_retry_after(contract: dict[str, Any], path: str) -> None:
    response = resolve(contract, operation(contract, path)["responses"]["429"])
    header = resolve(contract, response["headers"]["Retry-After"])
    assert header["required"] is True
    assert header["schema"] == {"type": "string"}
    # Both forms RFC 9110 allows are shown: delta-seconds and an HTTP-date.
    examples = [e["value"] for e in header["examples"].values()]
    assert any(v.isdigit() for v in examples)
    assert any(v.endswith(" GMT") for v in examples)


# Declared response headers: Retry-After on 429 (always) and 503 (when sent), and the
# challenge on 401 (RFC 9110).
HEADERS = {
    "429": {"Retry-After": True},
    "503": {"Retry-After": False},
    "401": {"WWW-Authenticate": True},
}


@pytest.mark.parametrize(
    ("path", "status"),
    [(EVENTS_PATH, s) for s in ERROR_STATUSES]
    + [(PREDICTIONS_PATH, s) for s in PUBLIC_ERROR_STATUSES],
)
def test_declared_response_headers(contract: dict[str, Any], path: str, status: str) -> None:
    response = resolve(contract, operation(contract, path)["responses"][status])
    headers = {
        name: resolve(contract, header)["required"]
        for name, header in response.get("headers", {}).items()
    }
    assert headers == HEADERS.get(status, {})


def test_error_response_schema(contract: dict[str, Any]) -> None:
    error = schema(contract, "ErrorResponse")
    assert error["required"] == ["detail"]
    assert error["properties"]["detail"]["anyOf"] == [
        {"type": "string"},
        {"type": "array", "items": {"$ref": "#/components/schemas/ValidationErrorItem"}},
    ]
    item = schema(contract, "ValidationErrorItem")
    assert sorted(item["required"]) == ["loc", "msg", "type"]
    assert item["properties"]["loc"]["items"] == {
        "anyOf": [{"type": "string"}, {"type": "integer"}]
    }


# --- limits --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "field", "item", "low", "high"),
    [
        ("BatchEventRequest", "events", "TaskCompletionEvent", 1, 100),
        ("PredictionBatchRequest", "queries", "PredictionQuery", 1, 50),
    ],
)
def test_batch_limits(
    contract: dict[str, Any], name: str, field: str, item: str, low: int, high: int
) -> None:
    request = schema(contract, name)
    assert request["type"] == "object"
    assert request["additionalProperties"] is False
    assert request["required"] == [field]
    assert set(request["properties"]) == {field}
    array = request["properties"][field]
    assert array["type"] == "array"
    assert (array["minItems"], array["maxItems"]) == (low, high)
    assert array["items"] == {"$ref": f"#/components/schemas/{item}"}


@pytest.mark.parametrize("name", ["TaskCompletionEvent", "PredictionQuery"])
def test_request_items_forbid_unknown_fields(contract: dict[str, Any], name: str) -> None:
    assert schema(contract, name)["additionalProperties"] is False


@pytest.mark.parametrize("field", ["cost_usd_micros", "duration_ms"])
def test_integer_maps_require_median(contract: dict[str, Any], field: str) -> None:
    data = schema(contract, "PredictionData")
    assert field in data["required"]
    prop = resolve(contract, data["properties"][field])
    assert prop["type"] == "object"
    assert prop["required"] == ["median"]
    # Declared under properties too, so other ecosystems' generators type it (issue 14).
    assert prop["properties"]["median"]["type"] == "integer"
    assert prop["additionalProperties"] == {"type": "integer"}


def test_no_prediction_is_null_and_fallback_levels(contract: dict[str, Any]) -> None:
    response = schema(contract, "PredictionResponse")
    assert response["properties"]["prediction"]["anyOf"] == [
        {"$ref": "#/components/schemas/PredictionData"},
        {"type": "null"},
    ]
    metadata = schema(contract, "PredictionMetadata")["properties"]
    assert (metadata["fallback_level"]["minimum"], metadata["fallback_level"]["maximum"]) == (-1, 3)
    confidence = resolve(contract, metadata["confidence"])
    assert confidence["enum"] == ["high", "medium", "low", "none"]
    assert confidence["x-open-enum"] is True


def test_statuses_are_enums_not_patterns(contract: dict[str, Any]) -> None:
    """Other ecosystems' generators type an enum exactly; a pattern reads as any string."""
    result = schema(contract, "BatchEventResult")["properties"]
    status = resolve(contract, result["status"])
    assert status["enum"] == ["accepted", "rejected", "duplicate"]
    assert status["x-open-enum"] is True
    found = [
        (name, prop)
        for name, s in contract["components"]["schemas"].items()
        for prop, value in s.get("properties", {}).items()
        if "pattern" in value
    ]
    assert found == []


def test_limits_and_idempotency_are_described(contract: dict[str, Any]) -> None:
    text = contract["info"]["description"]
    for needle in ("1 to 100 events", "1 to 50 queries", "1 MiB", "415", "duplicate"):
        assert needle in text
    assert contract["info"]["contact"]["url"]


def test_every_always_sent_field_has_a_default(contract: dict[str, Any]) -> None:
    """x-always-send only makes sense on an optional field with a default (schema_version)."""
    event = schema(contract, "TaskCompletionEvent")
    marked = [n for n, p in event["properties"].items() if p.get("x-always-send")]
    assert marked == ["schema_version"]
    assert all("default" in event["properties"][n] for n in marked)
