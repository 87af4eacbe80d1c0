"""The ASGI app: v1 semantics of decisions.md, validated against the contract alone.

Order of checks, as the contract says: authentication (401/403) before anything is read, then
the media type (415), then the body's size (413), JSON (400) and envelope (422); then each event
on its own inside the 202 (rejected, or stored, or a duplicate for its instance).
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mosaicstack_telemetry.server._faults import FaultConfig
from mosaicstack_telemetry.server._requestlog import EVENTS_PATH, Exchange, is_page
from mosaicstack_telemetry.server._state import ServerState, bearer_key
from mosaicstack_telemetry.server._store import check_contract
from mosaicstack_telemetry.server._ui import page_routes
from mosaicstack_telemetry.server._validate import (
    MAX_PROBLEMS,
    NIL_UUID,
    Problem,
    Validator,
    clip,
    contract,
    contract_json,
    describe,
    validators,
)

logger = logging.getLogger("mosaicstack_telemetry.server")

BODY_LIMIT = 2 * 1024 * 1024  # 2 MiB: the contract promises at least 1 MiB
# The scope extension through which the server's protocol lets the app reset its connection.
ABORT_EXTENSION = "mosaicstack.abort"


class _BodyTooLarge(Exception):
    pass


MAX_DETAIL = 1000  # ErrorResponse.detail as a string


def _error(status: int, detail: Any, headers: Mapping[str, str] | None = None) -> JSONResponse:
    if isinstance(detail, str):
        detail = clip(detail, MAX_DETAIL)
    return JSONResponse({"detail": detail}, status_code=status, headers=headers)


def _problems_response(problems: list[Problem]) -> JSONResponse:
    return _error(422, [p.as_dict() for p in problems[:MAX_PROBLEMS]])


def _unsupported_media(request: Request) -> Response | None:
    """415 unless the body is declared `application/json` (parameters such as charset allowed)."""
    declared = request.headers.get("content-type", "")
    if declared.split(";", 1)[0].strip().lower() == "application/json":
        return None
    return _error(415, "the body must be application/json (send Content-Type: application/json)")


async def _read_body(request: Request, limit: int) -> bytes:
    """Read at most `limit` bytes: a larger Content-Length is refused unread, and a body that
    grows past the limit is refused as soon as it does (never buffered whole)."""
    length = request.headers.get("content-length")
    if length is not None and length.strip().isdigit() and int(length) > limit:
        raise _BodyTooLarge
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _BodyTooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _parse(body: bytes) -> Any:
    return json.loads(body, parse_constant=_reject_constant)


async def _valid_body(request: Request, state: ServerState, schema: Validator) -> Any:
    """The parsed body, or the response to send instead, checked in the contract's order:
    media type (415), size (413), JSON (400), then `schema` (422)."""
    refused = _unsupported_media(request)
    if refused is not None:
        return refused
    try:
        raw = await _read_body(request, state.body_limit)
    except _BodyTooLarge:
        return _error(413, f"the body is larger than {state.body_limit} bytes")
    try:
        body = _parse(raw)
    except (ValueError, RecursionError):
        return _error(400, "the body is not valid JSON")
    problems = schema.problems(body, ("body",))
    return _problems_response(problems) if problems else body


def _authenticate(request: Request, state: ServerState) -> str | Response:
    header = request.headers.get("authorization")
    challenge = {"WWW-Authenticate": "Bearer"}
    if header is None:
        return _error(401, "missing Authorization header", challenge)
    key = bearer_key(header)
    if key is None:
        return _error(401, "malformed Authorization header: expected Bearer <64 hex>", challenge)
    instance = state.instance_for(key)
    if instance is None:
        return _error(403, "unknown API key")
    return instance


def _event_id(event: Any) -> str | None:
    """The event's id as sent, when it is a readable UUID."""
    if isinstance(event, dict):
        value = event.get("event_id")
        if isinstance(value, str) and validators().uuid.is_valid(value):
            return value
    return None


def _verdict(event: Any, instance: str) -> tuple[str, str] | None:
    """(code, error) when the event must be rejected, else None."""
    problems = validators().event.problems(event)
    if problems:
        return "invalid_event", describe(problems)
    if str(uuid.UUID(event["instance_id"])) != instance:
        return "instance_mismatch", "instance_id is not the instance bound to the API key"
    return None


async def submit_events(request: Request) -> Response:
    state: ServerState = request.app.state.telemetry
    instance = _authenticate(request, state)  # before the body is read
    if isinstance(instance, Response):
        return instance
    body = await _valid_body(request, state, validators().envelope)
    if isinstance(body, Response):
        return body
    events: list[Any] = body["events"]
    state.delivered([i for i in map(_event_id, events) if i is not None])
    results: list[dict[str, Any]] = []
    storing: list[tuple[int, str, dict[str, Any]]] = []  # (index, canonical id, event)
    for index, event in enumerate(events):
        sent_id = _event_id(event)
        rejected = _verdict(event, instance)
        if rejected is not None:
            code, error = rejected
            results.append(_result(index, sent_id or NIL_UUID, "rejected", code, error))
            continue
        stored = event
        if sent_id is None:  # the server assigns an id to an event that carries none
            sent_id = str(uuid.uuid4())
            stored = {**event, "event_id": sent_id}
        storing.append((index, str(uuid.UUID(sent_id)), stored))
        results.append(_result(index, sent_id, "accepted"))
    if storing:
        fresh = state.store.add([(event_id, event) for _, event_id, event in storing])
        for (index, _, _), new in zip(storing, fresh, strict=True):
            if not new:  # this instance already has it: the first stored copy wins
                results[index]["status"] = "duplicate"
    counts = Counter(r["status"] for r in results)
    return JSONResponse(
        {
            "accepted": counts["accepted"],
            "rejected": counts["rejected"],
            "duplicate": counts["duplicate"],
            "results": results,
        },
        status_code=202,
    )


