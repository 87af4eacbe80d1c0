"""`TelemetryConfig`: the client's settings, with environment variable overrides."""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields

from mosaicstack_telemetry._errors import DeliveryError
from mosaicstack_telemetry._killswitch import ENV_ENABLED, TRUTHY, parse_enabled
from mosaicstack_telemetry._version import __version__

# The config is read on every CLI start, where importing `typing` is a few percent of the run:
# type checkers see `typing.Any` (they take any name TYPE_CHECKING as true); at run time only
# `typing.get_type_hints` looks, and it gets `object`.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any
else:
    Any = object

# The event type is `TaskCompletionEvent`; spelled `Any` here so that the config never imports
# pydantic, and `typing.get_type_hints` still resolves.
OnError = Callable[[DeliveryError, Sequence[Any]], None]
BeforeSend = Callable[[Any], Any]

_HEX = frozenset("0123456789abcdefABCDEF")
#: http(s)://host[:port][/path]: a URL `_url_problem` accepts at a glance (the path printable
#: ASCII, without the `?` or `#` of a query or fragment).
_SIMPLE_URL = re.compile(r"https?://[A-Za-z0-9.-]+(?::([0-9]{1,5}))?(?:/[!\"$->@-~]*)?")
_CANONICAL_UUID = re.compile(r"[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}")
#: The instance id a disabled config gets when none is set, so code that builds events from
#: `config.instance_id` keeps working with only the kill switch set. `validate()` rejects it
#: in an enabled config: an event with this id can never be sent.
DISABLED_INSTANCE_ID = "00000000-0000-0000-0000-000000000000"
# The fields that environment variables fill when the constructor left them empty.
_ENV_FILL = {
    "server_url": "MOSAIC_TELEMETRY_SERVER_URL",
    "api_key": "MOSAIC_TELEMETRY_API_KEY",
    "instance_id": "MOSAIC_TELEMETRY_INSTANCE_ID",
    "spool_path": "MOSAIC_TELEMETRY_SPOOL_PATH",
}
ENV_DEBUG = "MOSAIC_TELEMETRY_DEBUG"
ENV_CONCURRENCY = "MOSAIC_TELEMETRY_MAX_CONCURRENT_REQUESTS"
DEFAULT_USER_AGENT = f"mosaicstack-telemetry-python/{__version__}"


def _got(value: object) -> str:
    """How a rejected value is quoted: a number as it is, anything else with its type."""
    if _is_number(value) or value is None:
        return repr(value)
    return f"{value!r}, a {type(value).__name__}"


def _key_problem(key: object) -> str | None:
    """Why `key` is not 64 hex digits, in terms that never reveal any part of it."""
    if not isinstance(key, str):
        return f"got a {type(key).__name__}"
    if not key:
        return "it is not set"
    bad = next((i for i, ch in enumerate(key) if ch not in _HEX), None)
    if bad is not None:
        return f"got {len(key)} characters; character {bad + 1} is not hexadecimal"
    if len(key) != 64:
        return f"got {len(key)} hexadecimal digits"
    return None


def _url_problem(url: str) -> str | None:
    simple = _SIMPLE_URL.fullmatch(url)
    if simple and int(simple.group(1) or 0) <= 65535:
        return None  # what the checks below accept, without importing urllib (every CLI run)
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  # raises ValueError for a port out of range or not a number
    except ValueError as exc:
        return f"is not a usable URL: {exc}"
    if parts.scheme not in ("http", "https") or not url.startswith(("http://", "https://")):
        return "must start with http:// or https://"
    if not parts.hostname:
        return "must name a host after the scheme"
    if any(ch.isspace() or not ch.isprintable() for ch in url):
        return "must not contain spaces or control characters"
    if parts.query or parts.fragment or "?" in url or "#" in url:
        return (
            "must not have a query or a fragment: it is the server's base URL, to which the SDK "
            "appends /v1/events/batch"
        )
    return None


def _header_problem(value: object) -> str | None:
    """Why `value` cannot be an HTTP header value, or None."""
    if not isinstance(value, str):
        return f"got {_got(value)}"
    bad = next((i for i, ch in enumerate(value) if not " " <= ch <= "~"), None)
    if bad is not None:
        return f"character {bad + 1} of {value!r} is not printable ASCII"
    if value != value.strip():
        return f"{value!r} begins or ends with a space, which HTTP does not allow"
    return None


_warned_concurrency: set[str] = set()


