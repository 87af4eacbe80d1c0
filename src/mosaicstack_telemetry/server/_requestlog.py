"""The request log's records: what the server keeps of each request, bounded in memory.

The middleware (`FaultsAndRecords` in `_app.py`) reads each answer as it leaves, so a record
carries what the client was told (the per-event results of a 202, an error's detail) without
the endpoints knowing about the log. Nothing of a request's headers is kept but its
User-Agent: the API key never reaches a record.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from starlette.types import Message, Scope

#: The log keeps the last REQUEST_LOG_SIZE requests: a server that runs for days holds a
#: bounded log (worst case, every request a batch of 100 rejected events: about 30 MB).
REQUEST_LOG_SIZE = 1_000
EVENTS_PATH = "/v1/events/batch"
PREDICTIONS_PATH = "/v1/predictions/batch"
_ANSWER_READ_LIMIT = 256 * 1024  # bytes of an answer read (100 event results: ~10 KB)
_RESULTS_KEPT = 100  # per-event results kept per request (a batch has at most 100 events)
_FIELDS_KEPT = 12  # fields kept of one result
_TEXT_KEPT = 300  # characters kept of a message, a User-Agent or an unexpected value


@dataclass(frozen=True)
class RequestRecord:
    """One request the server saw: `status` is None for a dropped connection.

    The other fields are what the page shows: when it was answered (`at`, epoch seconds) and
    how long that took, the instance bound to the request's API key (never the key), the
    client's User-Agent, how many items of the answer had each status (`counts`: events by
    `status`, predictions by `confidence`), the per-event results other than "accepted" with
    whatever fields the answer gave them, and an error answer's `detail`. `seq` numbers the
    requests since the server started.
    """

    method: str
    path: str
    status: int | None
    fault: str | None
    at: float = 0.0
    duration_ms: float | None = None
    instance: str | None = None
    client: str | None = None
    counts: Mapping[str, int] = field(default_factory=dict, hash=False)
    results: tuple[Mapping[str, Any], ...] = field(default=(), hash=False)
    detail: str | None = None
    seq: int = 0


def is_page(path: str) -> bool:
    """The page and its JSON: never logged, so watching does not change what is shown."""
    return path in {"/", "/ui"} or path.startswith("/ui/")


class Exchange:
    """One request being answered: takes in the answer's messages, then makes its record."""

    def __init__(self, scope: Scope, fault: str | None, instance: str | None) -> None:
        self.method: str = scope["method"]
        self.path: str = scope["path"]
        self.fault = fault
        self.instance = instance
        self.status: int | None = None
        self._client = _header(scope, b"user-agent")
        self._at = time.time()
        self._started = time.monotonic()
        self._body = bytearray()
        self._keep_body = False
        self._truncated = False

    def observe(self, message: Message) -> bool:
        """Take in one message of the answer; True when it is the last one."""
        if message["type"] == "http.response.start":
            self.status = int(message["status"])
            self._keep_body = self.path in (EVENTS_PATH, PREDICTIONS_PATH) or self.status >= 400
            return False
        if message["type"] != "http.response.body":
            return False
        chunk: bytes = message.get("body", b"")
        if self._keep_body and not self._truncated:
            if len(self._body) + len(chunk) > _ANSWER_READ_LIMIT:
                self._truncated = True
            else:
                self._body += chunk
        return not message.get("more_body", False)

    def record(self, status: int | None) -> RequestRecord:
        """The record, with `status` as the client saw it (None: it got no answer)."""
        counts: dict[str, int] = {}
        results: tuple[Mapping[str, Any], ...] = ()
        detail = None
        answer = self._answer()
        if isinstance(answer, dict) and self.status is not None:
            if self.status >= 400:
                detail = _detail(answer.get("detail"))
            elif self.path == EVENTS_PATH:
                counts, results = _event_results(answer.get("results"))
            elif self.path == PREDICTIONS_PATH:
                counts = _confidences(answer.get("results"))
        elif self.status is not None and self.status >= 400 and self._body:
            detail = _short(self._body.decode("utf-8", "replace"))
        return RequestRecord(
            self.method,
            self.path,
            status,
            self.fault,
            at=self._at,
            duration_ms=round((time.monotonic() - self._started) * 1000, 3),
            instance=self.instance,
            client=self._client,
            counts=counts,
            results=results,
            detail=detail,
        )

    def _answer(self) -> Any:
        if not self._body or self._truncated:
            return None
        try:
            return json.loads(self._body)
        except ValueError:
            return None


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return _short(value.decode("latin-1"))
    return None


def _short(text: str) -> str:
    return text if len(text) <= _TEXT_KEPT else text[: _TEXT_KEPT - 1] + "…"


def _value(value: Any) -> Any:
    """A result's field as the page shows it: scalars as they are, anything else as short JSON."""
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, str):
        return _short(value)
    return _short(json.dumps(value, ensure_ascii=False, default=str))


def _event_results(results: Any) -> tuple[dict[str, int], tuple[Mapping[str, Any], ...]]:
    """Events by status, and the results other than "accepted": any status and field the
    server gives (rejected, duplicate, or one this code has never heard of) is kept as sent."""
    if not isinstance(results, list):
        return {}, ()
    counts: Counter[str] = Counter()
    kept: list[Mapping[str, Any]] = []
    for index, result in enumerate(results):
        if not isinstance(result, dict):
            counts["unreadable"] += 1
            continue
        status = str(result.get("status", "unknown"))
        counts[status] += 1
        if status != "accepted" and len(kept) < _RESULTS_KEPT:
            fields = dict(list(result.items())[:_FIELDS_KEPT])
            kept.append({"index": index, **{str(k): _value(v) for k, v in fields.items()}})
    return dict(counts), tuple(kept)


def _confidences(results: Any) -> dict[str, int]:
    counts: Counter[str] = Counter()
    for result in results if isinstance(results, list) else ():
        metadata = result.get("metadata") if isinstance(result, dict) else None
        confidence = metadata.get("confidence") if isinstance(metadata, dict) else None
        counts[f"{confidence} confidence" if confidence else "unreadable"] += 1
    return dict(counts)


def _detail(detail: Any) -> str | None:
    """An error's detail as one line: a 422's list of problems joined, long ones cut."""
    if detail is None:
        return None
    if isinstance(detail, list):
        parts = []
        for problem in detail[:10]:
            if isinstance(problem, dict) and "msg" in problem:
                loc = ".".join(str(p) for p in problem.get("loc", ()))
                parts.append(f"{loc}: {problem['msg']}" if loc else str(problem["msg"]))
            else:
                parts.append(str(_value(problem)))
        text = "; ".join(parts) + ("; …" if len(detail) > 10 else "")
        return _short(text)
    return _short(detail) if isinstance(detail, str) else str(_value(detail))
