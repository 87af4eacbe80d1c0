"""The CLI's effective configuration: options, then environment, then defaults, with sources.

`TelemetryConfig` already reads the environment; the CLI only needs to know *where* each value
came from (for `config` and `doctor`) and to supply a default spool in the user's data
directory, since a short-lived command without a spool would lose every event it cannot send.
"""

from __future__ import annotations

import os

from mosaicstack_telemetry.cli._output import UsageError, remember_key

# Every command reads this module: it imports neither typing, dataclasses nor pathlib (each a
# few percent of a `track` run). Type checkers take any name TYPE_CHECKING as true.
TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from pathlib import Path
    from typing import Any

    from mosaicstack_telemetry import TelemetryConfig

APP_NAME = "mosaicstack-telemetry"
SPOOL_FILE = "spool.sqlite3"
ENV_ENABLED = "MOSAIC_TELEMETRY_ENABLED"
#: The fields an environment variable fills when nothing else set them (TelemetryConfig's own
#: rule; tests/cli checks that these are the variables it reads).
ENV_VARS = {
    "server_url": "MOSAIC_TELEMETRY_SERVER_URL",
    "api_key": "MOSAIC_TELEMETRY_API_KEY",
    "instance_id": "MOSAIC_TELEMETRY_INSTANCE_ID",
    "spool_path": "MOSAIC_TELEMETRY_SPOOL_PATH",
}
#: The instance id of a disabled config that had none (see TelemetryConfig).
PLACEHOLDER_INSTANCE = "00000000-0000-0000-0000-000000000000"

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


def default_spool_path() -> Path:
    """The spool in the user's data directory: platformdirs when installed (the `cli` extra),
    else `$XDG_DATA_HOME` or `~/.local/share`."""
    from pathlib import Path

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
    if len(key) == 64 and all(ch in "0123456789abcdefABCDEF" for ch in key):
        return "<redacted, 64 hex>"
    return f"<redacted, {len(key)} chars, not 64 hex>"


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


class Effective:
    """A config and, per field, where its value came from."""

    __slots__ = ("config", "sources")

    def __init__(self, config: TelemetryConfig, sources: dict[str, str]) -> None:
        self.config, self.sources = config, sources

    def values(self) -> list[tuple[str, Any, str]]:
        """(field, value, source) for every field; the key replaced by its redacted form."""
        from dataclasses import fields

        rows = []
        for f in fields(self.config):
            value: Any = getattr(self.config, f.name)
            if f.name == "api_key":
                value = redact_key(value)
            rows.append((f.name, value, self.sources.get(f.name, "default")))
        return rows


def resolve(args: argparse.Namespace) -> Effective:
    """Build the effective config from parsed options, the environment and the defaults."""
    from mosaicstack_telemetry import TelemetryConfig

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
        from pathlib import Path

        try:
            key = Path(key_file).expanduser().read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise UsageError(f"cannot read --api-key-file {key_file}: {exc.strerror}") from None
    if key:
        given["api_key"] = key.strip()

    sources: dict[str, str] = {}
    for name in given:
        sources[name] = f"option {OPTION_FIELDS[name]}"
    for name, var in ENV_VARS.items():
        if name not in given and os.environ.get(var, "").strip():
            sources[name] = f"environment {var}"
    if os.environ.get(ENV_ENABLED, "").strip():
        sources["enabled"] = f"environment {ENV_ENABLED}"
    config = TelemetryConfig(**given)
    remember_key(config.api_key)
    if "instance_id" not in sources and config.instance_id == PLACEHOLDER_INSTANCE:
        sources["instance_id"] = "placeholder (telemetry is disabled)"
    if not config.spool_path:
        config.spool_path = str(default_spool_path())
        sources["spool_path"] = "default (the user's data directory)"
    return Effective(config, sources)


def required(args: argparse.Namespace) -> Effective:
    """The effective config; an enabled, invalid one is a usage error (exit 2)."""
    eff = resolve(args)
    if eff.config.enabled:
        problems = eff.config.validate()
        if problems:
            lines = "\n".join(f"  {p}" for p in problems)
            # The three a machine must be given: said only when one of them is the problem
            # (a bad --request-timeout alone needs no word about them).
            essentials = ("server_url", "api_key", "instance_id")
            hint = (
                "set MOSAIC_TELEMETRY_SERVER_URL, MOSAIC_TELEMETRY_API_KEY and "
                "MOSAIC_TELEMETRY_INSTANCE_ID (or --server-url, --api-key-file, --instance-id); "
                if any(p.startswith(essentials) for p in problems)
                else ""
            )
            raise UsageError(
                "the telemetry config is incomplete or invalid:\n"
                f"{lines}\n{hint}see `mosaic-telemetry config`"
            )
    return eff


def disabled(eff: Effective) -> bool:
    """True (and says so on stderr) when the kill switch is on: the command does nothing."""
    if eff.config.enabled:
        return False
    from mosaicstack_telemetry.cli._output import err

    err("mosaic-telemetry: telemetry is disabled (MOSAIC_TELEMETRY_ENABLED); nothing done")
    return True
