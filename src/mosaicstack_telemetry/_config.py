"""`TelemetryConfig`: the client's settings, with environment variable overrides."""

from __future__ import annotations

import math
import os
import re
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from typing import Any

from mosaicstack_telemetry._errors import DeliveryError
from mosaicstack_telemetry._version import __version__

# The event type is `TaskCompletionEvent`; spelled `Any` here so that the config (which the CLI
# reads on every start) never imports pydantic, and `typing.get_type_hints` still resolves.
OnError = Callable[[DeliveryError, Sequence[Any]], None]
BeforeSend = Callable[[Any], Any]

_HEX64 = re.compile(r"[0-9a-fA-F]{64}")
_TRUTHY = frozenset({"1", "true", "yes"})
# The fields that environment variables fill when the constructor left them empty.
_ENV_FILL = {
    "server_url": "MOSAIC_TELEMETRY_SERVER_URL",
    "api_key": "MOSAIC_TELEMETRY_API_KEY",
    "instance_id": "MOSAIC_TELEMETRY_INSTANCE_ID",
    "spool_path": "MOSAIC_TELEMETRY_SPOOL_PATH",
}
ENV_ENABLED = "MOSAIC_TELEMETRY_ENABLED"
ENV_DEBUG = "MOSAIC_TELEMETRY_DEBUG"
ENV_CONCURRENCY = "MOSAIC_TELEMETRY_MAX_CONCURRENT_REQUESTS"
DEFAULT_USER_AGENT = f"mosaicstack-telemetry-python/{__version__}"


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass(repr=False)
class TelemetryConfig:
    """All settings of a `TelemetryClient`.

    Environment variables are read in `__post_init__`: `MOSAIC_TELEMETRY_ENABLED`, when set
    and non-empty, always decides `enabled` (an operator's kill switch); the server URL, API key
    and instance id variables fill their field only when the constructor left it empty.
    """

    server_url: str = ""
    api_key: str = ""
    instance_id: str = ""
    enabled: bool = True
    submit_interval_seconds: float = 300.0
    max_queue_size: int = 1000
    batch_size: int = 100
    request_timeout_seconds: float = 10.0
    prediction_cache_ttl_seconds: float = 21600.0
    dry_run: bool = False
    max_retries: int = 3
    user_agent: str = DEFAULT_USER_AGENT
    #: Beyond the reference: the longest `stop()` / `flush()` may take by default.
    shutdown_timeout_seconds: float = 20.0
    #: Beyond the reference: a SQLite file that keeps events until the server accepts them
    #: ("" = memory only). Shared safely by several processes.
    spool_path: str = ""
    #: Beyond the reference: the spool's bound; past it the oldest events are evicted.
    spool_max_events: int = 100_000
    #: Beyond the reference: the most requests in flight at once. The sender starts with one,
    #: adds one per success up to this bound, and halves on timeouts, 429 and 5xx.
    max_concurrent_requests: int = 4
    #: Beyond the reference: called as `on_error(error, events)` from the sender when a batch
    #: is dropped (a status retrying cannot fix) or abandoned (undelivered at exit). Its own
    #: exceptions are logged and counted, never raised.
    on_error: OnError | None = None
    #: Beyond the reference: called as `before_send(event)` in `track()`; returns the event
    #: to queue (changed or not) or None to drop it. Its exceptions drop the event (counted).
    before_send: BeforeSend | None = None
    #: Beyond the reference: log the SDK's DEBUG lines to stderr without configuring logging.
    debug: bool = False

    def __post_init__(self) -> None:
        enabled = os.environ.get(ENV_ENABLED, "").strip()
        if enabled:
            self.enabled = enabled.lower() in _TRUTHY
        for name, var in _ENV_FILL.items():
            if not getattr(self, name):
                setattr(self, name, os.environ.get(var, "").strip())
        debug = os.environ.get(ENV_DEBUG, "").strip()
        if debug and not self.debug:
            self.debug = debug.lower() in _TRUTHY
        concurrency = os.environ.get(ENV_CONCURRENCY, "").strip()
        if concurrency and self.max_concurrent_requests == 4:
            # Left unparsed when not a number: validate() reports it with what was typed.
            value: Any = int(concurrency) if concurrency.isdigit() else concurrency
            self.max_concurrent_requests = value
        if isinstance(self.server_url, str):
            self.server_url = self.server_url.strip().rstrip("/")

    def __repr__(self) -> str:
        # The key is a secret: show only whether one is set.
        parts = []
        for f in fields(self):
            value: Any = getattr(self, f.name)
            if f.name == "api_key":
                value = "<redacted>" if value else ""
            parts.append(f"{f.name}={value!r}")
        return f"TelemetryConfig({', '.join(parts)})"

    def validate(self) -> list[str]:
        """Return one message per failed check; an empty list means the config is valid.

        Messages never contain the API key.
        """
        errors: list[str] = []
        url = self.server_url
        if not isinstance(url, str) or not url:
            errors.append("server_url is required (e.g. https://tel-api.mosaicstack.dev)")
        elif not url.startswith(("http://", "https://")):
            errors.append(f"server_url must start with http:// or https:// (got {url!r})")
        if not isinstance(self.api_key, str) or not _HEX64.fullmatch(self.api_key):
            errors.append("api_key must be a 64-character hexadecimal string")
        if not _is_uuid(self.instance_id):
            errors.append(f"instance_id must be a valid UUID (got {self.instance_id!r})")
        if not _is_number(self.submit_interval_seconds) or self.submit_interval_seconds <= 0:
            errors.append(
                f"submit_interval_seconds must be positive (got {self.submit_interval_seconds!r})"
            )
        if not _is_int(self.max_queue_size) or self.max_queue_size <= 0:
            errors.append(f"max_queue_size must be positive (got {self.max_queue_size!r})")
        if not _is_int(self.batch_size) or not 1 <= self.batch_size <= 100:
            errors.append(f"batch_size must be between 1 and 100 (got {self.batch_size!r})")
        if not _is_number(self.request_timeout_seconds) or self.request_timeout_seconds <= 0:
            errors.append(
                f"request_timeout_seconds must be positive (got {self.request_timeout_seconds!r})"
            )
        # Beyond the reference's list: values that would otherwise break the client later.
        if not _is_int(self.max_retries) or self.max_retries < 0:
            errors.append(f"max_retries must be 0 or more (got {self.max_retries!r})")
        shutdown = self.shutdown_timeout_seconds
        if not _is_number(shutdown) or shutdown <= 0:
            errors.append(f"shutdown_timeout_seconds must be positive (got {shutdown!r})")
        if not isinstance(self.spool_path, str):
            errors.append(f"spool_path must be a path string (got {self.spool_path!r})")
        if not _is_int(self.spool_max_events) or self.spool_max_events <= 0:
            errors.append(f"spool_max_events must be positive (got {self.spool_max_events!r})")
        limit = self.max_concurrent_requests
        if not _is_int(limit) or not 1 <= limit <= 16:
            errors.append(f"max_concurrent_requests must be between 1 and 16 (got {limit!r})")
        for name in ("on_error", "before_send"):
            hook = getattr(self, name)
            if hook is not None and not callable(hook):
                errors.append(f"{name} must be a function or None (got {hook!r})")
        ttl = self.prediction_cache_ttl_seconds
        if not _is_number(ttl) or ttl < 0:
            errors.append(f"prediction_cache_ttl_seconds must be 0 or more (got {ttl!r})")
        return errors


def is_loopback(url: str) -> bool:
    """Whether `url` names this machine (so plain http:// keeps the key on it)."""
    import ipaddress
    from urllib.parse import urlsplit

    host = urlsplit(url).hostname or ""
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _is_uuid(value: object) -> bool:
    if isinstance(value, uuid.UUID):
        return True
    if not isinstance(value, str) or not value:
        return False
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True
