"""The live page at `/`: what the server received, its request log, counts and predictions.

Read-only, and it needs no key: one static page with a small hand-written script and style
sheet (`static/`, shipped in the wheel; no CDN, no build step) that polls `/ui/api/state`
about once a second. A poll sends the cursor it has; while nothing changed the answer is a few
bytes and touches no table. Predictions go through the public `POST /v1/predictions/batch`,
so the page shows the answer exactly as the API gives it.

The page's answers carry a strict Content-Security-Policy, and they are refused when the Host
header is a name other than `localhost` (a DNS-rebinding page elsewhere cannot read them
through a browser); an IP address is always accepted.
"""

from __future__ import annotations

import functools
import ipaddress
from collections import Counter
from collections.abc import Awaitable, Callable
from importlib import resources
from typing import TYPE_CHECKING, Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from mosaicstack_telemetry.server import _ui_data as data
from mosaicstack_telemetry.server._requestlog import RequestRecord
from mosaicstack_telemetry.server._validate import contract

if TYPE_CHECKING:
    from mosaicstack_telemetry.server._state import ServerState

EVENTS_SHOWN = 100
EVENTS_SHOWN_MAX = 500
REQUESTS_SHOWN = 100
_PARAM_MAX = 200  # characters of a query parameter: a model name is at most 100
_ASSETS = {
    "app.js": "text/javascript; charset=utf-8",
    "app.css": "text/css; charset=utf-8",
}
_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}

Endpoint = Callable[[Request], Awaitable[Response]]


def page_routes() -> list[Route]:
    return [
        Route("/", _local_only(page), methods=["GET"]),
        Route("/ui", _local_only(page), methods=["GET"]),
        Route("/ui/static/{name}", _local_only(asset), methods=["GET"]),
        Route("/ui/api/state", _local_only(api_state), methods=["GET"]),
        Route("/ui/api/event", _local_only(api_event), methods=["GET"]),
        Route("/ui/api/distribution", _local_only(api_distribution), methods=["GET"]),
    ]


@functools.cache
def _static(name: str) -> bytes:
    return (resources.files("mosaicstack_telemetry.server") / "static" / name).read_bytes()


def host_is_local(host: str | None) -> bool:
    """True for an IP address, `localhost` or `*.localhost` (with any port), or no Host."""
    if not host:
        return True
    if host.startswith("["):
        name = host[1 : host.find("]")] if "]" in host else host
    else:
        name = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    name = name.lower().rstrip(".")
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def _local_only(endpoint: Endpoint) -> Endpoint:
    async def guarded(request: Request) -> Response:
        host = request.headers.get("host")
        if not host_is_local(host):
            port = request.scope.get("server", ("", 80))[1]
            return JSONResponse(
                {
                    "detail": f"the page answers only to localhost or an IP address, not to "
                    f"Host {host!r} (protection against DNS rebinding): open "
                    f"http://127.0.0.1:{port}/ or the server's IP address instead"
                },
                status_code=403,
                headers=_HEADERS,
            )
        response = await endpoint(request)
        response.headers.update(_HEADERS)
        return response

    return guarded


@functools.cache
def _choices() -> dict[str, list[str]]:
    """The values the prediction form offers, from the contract's enums."""
    schemas = contract()["components"]["schemas"]
    names = {"task_type": "TaskType", "provider": "Provider", "complexity": "Complexity"}
    return {field: list(schemas[name]["enum"]) for field, name in names.items()}


def _state(request: Request) -> ServerState:
    state: ServerState = request.app.state.telemetry
    return state


async def page(request: Request) -> Response:
    return Response(_static("index.html"), media_type="text/html; charset=utf-8")


async def asset(request: Request) -> Response:
    name = request.path_params["name"]
    if name not in _ASSETS:
        return JSONResponse({"detail": f"no asset {name!r}"}, status_code=404)
    return Response(_static(name), media_type=_ASSETS[name])


def _param(request: Request, name: str) -> str | None:
    value = request.query_params.get(name)
    if value is None or value == "":
        return None
    return value[:_PARAM_MAX]


def _limit(request: Request) -> int:
    raw = request.query_params.get("limit", "")
    return max(1, min(EVENTS_SHOWN_MAX, int(raw))) if raw.isdigit() else EVENTS_SHOWN


async def api_state(request: Request) -> Response:
    """Everything the page shows but predictions; `?since=CURSOR` answers only whether it
    changed, so an idle page costs one tiny request a second."""
    state = _state(request)
    cursor = f"{state.store.generation}.{state.requests_recorded}"
    if request.query_params.get("since") == cursor:
        return JSONResponse({"cursor": cursor, "changed": False})
    snapshot = await run_in_threadpool(_snapshot, state, _limit(request))
    return JSONResponse({"cursor": cursor, "changed": True, **snapshot})


def _snapshot(state: ServerState, limit: int) -> dict[str, Any]:
    store = state.store
    records = state.requests
    statuses: Counter[str] = Counter()
    for record in records:
        if record.status is not None and record.path == "/v1/events/batch":
            statuses.update(record.counts)
    return {
        "server": {
            "database": "in memory" if state.db == ":memory:" else state.db,
            "keys": len(state.keys),
            "choices": _choices(),
        },
        "total": data.total(store),
        "events": data.latest_events(store, limit),
        "counts": data.counts(store),
        "combinations": data.combinations(store),
        "requests": {
            "recorded": state.requests_recorded,
            "kept": len(records),
            "event_statuses": dict(statuses),
            "items": [record_json(r) for r in reversed(records[-REQUESTS_SHOWN:])],
        },
    }


def record_json(record: RequestRecord) -> dict[str, Any]:
    return {
        "seq": record.seq,
        "at": record.at,
        "method": record.method,
        "path": record.path,
        "status": record.status,
        "fault": record.fault,
        "duration_ms": record.duration_ms,
        "instance": record.instance,
        "client": record.client,
        "counts": dict(record.counts),
        "results": [dict(r) for r in record.results],
        "detail": record.detail,
    }


async def api_event(request: Request) -> Response:
    """One stored event: its JSON as sent, when it arrived, how many requests carried it."""
    instance_id, event_id = _param(request, "instance_id"), _param(request, "event_id")
    if instance_id is None or event_id is None:
        return JSONResponse({"detail": "give instance_id and event_id"}, status_code=400)
    state = _state(request)
    found = await run_in_threadpool(data.event, state.store, instance_id, event_id)
    if found is None:
        detail = f"no stored event {event_id} of instance {instance_id}"
        return JSONResponse({"detail": detail}, status_code=404)
    return JSONResponse({**found, "deliveries": state.delivery_count(event_id)})


async def api_distribution(request: Request) -> Response:
    """Histograms of the events matching the given dimensions (those a prediction matched)."""
    matched = {d: v for d in data.DIMENSIONS if (v := _param(request, d)) is not None}
    if "task_type" not in matched:
        return JSONResponse({"detail": "give at least task_type"}, status_code=400)
    result = await run_in_threadpool(data.distributions, _state(request).store, matched)
    return JSONResponse(result)