def _env_concurrency(typed: str) -> int:
    """`MOSAIC_TELEMETRY_MAX_CONCURRENT_REQUESTS`, or the default (4) with a warning, once per
    value, when it is not an integer from 1 to 16: a typo in a tuning variable must not
    invalidate the config, and so drop every event. ASCII digits only: `str.isdigit()` also
    takes "²" (`int()` raises) and "٣" (3)."""
    if typed.isascii() and typed.isdigit() and 1 <= int(typed) <= 16:
        return int(typed)
    if typed not in _warned_concurrency:
        import logging

        _warned_concurrency.add(typed)
        logging.getLogger("mosaicstack_telemetry").warning(
            "%s=%r is not an integer from 1 to 16: it is ignored, max_concurrent_requests stays 4",
            ENV_CONCURRENCY,
            typed[:40],
        )
    return 4


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass(repr=False)
class TelemetryConfig:
    """All settings of a `TelemetryClient`.

    Environment variables are read when the config is created: `MOSAIC_TELEMETRY_ENABLED`, when
    set and non-empty, always decides `enabled` (an operator's kill switch: `1/true/yes/on`
    enable, `0/false/no/off` disable, anything else disables with a warning); the server URL,
    API key, instance id and spool path variables fill their field only when the constructor
    left it empty. A disabled config without an instance id gets the placeholder
    `00000000-0000-0000-0000-000000000000`, so `EventBuilder(instance_id=config.instance_id)`
    still builds; `validate()` rejects the placeholder in an enabled config.
    """

    #: Base URL of the server (`MOSAIC_TELEMETRY_SERVER_URL`); trailing slashes are stripped.
    server_url: str = ""
    #: 64 hex digits (`MOSAIC_TELEMETRY_API_KEY`); never logged, shown or put in a repr.
    api_key: str = ""
    #: The UUID of this installation, bound to the key (`MOSAIC_TELEMETRY_INSTANCE_ID`).
    instance_id: str = ""
    #: Off: no network at all and `track()` drops silently (`MOSAIC_TELEMETRY_ENABLED` wins).
    enabled: bool = True
    #: How often the sender flushes; it also wakes as soon as `batch_size` events wait.
    submit_interval_seconds: float = 300.0
    #: Events held in memory; when full, the oldest is evicted (logged, counted).
    max_queue_size: int = 1000
    #: Events per request, 1 to 100.
    batch_size: int = 100
    #: Bounds each request as a whole, from connect to the last byte.
    request_timeout_seconds: float = 10.0
    #: How long a fetched prediction is served from the cache.
    prediction_cache_ttl_seconds: float = 21600.0
    #: Validate, serialize and log each batch at INFO; send nothing.
    dry_run: bool = False
    #: Retries of a failed request after the first attempt (0: none).
    max_retries: int = 3
    #: Sent on every request.
    user_agent: str = DEFAULT_USER_AGENT
    #: The longest `stop()` / `flush()` may take by default.
    shutdown_timeout_seconds: float = 20.0
    #: A SQLite file that keeps events until the server accepts them
    #: ("" = memory only). Shared safely by several processes.
    spool_path: str = ""
    #: The spool's bound; past it the oldest events are evicted.
    spool_max_events: int = 100_000
    #: The most requests in flight at once. The sender starts with one,
    #: adds one per success up to this bound, and halves on timeouts, 429 and 5xx.
    max_concurrent_requests: int = 4
    #: Called as `on_error(error, events)` from the sender when a batch
    #: is dropped (a status retrying cannot fix) or abandoned (undelivered at exit). Its own
    #: exceptions are logged and counted, never raised.
    on_error: OnError | None = None
    #: Called as `before_send(event)` in `track()`; returns the event
    #: to queue (changed or not) or None to drop it. Its exceptions drop the event (counted).
    before_send: BeforeSend | None = None
    #: Log the SDK's DEBUG lines to stderr without configuring logging.
    debug: bool = False

    def __post_init__(self) -> None:
        enabled = os.environ.get(ENV_ENABLED, "").strip()
        if enabled:
            self.enabled = parse_enabled(enabled)
        for name, var in _ENV_FILL.items():
            if not getattr(self, name):
                setattr(self, name, os.environ.get(var, "").strip())
        debug = os.environ.get(ENV_DEBUG, "").strip()
        if debug and not self.debug:
            self.debug = debug.lower() in TRUTHY
        concurrency = os.environ.get(ENV_CONCURRENCY, "").strip()
        if concurrency and self.max_concurrent_requests == 4:
            self.max_concurrent_requests = _env_concurrency(concurrency)
        # What the user typed, quoted by validate(): "http://" is stored as "http:".
        self._typed_url = self.server_url
        if isinstance(self.server_url, str):
            self.server_url = self.server_url.strip().rstrip("/")
        if not self.enabled and not self.instance_id:
            self.instance_id = DISABLED_INSTANCE_ID

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
        if not isinstance(url, str):
            errors.append(f"server_url must be a URL string (got {_got(url)})")
        elif not url:
            errors.append("server_url is required (e.g. https://tel-api.mosaicstack.dev)")
        else:
            typed = self._typed_url
            shown = typed if isinstance(typed, str) and typed.strip().rstrip("/") == url else url
            problem = _url_problem(shown.strip())
            if problem is not None:
                errors.append(f"server_url {problem} (got {shown!r})")
        key_problem = _key_problem(self.api_key)
        if key_problem is not None:
            errors.append(f"api_key must be a 64-character hexadecimal string ({key_problem})")
        instance = self.instance_id
        if isinstance(instance, str) and not instance:
            errors.append("instance_id is required (a UUID; or MOSAIC_TELEMETRY_INSTANCE_ID)")
        elif not _is_uuid(instance):
            shown_id = repr(instance) if isinstance(instance, str) else _got(instance)
            errors.append(f"instance_id must be a valid UUID (got {shown_id})")
        elif self.enabled and str(self.instance_id) == DISABLED_INSTANCE_ID:
            errors.append(
                f"instance_id is {DISABLED_INSTANCE_ID}, the placeholder of a disabled config: "
                "set instance_id or MOSAIC_TELEMETRY_INSTANCE_ID"
            )
        interval = self.submit_interval_seconds
        if not _is_number(interval) or interval <= 0:
            errors.append(
                f"submit_interval_seconds must be a positive number (got {_got(interval)})"
            )
        if not _is_int(self.max_queue_size) or self.max_queue_size <= 0:
            errors.append(
                f"max_queue_size must be a positive integer (got {_got(self.max_queue_size)})"
            )
        if not _is_int(self.batch_size) or not 1 <= self.batch_size <= 100:
            errors.append(
                f"batch_size must be an integer between 1 and 100 (got {_got(self.batch_size)})"
            )
        timeout = self.request_timeout_seconds
        if not _is_number(timeout) or timeout <= 0:
            errors.append(
                f"request_timeout_seconds must be a positive number (got {_got(timeout)})"
            )
        # Beyond the reference's list: values that would otherwise break the client later.
        if not _is_int(self.max_retries) or self.max_retries < 0:
            errors.append(
                f"max_retries must be an integer, 0 or more (got {_got(self.max_retries)})"
            )
        shutdown = self.shutdown_timeout_seconds
        if not _is_number(shutdown) or shutdown <= 0:
            errors.append(
                f"shutdown_timeout_seconds must be a positive number (got {_got(shutdown)})"
            )
        if not isinstance(self.spool_path, str):
            errors.append(f"spool_path must be a path string (got {_got(self.spool_path)})")
        if not _is_int(self.spool_max_events) or self.spool_max_events <= 0:
            errors.append(
                f"spool_max_events must be a positive integer (got {_got(self.spool_max_events)})"
            )
        limit = self.max_concurrent_requests
        if not _is_int(limit) or not 1 <= limit <= 16:
            errors.append(
                f"max_concurrent_requests must be an integer from 1 to 16 (got {_got(limit)})"
            )
        for name in ("on_error", "before_send"):
            hook = getattr(self, name)
            if hook is not None and not callable(hook):
                errors.append(f"{name} must be a function or None (got {_got(hook)})")
        for name in ("enabled", "dry_run", "debug"):
            flag = getattr(self, name)
            if not isinstance(flag, bool):
                errors.append(f"{name} must be True or False (got {_got(flag)})")
        header_problem = _header_problem(self.user_agent)
        if header_problem is not None:
            errors.append(f"user_agent must be printable ASCII text ({header_problem})")
        ttl = self.prediction_cache_ttl_seconds
        if not _is_number(ttl) or ttl < 0:
            errors.append(
                f"prediction_cache_ttl_seconds must be a number, 0 or more (got {_got(ttl)})"
            )
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
    if isinstance(value, str) and _CANONICAL_UUID.fullmatch(value):
        return True  # what uuid.UUID() accepts, without importing uuid (the CLI's every run)
    import uuid

    if isinstance(value, uuid.UUID):
        return True
    if not isinstance(value, str) or not value:
        return False
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True