def _result(
    index: int, event_id: str, status: str, code: str | None = None, error: str | None = None
) -> dict[str, Any]:
    return {"index": index, "event_id": event_id, "status": status, "code": code, "error": error}


async def predictions(request: Request) -> Response:
    """Public: an Authorization header, valid or not, is ignored."""
    state: ServerState = request.app.state.telemetry
    body = await _valid_body(request, state, validators().predictions)
    if isinstance(body, Response):
        return body
    return JSONResponse({"results": [state.predictor.predict(q) for q in body["queries"]]})


async def openapi(request: Request) -> Response:
    return Response(contract_json(), media_type="application/json")


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return _error(exc.status_code, exc.detail, exc.headers)


async def _server_error(request: Request, exc: Exception) -> Response:
    logger.error("unhandled error on %s", request.url.path, exc_info=exc)
    return _error(500, "internal server error")


class FaultsAndRecords:
    """Outermost layer: records every request and injects the configured faults.

    The page's own requests (`/`, `/ui/...`) are not recorded: watching the log must not
    change it. An answer is read as it leaves, and recorded before its last part does.
    """

    def __init__(self, app: ASGIApp, state: ServerState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or is_page(scope["path"]):
            await self.app(scope, receive, send)
            return
        fault = self.state.faults.draw(scope["path"])
        config = self.state.faults.config
        exchange = Exchange(scope, fault, self._instance(scope))
        recorded: list[bool] = []

        async def recording(message: Message) -> None:
            # Recorded before the answer's end leaves: a client that has its answer sees it.
            if exchange.observe(message):
                self.state.record(exchange.record(exchange.status))
                recorded.append(True)
            await send(message)

        async def lost(message: Message) -> None:  # an answer read for the log, never sent
            exchange.observe(message)

        if fault in ("429", "500", "503"):
            headers = {"Retry-After": config.retry_after} if fault == "429" else None
            response = _error(int(fault), f"injected fault {fault}", headers)
            await response(scope, receive, recording)
        elif fault == "drop":
            abort: Callable[[], None] | None = scope.get("extensions", {}).get(ABORT_EXTENSION)
            if abort is None:  # not our protocol: a plain ASGI server cannot reset
                response = _error(500, "injected fault drop (this server cannot reset)")
                await response(scope, receive, recording)
            else:
                await self.app(scope, receive, lost)  # processed, then the answer is lost
                self.state.record(exchange.record(None))
                abort()
                for _ in range(3):  # let connection_lost run before the server notices
                    await asyncio.sleep(0)
                return
        else:
            if fault == "delay":
                # A slow server that has not started on the request yet: a client that gives
                # up meanwhile is not served, so what it was told matches what is stored.
                delayed = await _delayed(receive, config.delay_seconds)
                if delayed is None:
                    self.state.record(exchange.record(None))
                    return
                receive = delayed
            await self.app(scope, receive, recording)
        if not recorded:
            self.state.record(exchange.record(None))

    def _instance(self, scope: Scope) -> str | None:
        """The instance of an events request's API key, for the log (the key is not kept)."""
        if scope["path"] != EVENTS_PATH:
            return None
        for name, value in scope.get("headers", ()):
            if name.lower() == b"authorization":
                key = bearer_key(value.decode("latin-1"))
                return None if key is None else self.state.instance_for(key)
        return None


async def _delayed(receive: Receive, seconds: float) -> Receive | None:
    """Read the request, then wait `seconds`; None if the client disconnected meanwhile, else
    a `receive` that replays the request to the app."""
    body: list[Message] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return None
        body.append(message)
        if not message.get("more_body", False):
            break
    try:
        # After the whole body, uvicorn's receive() returns only when the client disconnects.
        if (await asyncio.wait_for(receive(), seconds))["type"] == "http.disconnect":
            return None
    except asyncio.TimeoutError:
        pass

    async def replay() -> Message:
        return body.pop(0) if body else await receive()

    return replay


def create_app(
    keys: Mapping[str, str] | None = None,
    *,
    db: str = ":memory:",
    faults: FaultConfig | None = None,
    body_limit: int = BODY_LIMIT,
) -> Starlette:
    """The ASGI app. `keys` maps each API key (64 hex) to its instance_id; `db` is a SQLite
    path (in memory by default). Its state is `app.state.telemetry` (a `ServerState`)."""
    # A store whose columns the contract no longer has fails here, not as a 500 per request.
    check_contract(contract()["components"]["schemas"]["TaskCompletionEvent"])
    state = ServerState(keys or {}, db, faults, body_limit)
    validators()  # compile now: the first request should not pay for it
    app = Starlette(
        routes=[
            Route("/v1/events/batch", submit_events, methods=["POST"]),
            Route("/v1/predictions/batch", predictions, methods=["POST"]),
            Route("/openapi.json", openapi, methods=["GET"]),
            Route("/healthz", healthz, methods=["GET"]),
            *page_routes(),
        ],
        middleware=[Middleware(FaultsAndRecords, state=state)],
        exception_handlers={HTTPException: _http_error, Exception: _server_error},
    )
    app.state.telemetry = state
    return app
