"""What the local server holds between requests: its keys, store, predictor, faults, request
log and delivery counts, and how a request's API key is read and matched."""

from __future__ import annotations

import hmac
import re
import threading
import uuid
from collections import Counter, deque
from collections.abc import Mapping
from dataclasses import replace

from mosaicstack_telemetry.server._faults import FaultConfig, FaultInjector
from mosaicstack_telemetry.server._predict import Predictor
from mosaicstack_telemetry.server._requestlog import REQUEST_LOG_SIZE, RequestRecord
from mosaicstack_telemetry.server._store import EventStore

_KEY = re.compile(r"[0-9a-fA-F]{64}")
_BEARER = re.compile(r"bearer[ \t]+(\S+)[ \t]*", re.IGNORECASE)


def bearer_key(header: str) -> str | None:
    """The API key of an `Authorization: Bearer <64 hex>` header, or None if malformed."""
    match = _BEARER.fullmatch(header)
    if match is None or not _KEY.fullmatch(match.group(1)):
        return None
    return match.group(1)


class ServerState:
    """Everything the app holds: keys, store, predictor, faults and the request log."""

    def __init__(
        self, keys: Mapping[str, str], db: str, faults: FaultConfig | None, body_limit: int
    ) -> None:
        self.keys = normalize_keys(keys)
        self.db = db
        self.store = EventStore(db)
        self.predictor = Predictor(self.store)
        self.faults = FaultInjector(faults)
        self.body_limit = body_limit
        self._records: deque[RequestRecord] = deque(maxlen=REQUEST_LOG_SIZE)
        self._recorded = 0
        self._records_lock = threading.Lock()
        self._deliveries: Counter[str] = Counter()

    def record(self, record: RequestRecord) -> None:
        with self._records_lock:
            self._recorded += 1
            self._records.append(replace(record, seq=self._recorded))

    @property
    def requests(self) -> list[RequestRecord]:
        """The last `REQUEST_LOG_SIZE` requests, oldest first."""
        with self._records_lock:
            return list(self._records)

    @property
    def requests_recorded(self) -> int:
        """Requests recorded since the server started (the log keeps only the last ones)."""
        with self._records_lock:
            return self._recorded

    def delivery_count(self, event_id: str) -> int:
        """How many authenticated requests carried `event_id` (as it was sent)."""
        with self._records_lock:
            return self._deliveries.get(event_id, 0)

    def delivered(self, event_ids: list[str]) -> None:
        """Count one delivery of each readable event id of an authenticated batch."""
        with self._records_lock:
            self._deliveries.update(event_ids)

    @property
    def deliveries(self) -> dict[str, int]:
        """How many authenticated requests carried each event id: a client that re-sends
        only after failures it could not see through shows 1 for nearly every event."""
        with self._records_lock:
            return dict(self._deliveries)

    def instance_for(self, token: str) -> str | None:
        """The instance bound to `token`, comparing with every key in constant time (no early
        exit), so response timing does not reveal how much of a key matched or which key."""
        candidate = token.lower().encode()
        found: str | None = None
        for key, instance in self.keys:
            if hmac.compare_digest(key, candidate):
                found = instance
        return found


def normalize_keys(keys: Mapping[str, str]) -> tuple[tuple[bytes, str], ...]:
    """Validate keys (64 hex digits, either case) and instances (UUIDs)."""
    normalized = []
    for key, instance in keys.items():
        if not _KEY.fullmatch(key):
            raise ValueError("an API key must be 64 hexadecimal digits")
        try:
            bound = str(uuid.UUID(instance))
        except ValueError:
            raise ValueError(
                f"the instance an API key is bound to must be a UUID, not {instance!r}"
            ) from None
        normalized.append((key.lower().encode(), bound))
    return tuple(normalized)
