"""`mosaic-telemetry doctor`: is this machine able to deliver telemetry, and if not, why.

Each check says ok / warn / FAIL with a reason; any FAIL makes the exit code 1. Auth is
checked with the v1 events endpoint only: an empty batch `{"events": []}` is invalid (422) but
the server checks the key first (401/403), so a 422 proves the key works and stores nothing.
"""

from __future__ import annotations

import socket
import sqlite3
import ssl
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from mosaicstack_telemetry._cli_config import Effective, scrub


@dataclass
class Check:
    name: str
    status: str  # "ok", "warn", "FAIL", "skip"
    detail: str


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


def _auth(eff: Effective, timeout: float) -> Check:
    """An empty batch sent the way the SDK sends (its transport: generated client, bearer
    header, User-Agent, whole-request deadline): auth comes before the body, nothing is stored."""
    import dataclasses
    import time

    from mosaicstack_telemetry._transport import HttpWire
    from mosaicstack_telemetry._wire import EVENTS, Budget, Request

    transport = HttpWire(dataclasses.replace(eff.config, request_timeout_seconds=timeout))
    try:
        response = transport.send(
            Request(EVENTS, b'{"events": []}', 0), Budget(time.monotonic() + timeout)
        )
    except Exception as exc:  # timeouts, refused or reset connections, TLS
        return Check("auth", "FAIL", f"request failed: {type(exc).__name__}: {exc}")
    finally:
        transport.close()
    status = response.status
    if status in (401, 403):
        meaning = "missing or malformed" if status == 401 else "not known to the server"
        return Check("auth", "FAIL", f"HTTP {status}: the API key is {meaning}")
    if status in (400, 422) or 200 <= status < 300:
        return Check("auth", "ok", f"the key is accepted (HTTP {status} for an empty batch)")
    return Check("auth", "FAIL", f"unexpected HTTP {status} from the events endpoint")


def _spool(path_text: str) -> list[Check]:
    path = Path(path_text).expanduser()
    if not path.exists():
        parent = next((p for p in [path, *path.parents] if p.exists()), None)
        if parent is None or not parent.is_dir():
            return [Check("spool", "FAIL", f"{path}: no directory to create it in")]
        import os

        if not os.access(parent, os.W_OK):
            return [Check("spool", "FAIL", f"{path}: {parent} is not writable")]
        return [Check("spool", "ok", f"{path} does not exist yet (created by the first track)")]
    from mosaicstack_telemetry._spool import Spool

    spool = Spool(path)
    try:
        count = spool.count()
        evicted = spool.evicted()
        age = spool.oldest_age()
        # No journal-mode check: opening a spool switches it to WAL, so it could never fail.
        (health,) = spool._connect().execute("PRAGMA quick_check").fetchone()
    except sqlite3.Error as exc:
        return [Check("spool", "FAIL", f"{path}: cannot be opened as a spool: {exc}")]
    finally:
        spool.close()
    checks = [Check("spool", "ok", f"{path}: {count} events waiting")]
    if age is not None:
        checks.append(Check("spool-age", "ok", f"oldest event waiting for {age:.0f} s"))
    if evicted:
        checks.append(Check("spool-evicted", "warn", f"{evicted} events evicted (spool was full)"))
    checks.append(Check("spool-integrity", "ok" if health == "ok" else "FAIL", str(health)))
    return checks


def _server(url: object, timeout: float, eff: Effective, problems: list[str]) -> list[Check]:
    """Reachability, TLS and auth of the server URL, each skipped once an earlier one failed."""
    from mosaicstack_telemetry._config import is_loopback as _is_loopback

    skip_auth = Check("auth", "skip", "needs a valid config and a reachable server")
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        return [Check("network", "skip", "no valid server URL"), skip_auth]
    try:
        _, _, tls = _hostport(url)
    except ValueError as exc:  # e.g. a port out of range: validate() checks the scheme only
        return [
            Check("network", "FAIL", f"server_url {url!r} is not a usable URL: {exc}"),
            skip_auth,
        ]
    checks = []
    if not tls and not _is_loopback(url):
        checks.append(Check("tls", "warn", "plain http:// to a non-loopback host"))
    net = _network(url, timeout)
    checks.extend(net)
    reachable = all(c.status != "FAIL" for c in net)
    checks.append(_auth(eff, timeout) if reachable and not problems else skip_auth)
    return checks


def run(eff: Effective, timeout: float) -> list[Check]:
    """Every check, in order; later network checks are skipped when an earlier one failed."""
    config = eff.config
    checks: list[Check] = []
    problems = config.validate()
    if problems:
        checks.extend(Check("config", "FAIL", p) for p in problems)
    else:
        checks.append(Check("config", "ok", "server URL, key and instance id are valid"))
    if not config.enabled:
        checks.append(Check("enabled", "warn", "telemetry is disabled (MOSAIC_TELEMETRY_ENABLED)"))
    url = config.server_url
    checks.extend(_server(url, timeout, eff, problems))
    checks.extend(_spool(config.spool_path))
    return checks


def report(eff: Effective, checks: list[Check]) -> str:
    width = max(len(c.name) for c in checks)
    lines = [f"[{c.status:>4}] {c.name:<{width}}  {c.detail}" for c in checks]
    return scrub(
        "\n".join(lines), eff.config.api_key if isinstance(eff.config.api_key, str) else ""
    )
