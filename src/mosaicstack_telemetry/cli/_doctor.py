"""`mosaic-telemetry doctor`: is this machine able to deliver telemetry, and if not, why.

Each check says ok / warn / FAIL with a reason; any FAIL makes the exit code 1.

Auth is probed with the v1 events endpoint: an empty batch `{"events": []}` is invalid (422),
but the server checks the key first (401/403), so a 422 proves the key works and stores
nothing. The SDK has no public call that sends an empty batch (and must not: `track()` never
sends invalid data), so the probe is a plain httpx request with the headers the SDK sends
(bearer key, User-Agent, JSON). httpx is the SDK's own dependency and verifies TLS the same way.

The spool is read, never written: opened read-only with sqlite3 (`PRAGMA quick_check` and the
spool's `events` table), so a doctor run cannot change or create it, whatever the config says.
"""

from __future__ import annotations

import argparse
import ipaddress
import os
import socket
import sqlite3
import ssl
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from mosaicstack_telemetry.cli import _settings
from mosaicstack_telemetry.cli._output import FULL_BELOW, free_space, out, scrub, seconds


@dataclass
class Check:
    name: str
    status: str  # "ok", "warn", "FAIL", "skip"
    detail: str


def is_loopback(url: str) -> bool:
    """Whether the URL's host is this machine (where plain http:// is harmless)."""
    host = urlsplit(url).hostname or ""
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _hostport(url: str) -> tuple[str, int, bool]:
    parts = urlsplit(url)
    tls = parts.scheme == "https"
    return parts.hostname or "", parts.port or (443 if tls else 80), tls


def _network(url: str, timeout: float) -> list[Check]:
    host, port, tls = _hostport(url)
    checks: list[Check] = []
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        return [Check("dns", "FAIL", f"{host} does not resolve: {exc}")]
    addresses = sorted({str(info[4][0]) for info in infos})
    checks.append(Check("dns", "ok", f"{host} -> {', '.join(addresses[:4])}"))
    start = time.monotonic()
    try:
        sock = socket.create_connection((host, port), timeout=timeout)
    except OSError as exc:
        checks.append(Check("tcp", "FAIL", f"cannot connect to {host}:{port}: {exc}"))
        return checks
    checks.append(
        Check("tcp", "ok", f"{host}:{port} connected in {(time.monotonic() - start) * 1000:.0f} ms")
    )
    with sock:
        if not tls:
            checks.append(Check("tls", "skip", "plain http://"))
            return checks
        try:
            context = ssl.create_default_context()  # as the SDK: verified, SSL_CERT_FILE honoured
            with context.wrap_socket(sock, server_hostname=host) as wrapped:
                checks.append(Check("tls", "ok", f"{wrapped.version()}, certificate verified"))
        except (OSError, ssl.SSLError) as exc:
            checks.append(Check("tls", "FAIL", f"TLS handshake failed: {exc}"))
    return checks


def _auth(eff: _settings.Effective, timeout: float) -> Check:
    """An empty batch with the SDK's headers: auth comes before the body, nothing is stored."""
    import httpx

    config = eff.config
    try:
        response = httpx.post(
            f"{config.server_url}/v1/events/batch",
            content=b'{"events": []}',
            headers={
                "Authorization": f"Bearer {config.api_key}",
                "User-Agent": config.user_agent,
                "Content-Type": "application/json",
            },
            timeout=timeout,
        )
    except Exception as exc:  # timeouts, refused or reset connections, TLS
        return Check("auth", "FAIL", f"request failed: {type(exc).__name__}: {exc}")
    status = response.status_code
    if status in (401, 403):
        meaning = "missing or malformed" if status == 401 else "not known to the server"
        return Check("auth", "FAIL", f"HTTP {status}: the API key is {meaning}")
    if status in (400, 422) or 200 <= status < 300:
        return Check("auth", "ok", f"the key is accepted (HTTP {status} for an empty batch)")
    return Check("auth", "FAIL", f"unexpected HTTP {status} from the events endpoint")


def _read_spool(path: Path) -> tuple[str, int, float | None, int]:
    """(integrity, events waiting, age of the oldest in s, evicted) of a spool file, read-only."""
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=5.0)
    try:
        (health,) = conn.execute("PRAGMA quick_check").fetchone()
        count, oldest = conn.execute("SELECT COUNT(*), MIN(created) FROM events").fetchone()
        try:
            row = conn.execute("SELECT value FROM counters WHERE name = 'evicted'").fetchone()
        except sqlite3.OperationalError:  # a spool that never evicted may lack the table
            row = None
    finally:
        conn.close()
    age = None if oldest is None else max(time.time() - float(oldest), 0.0)
    return str(health), int(count), age, int(row[0]) if row else 0


