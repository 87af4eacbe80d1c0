"""HTTP on the generated low-level client: one connection pool per client, reused.

The generated code owns the base URL, the bearer header, each operation's method and path, and
response parsing. Events go out as bytes serialized straight from pydantic, through the
generated client's own httpx client: no pydantic -> attrs -> dict detour on the hot path.
"""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import httpx

from mosaicstack_telemetry._config import TelemetryConfig

# No valid answer is anywhere near this; a bigger one is not read, so it cannot eat memory.
MAX_RESPONSE_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True)
class RawResponse:
    status: int
    headers: httpx.Headers
    content: bytes | None  # None: the body was too large to read
    elapsed: float


class TotalTimeout(httpx.TimeoutException):
    """The request as a whole took longer than `request_timeout_seconds`."""


def _generated() -> tuple[ModuleType, ModuleType, Any]:
    # Imported lazily: the attrs client is only needed once something is sent.
    from _mosaicstack_telemetry_generated.client import AuthenticatedClient
    from _mosaicstack_telemetry_generated.client.api.events import submit_events_batch
    from _mosaicstack_telemetry_generated.client.api.predictions import get_predictions_batch

    return submit_events_batch, get_predictions_batch, AuthenticatedClient


class Transport:
    """Sync and async HTTP for one `TelemetryClient`.

    The sync pool serves every thread; an async pool belongs to the event loop that created it
    and is replaced, never reused, when called from another loop.
    """

    def __init__(self, config: TelemetryConfig) -> None:
        self._config = config
        self._timeout = float(config.request_timeout_seconds)
        self._lock = threading.Lock()
        self._sync: Any = None
        self._async: Any = None
        self._async_loop: asyncio.AbstractEventLoop | None = None
        self.events_api, self.predictions_api, self._client_cls = _generated()
        # Method and path of the events operation, taken from the generated code once.
        kwargs = self.events_api._get_kwargs(body=_empty_events_body())
        self.events_method: str = kwargs["method"]
        self.events_url: str = kwargs["url"]

    def _new_client(self) -> Any:
        return self._client_cls(
            base_url=self._config.server_url,
            token=self._config.api_key,
            timeout=httpx.Timeout(self._timeout),
            headers={"User-Agent": self._config.user_agent},
            raise_on_unexpected_status=False,
        )

    @property
    def generated_client(self) -> Any:
        """The generated client, for the endpoints' response parsers."""
        with self._lock:
            if self._sync is None:
                self._sync = self._new_client()
            return self._sync

    def events_request(self, body: bytes) -> dict[str, Any]:
        return {
            "method": self.events_method,
            "url": self.events_url,
            "content": body,
            "headers": {"Content-Type": "application/json"},
        }

    def send(self, request: dict[str, Any]) -> RawResponse:
        """One request, bounded as a whole (connect to last byte) by the request timeout."""
        client = self.generated_client.get_httpx_client()
        start = time.monotonic()
        deadline = start + self._timeout
        with client.stream(**request) as response:
            chunks: list[bytes] = []
            size = 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if time.monotonic() > deadline:
                    raise TotalTimeout("the response took longer than request_timeout_seconds")
                if size > MAX_RESPONSE_BYTES:
                    chunks = []
                    break
                chunks.append(chunk)
            content = b"".join(chunks) if size <= MAX_RESPONSE_BYTES else None
            return RawResponse(
                response.status_code, response.headers, content, time.monotonic() - start
            )

    def _async_client(self) -> Any:
        loop = asyncio.get_running_loop()
        with self._lock:
            if self._async is None or self._async_loop is not loop:
                # A pool of another (maybe closed) loop cannot be used here; it is dropped.
                self._async = self._new_client()
                self._async_loop = loop
            return self._async

    async def send_async(self, request: dict[str, Any]) -> RawResponse:
        client = self._async_client().get_async_httpx_client()
        start = time.monotonic()

        async def run() -> RawResponse:
            async with client.stream(**request) as response:
                chunks: list[bytes] = []
                size = 0
                async for chunk in response.aiter_bytes():
                    size += len(chunk)
                    if size > MAX_RESPONSE_BYTES:
                        chunks = []
                        break
                    chunks.append(chunk)
                content = b"".join(chunks) if size <= MAX_RESPONSE_BYTES else None
                return RawResponse(
                    response.status_code, response.headers, content, time.monotonic() - start
                )

        try:
            return await asyncio.wait_for(run(), self._timeout)
        except asyncio.TimeoutError as exc:
            raise TotalTimeout("the request took longer than request_timeout_seconds") from exc

    def parse(self, api: ModuleType, raw: RawResponse) -> Any:
        """The generated endpoint's parsed body, or None if it cannot be parsed."""
        if raw.content is None:
            return None
        response = httpx.Response(raw.status, headers=raw.headers, content=raw.content)
        try:
            return api._build_response(client=self.generated_client, response=response).parsed
        except Exception:  # a broken body: HTML, truncated JSON, wrong shape, unknown status
            return None

    def close(self) -> None:
        """Close the sync pool; a later request opens a new one."""
        with self._lock:
            client, self._sync = self._sync, None
        if client is not None:
            client.get_httpx_client().close()

    async def aclose(self) -> None:
        """Close the async pool if it belongs to the running loop (else just forget it)."""
        with self._lock:
            client, loop = self._async, self._async_loop
            self._async = self._async_loop = None
        if client is not None and loop is asyncio.get_running_loop():
            await client.get_async_httpx_client().aclose()


def _empty_events_body() -> Any:
    from _mosaicstack_telemetry_generated.client.models import BatchEventRequest

    return BatchEventRequest(events=[])
