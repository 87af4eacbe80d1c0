"""Where a `refresh_predictions*` call's flush takes its queries from, and where their answers go
(the cache); the events' counterpart is `_sources.EventSource`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from mosaicstack_telemetry._answers import read_predictions_verdict
from mosaicstack_telemetry._cache import PredictionCache
from mosaicstack_telemetry._log import ERROR, WARNING, RateLimitedLog
from mosaicstack_telemetry._planner import Settle
from mosaicstack_telemetry._sources import answer_detail, log_unreadable
from mosaicstack_telemetry._wire import PREDICTIONS, Request

if TYPE_CHECKING:
    from mosaicstack_telemetry._predictionmodels import PredictionQuery


class PredictionSource:
    """The queries of one `refresh_predictions*` call, in chunks; answers go to the cache."""

    def __init__(
        self, chunks: list[Sequence[PredictionQuery]], cache: PredictionCache, log: RateLimitedLog
    ) -> None:
        self._chunks = chunks
        self._cache, self._log = cache, log

    def take(self, count: int, whole: bool) -> list[Any]:
        return list(self._chunks.pop(0)) if self._chunks else []

    def request(self, items: list[Any]) -> Request:
        body = b'{"queries":[' + b",".join(q.model_dump_json().encode() for q in items) + b"]}"
        return Request(PREDICTIONS, body, len(items))

    def settle(self, settle: Settle) -> None:
        queries = settle.job.items
        if settle.how == "delivered" and settle.answer is not None:
            answer = settle.answer
            verdict = read_predictions_verdict(answer.data, len(queries), reason=answer.problem)
            log_unreadable(answer, verdict.reason)
            if not verdict.readable:
                self._log.log(
                    ERROR,
                    "bad-predictions",
                    "Some of the server's predictions could not be read; the cache keeps its "
                    "old entries for those",
                )
            for confidence in verdict.unknown_confidences:
                self._log.log(
                    WARNING,
                    f"confidence-{confidence}",
                    "The server answered the confidence %r, which this SDK does not know; "
                    "it is kept as sent and ranks as low",
                    confidence,
                )
            for query, response in zip(queries, verdict.results, strict=True):
                if response is not None:
                    self._cache.put(query, response)
        elif settle.how in ("dropped", "back", "kept"):
            self._log.log(
                ERROR,
                f"predictions-{settle.reason}",
                "Could not fetch predictions (%s%s); the cache keeps its old entries",
                settle.reason,
                answer_detail(settle),
            )