#: Free space below which the spool's disk is worth a warning.
_LOW_BELOW = 64 << 20


def _disk(path: Path) -> list[Check]:
    """The free space where the spool lives: a full disk fails every `track`."""
    free = free_space(str(path))
    if free is None:
        return []
    if free < FULL_BELOW:
        return [
            Check(
                "spool-disk",
                "FAIL",
                f"the disk holding {path} is full ({free:,} bytes free): no event can be "
                "recorded; free some space",
            )
        ]
    if free < _LOW_BELOW:
        return [Check("spool-disk", "warn", f"{free >> 20} MiB free on the disk holding {path}")]
    return []


def _spool(path_text: str) -> list[Check]:
    path = Path(path_text).expanduser()
    if not path.exists():
        parent = next((p for p in [path, *path.parents] if p.exists()), None)
        if parent is None or not parent.is_dir():
            return [Check("spool", "FAIL", f"{path}: no directory to create it in")]
        if not os.access(parent, os.W_OK):
            return [Check("spool", "FAIL", f"{path}: {parent} is not writable")]
        created = Check("spool", "ok", f"{path} does not exist yet (created by the first track)")
        return [created, *_disk(path)]
    try:
        health, count, age, evicted = _read_spool(path)
    except sqlite3.Error as exc:
        return [Check("spool", "FAIL", f"{path}: cannot be opened as a spool: {exc}"), *_disk(path)]
    checks = [Check("spool", "ok", f"{path}: {count} events waiting")]
    if age is not None:
        checks.append(Check("spool-age", "ok", f"oldest event waiting for {age:.0f} s"))
    if evicted:
        checks.append(Check("spool-evicted", "warn", f"{evicted} events evicted (spool was full)"))
    checks.append(Check("spool-integrity", "ok" if health == "ok" else "FAIL", health))
    if not os.access(path, os.W_OK):
        checks.append(Check("spool-writable", "FAIL", f"{path} is not writable"))
    return checks + _disk(path)


def _server(
    url: object, timeout: float, eff: _settings.Effective, problems: list[str]
) -> list[Check]:
    """Reachability, TLS and auth of the server URL, each skipped once an earlier one failed."""
    skip_auth = Check("auth", "skip", "needs a valid config and a reachable server")
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        return [Check("network", "skip", "no valid server URL"), skip_auth]
    try:
        _, _, tls = _hostport(url)
    except ValueError as exc:  # e.g. a port out of range
        return [
            Check("network", "FAIL", f"server_url {url!r} is not a usable URL: {exc}"),
            skip_auth,
        ]
    checks = []
    if not tls and not is_loopback(url):
        checks.append(Check("tls", "warn", "plain http:// to a non-loopback host"))
    net = _network(url, timeout)
    checks.extend(net)
    reachable = all(c.status != "FAIL" for c in net)
    checks.append(_auth(eff, timeout) if reachable and not problems else skip_auth)
    return checks


def checks(eff: _settings.Effective, timeout: float) -> list[Check]:
    """Every check, in order; later network checks are skipped when an earlier one failed."""
    config = eff.config
    found: list[Check] = []
    problems = config.validate()
    if problems:
        found.extend(Check("config", "FAIL", p) for p in problems)
    else:
        found.append(Check("config", "ok", "server URL, key and instance id are valid"))
    if not config.enabled:
        found.append(Check("enabled", "warn", "telemetry is disabled (MOSAIC_TELEMETRY_ENABLED)"))
    found.extend(_server(config.server_url, timeout, eff, problems))
    found.extend(_spool(config.spool_path))
    return found


def run(args: argparse.Namespace) -> int:
    eff = _settings.resolve(args)
    found = checks(eff, args.timeout)
    width = max(len(c.name) for c in found)
    out(scrub("\n".join(f"[{c.status:>4}] {c.name:<{width}}  {c.detail}" for c in found)))
    failed = sum(c.status == "FAIL" for c in found)
    out(f"{failed} problem(s) found" if failed else "no problems found")
    return 1 if failed else 0


def add_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    doctor = sub.add_parser(
        "doctor",
        parents=[common],
        help="check config, network, auth and spool",
        description="Check the config, DNS, TCP, TLS, the key (an empty batch: nothing is "
        "stored) and the spool (read-only). Exit 1 on any problem.",
    )
    doctor.add_argument("--timeout", type=seconds, default=5.0, metavar="S", help="per check (5)")
    doctor.set_defaults(func=run)
