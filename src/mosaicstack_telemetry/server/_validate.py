"""The contract, loaded once, and validators built from its `components/schemas`.

The server validates with the contract itself (jsonschema-rs, draft 2020-12), never with the
SDK's pydantic models: a bug shared by the generated models and the server would otherwise
pass the contract tests unnoticed.
"""

from __future__ import annotations

import copy
import functools
import importlib.resources
import json
import re
from dataclasses import dataclass
from typing import Any

import jsonschema_rs
import yaml

NIL_UUID = "00000000-0000-0000-0000-000000000000"


# The contract bounds every error body (ValidationErrorItem, ErrorResponse, BatchEventResult):
# a validator's message quotes the offending value, which may be the whole request.
MAX_PROBLEMS = 20  # items of a 422's detail
MAX_MSG = 300  # ValidationErrorItem.msg
MAX_LOC = 16  # ValidationErrorItem.loc items
MAX_LOC_PART = 100  # one string in loc (a key is the client's text)
MAX_TYPE = 64
MAX_EVENT_ERROR = 500  # BatchEventResult.error


def clip(text: str, limit: int) -> str:
    """`text` cut to at most `limit` characters, marked with an ellipsis when cut."""
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


@dataclass(frozen=True)
class Problem:
    """One validation failure, in the contract's `ValidationErrorItem` shape."""

    loc: tuple[str | int, ...]
    msg: str
    type: str

    def as_dict(self) -> dict[str, Any]:
        loc = [p if isinstance(p, int) else clip(p, MAX_LOC_PART) for p in self.loc[:MAX_LOC]]
        return {"loc": loc, "msg": clip(self.msg, MAX_MSG), "type": clip(self.type, MAX_TYPE)}


@functools.lru_cache(maxsize=1)
def contract() -> dict[str, Any]:
    """The contract shipped in the generated package (works in editable installs and wheels)."""
    resource = importlib.resources.files("_mosaicstack_telemetry_generated") / "telemetry-v1.yaml"
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    loaded: dict[str, Any] = yaml.load(resource.read_text(encoding="utf-8"), Loader=loader)  # noqa: S506  # a safe loader
    return loaded


@functools.lru_cache(maxsize=1)
def contract_json() -> bytes:
    """`/openapi.json`, serialized once."""
    return json.dumps(contract(), separators=(",", ":")).encode()


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


class Validator:
    """A compiled validator for one schema, reporting failures as `Problem`s."""

    def __init__(self, schema: dict[str, Any], components: dict[str, Any]) -> None:
        self._validator = jsonschema_rs.Draft202012Validator(
            {**schema, "components": components}, validate_formats=True
        )

    def is_valid(self, instance: Any) -> bool:
        return bool(self._validator.is_valid(instance))

    def problems(self, instance: Any, prefix: tuple[str | int, ...] = ()) -> list[Problem]:
        found: list[Problem] = []
        for error in self._validator.iter_errors(instance):
            kind = _snake(type(error.kind).__name__)
            found.append(Problem(prefix + tuple(error.instance_path), error.message, kind))
        return found


@dataclass(frozen=True)
class Validators:
    """Everything the app validates, built from the contract."""

    envelope: Validator  # BatchEventRequest without its `items`: the envelope alone
    event: Validator  # TaskCompletionEvent
    predictions: Validator  # PredictionBatchRequest, whole
    uuid: Validator


@functools.lru_cache(maxsize=1)
def validators() -> Validators:
    """Compiled once per process: the contract does not change while the server runs."""
    components = contract()["components"]
    envelope = copy.deepcopy(components["schemas"]["BatchEventRequest"])
    envelope["properties"]["events"].pop("items")  # each event is judged on its own, inside the 202
    return Validators(
        envelope=Validator(envelope, components),
        event=Validator({"$ref": "#/components/schemas/TaskCompletionEvent"}, components),
        predictions=Validator({"$ref": "#/components/schemas/PredictionBatchRequest"}, components),
        uuid=Validator({"type": "string", "format": "uuid"}, components),
    )


def describe(problems: list[Problem], limit: int = 3) -> str:
    """A one-line summary of an event's failures, for its `error` field (at most 500 chars)."""
    parts = []
    for problem in problems[:limit]:
        where = clip(".".join(str(p) for p in problem.loc), MAX_LOC_PART)
        msg = clip(problem.msg, 120)
        parts.append(f"{where}: {msg}" if where else msg)
    more = len(problems) - limit
    return clip("; ".join(parts) + (f" (and {more} more)" if more > 0 else ""), MAX_EVENT_ERROR)
