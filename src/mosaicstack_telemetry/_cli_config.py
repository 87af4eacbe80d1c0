"""The CLI's effective configuration: options, then environment, then defaults, with sources.

`TelemetryConfig` already reads the environment; the CLI only needs to know *where* each value
came from (for `config` and `doctor`) and to supply a default spool in the user's data
directory, since a short-lived command without a spool would lose every event it cannot send.
"""

from __future__ import annotations

import argparse
import os
import re
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from mosaicstack_telemetry._config import _ENV_FILL, _HEX64, ENV_ENABLED, TelemetryConfig

APP_NAME = "mosaicstack-telemetry"
SPOOL_FILE = "spool.sqlite3"
#: Any run of 64 hex digits looks like a key: scrubbed from everything the CLI prints.
_KEYLIKE = re.compile(r"[0-9a-fA-F]{64}")

#: The option of each field the CLI lets the user set (dest name -> config field).
OPTION_FIELDS = {
    "server_url": "--server-url",
    "api_key": "--api-key / --api-key-file",
    "instance_id": "--instance-id",
    "spool_path": "--spool",
    "request_timeout_seconds": "--request-timeout",
    "max_retries": "--max-retries",
}
#: config field -> argparse dest, where they differ.
_DESTS = {"spool_path": "spool", "request_timeout_seconds": "request_timeout"}


class UsageError(Exception):
    """Invalid input from the user: exit code 2."""


def default_spool_path() -> Path:
    """The spool in the user's data directory: platformdirs when installed (the `cli` extra),
    else `$XDG_DATA_HOME` or `~/.local/share`."""
    try:
        import platformdirs
    except ImportError:
        base = os.environ.get("XDG_DATA_HOME", "").strip()
        root = Path(base) if base else Path.home() / ".local" / "share"
        return root / APP_NAME / SPOOL_FILE
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)) / SPOOL_FILE


def redact_key(key: object) -> str:
    """What the CLI shows instead of a key: whether it is set and well-formed, never a digit."""
    if not isinstance(key, str) or not key:
        return "<not set>"
    if _HEX64.fullmatch(key):
        return "<redacted, 64 hex>"
    return f"<redacted, {len(key)} chars, not 64 hex>"


def scrub(text: str, key: str = "") -> str:
    """Remove the key (and anything shaped like one) from text about to be printed."""
    if key:
        text = text.replace(key, "<redacted>")
    return _KEYLIKE.sub("<redacted>", text)


def add_config_options(parser: argparse.ArgumentParser) -> None:
    """The connection options every command accepts (each overrides its environment variable)."""
    group = parser.add_argument_group("connection (each overrides its MOSAIC_TELEMETRY_* variable)")
    group.add_argument(
        "--server-url", metavar="URL", help="server base URL [MOSAIC_TELEMETRY_SERVER_URL]"
    )
    group.add_argument(
        "--api-key-file",
        metavar="PATH",
        help="read the 64-hex API key from this file (safer than --api-key, which other "
        "users can see in the process list) [MOSAIC_TELEMETRY_API_KEY]",
    )
    group.add_argument(
        "--api-key",
        metavar="KEY",
        help="the API key itself (visible to other users in the process list: prefer the "
        "variable or --api-key-file)",
    )
    group.add_argument(
        "--instance-id", metavar="UUID", help="instance id [MOSAIC_TELEMETRY_INSTANCE_ID]"
    )
    group.add_argument(
        "--spool",
        metavar="PATH",
        help="the spool file [MOSAIC_TELEMETRY_SPOOL_PATH; default: the user's data directory]",
    )
    group.add_argument(
        "--request-timeout",
        metavar="SECONDS",
        type=float,
        help="timeout of one HTTP request (default 10)",
    )
    group.add_argument(
        "--max-retries",
        metavar="N",
        type=int,
        help="retries of a failed request (default 3; 0 fails fast)",
    )


@dataclass
class Effective:
    """A config and, per field, where its value came from."""

    config: TelemetryConfig
    sources: dict[str, str]

    def rows(self) -> list[tuple[str, str, str]]:
        """(field, printable value, source) for every field; the key redacted."""
        out = []
        for f in fields(self.config):
            value: Any = getattr(self.config, f.name)
            shown = redact_key(value) if f.name == "api_key" else repr(value)
            out.append((f.name, shown, self.sources.get(f.name, "default")))
        return out


def resolve(args: argparse.Namespace) -> Effective:
    """Build the effective config from parsed options, the environment and the defaults."""
    given: dict[str, Any] = {}
    for name in OPTION_FIELDS:
        if name == "api_key":
            continue
        value = getattr(args, _DESTS.get(name, name), None)
        if value not in (None, ""):
            given[name] = value
    key = getattr(args, "api_key", None)
    key_file = getattr(args, "api_key_file", None)
    if key_file:
        try:
            key = Path(key_file).expanduser().read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise UsageError(f"cannot read --api-key-file {key_file}: {exc.strerror}") from None
    if key:
        given["api_key"] = key.strip()

    sources: dict[str, str] = {}
    for name in given:
        sources[name] = f"option {OPTION_FIELDS[name]}"
    for name, var in _ENV_FILL.items():
        if name not in given and os.environ.get(var, "").strip():
            sources[name] = f"environment {var}"
    if os.environ.get(ENV_ENABLED, "").strip():
        sources["enabled"] = f"environment {ENV_ENABLED}"
    config = TelemetryConfig(**given)
    if not config.spool_path:
        config.spool_path = str(default_spool_path())
        sources["spool_path"] = "default (the user's data directory)"
    return Effective(config, sources)
