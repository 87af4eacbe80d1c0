"""Schemathesis runs every operation of the contract against the server over real HTTP.

Positive and negative data, status codes, content types, response headers and schemas, with
zero failures. `MOSAIC_CONTRACT_EXAMPLES` sets examples per operation (scripts/contract runs
more). Positive events data must be answered 202 and predictions 200: a missing or wrong key
cannot pass as success.

The one deliberate exception (decisions.md): an envelope whose *event items* violate the
schema is answered 202 with those events rejected one by one, not with a 4xx. For the events
operation the built-in `negative_data_rejection` is replaced by `per_event_verdicts`, which
demands a 4xx for every invalid envelope and, in a 202, checks each event's verdict against
an independent validator (python-jsonschema over the contract).
"""

from __future__ import annotations

import json
import os
import secrets
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

schemathesis = pytest.importorskip("schemathesis")
jsonschema = pytest.importorskip("jsonschema")
yaml = pytest.importorskip("yaml")

from schemathesis.config import SchemathesisConfig  # noqa: E402
from schemathesis.specs.openapi.checks import negative_data_rejection  # noqa: E402

from mosaicstack_telemetry.server import start_server  # noqa: E402

CONTRACT = Path(__file__).resolve().parents[2] / "openapi" / "telemetry-v1.yaml"
EXAMPLES = int(os.environ.get("MOSAIC_CONTRACT_EXAMPLES", "40"))
KEY = secrets.token_hex(32)
INSTANCE = str(uuid.uuid4())
EVENTS_OP = "submit_events_batch"

CONFIG = SchemathesisConfig.from_dict(
    {
        "seed": int(os.environ.get("MOSAIC_CONTRACT_SEED", "20261124")),
        "generation": {"mode": "all", "max-examples": EXAMPLES},
        "auth": {"openapi": {"bearerAuth": {"bearer": KEY}}},
        "operations": [
            {
                "include-operation-id": EVENTS_OP,
                "checks": {"positive_data_acceptance": {"expected-statuses": ["202"]}},
            },
            {
                "include-operation-id": "query_predictions_batch",
                "checks": {"positive_data_acceptance": {"expected-statuses": ["200"]}},
            },
        ],
    }
)
schema = schemathesis.openapi.from_path(CONTRACT, config=CONFIG)

_DOC = yaml.safe_load(CONTRACT.read_text(encoding="utf-8"))
_COMPONENTS = {"components": _DOC["components"]}
_EVENT = jsonschema.Draft202012Validator(
    {"$ref": "#/components/schemas/TaskCompletionEvent", **_COMPONENTS},
    format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER,
)
_ENVELOPE_SCHEMA = json.loads(json.dumps(_DOC["components"]["schemas"]["BatchEventRequest"]))
_ENVELOPE_SCHEMA["properties"]["events"].pop("items")
_ENVELOPE = jsonschema.Draft202012Validator(_ENVELOPE_SCHEMA)


@pytest.fixture(scope="module")
def live_url() -> Iterator[str]:
    with start_server(keys={KEY: INSTANCE}) as srv:
        yield srv.url


def _sent_body(response: Any) -> Any:
    body = response.request.body
    if body is None:
        return None
    try:
        return json.loads(body)
    except ValueError:
        return None


@schemathesis.check
def per_event_verdicts(ctx: Any, response: Any, case: Any) -> bool | None:
    """Events operation: a 4xx for an invalid envelope; in a 202, an event is rejected exactly
    when it violates the schema or belongs to another instance."""
    body = _sent_body(response)
    envelope_ok = isinstance(body, dict) and _ENVELOPE.is_valid(body)
    status = response.status_code
    if not envelope_ok:
        if case.meta is not None and case.meta.generation.mode.is_negative and status == 202:
            raise AssertionError(f"an invalid envelope was accepted: {body!r:.300}")
        return None
    if status != 202:
        return None
    results = json.loads(response.content)["results"]
    assert len(results) == len(body["events"]), "one result per event"
    for event, result in zip(body["events"], results, strict=True):
        valid = _EVENT.is_valid(event)
        if not valid or str(uuid.UUID(event["instance_id"])) != INSTANCE:
            assert result["status"] == "rejected", f"should be rejected: {event!r:.300}"
        else:
            assert result["status"] == "accepted", f"should be accepted: {event!r:.300} {result}"
    return None


@schema.parametrize()
def test_contract(case: Any, live_url: str) -> None:
    if case.operation.definition.raw.get("operationId") == EVENTS_OP:
        case.call_and_validate(
            base_url=live_url,
            excluded_checks=[negative_data_rejection],
            additional_checks=[per_event_verdicts],
        )
    else:
        case.call_and_validate(base_url=live_url)
