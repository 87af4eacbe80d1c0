"""Where a `refresh_predictions*` call's flush takes its queries from, and where their answers go
(the cache); the events' counterpart is `_sources.EventSource`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from mosaicstack_telemetry._answers import read_predictions_verdict
from mosaicstack_telemetry._cache import PredictionCache
from mosaicstack_telemetry._log import ERROR, WARNING, RateLimitedLog
from mosaicstack_telemetry._planner import Job, Settle
from mosaicstack_telemetry._sources import log_unreadable, refused
from mosaicstack_telemetry._wire import PREDICTIONS, Answer, Request

if TYPE_CHECKING:
    from mosaicstack_telemetry._predictionmodels import PredictionQuery


class PredictionSource:
    """The queries of one `refresh_predictions*` call, in chunks; answers go to the cache.

    What could not be fetched is tallied as the chunks settle and said in one line when the
    call ends (`report`): how many queries, from where, and the last reason.
    """

    def __init__(
        self,
        chunks: list[Sequence[PredictionQuery]],
        cache: PredictionCache,
        log: RateLimitedLog,
        url: str,
    ) -> None:
        self._chunks = chunks
        self._cache, self._log, self._url = cache, log, url
        self._asked = sum(len(chunk) for chunk in chunks)
        self._missed = 0  # queries whose answer was not cached
        self._why = ""  # why the last chunk that missed did
        self._failures: dict[Job, str] = {}  # each chunk's last failed attempt, until it settles

    def take(self, count: int, whole: bool) -> list[Any]:
        return list(self._chunks.pop(0)) if self._chunks else []

    def request(self, items: list[Any]) -> Request:
        body = b'{"queries":[' + b",".join(q.model_dump_json().encode() for q in items) + b"]}"
        return Request(PREDICTIONS, body, len(items))

    def settle(self, settle: Settle) -> None:
        job, how = settle.job, settle.how
        queries = job.items
        if how == "delivered" and settle.answer is not None:
            self._failures.pop(job, None)  # a retry succeeded: not a reason for anything
            self._delivered(settle.answer, queries)
        elif how == "failed":
            self._failures[job] = settle.error or settle.reason
        elif how == "dropped":
            self._missed += len(queries)
            self._why = refused(settle)
            if settle.reason == "http_413":
                self._why += ": one query is larger than the server accepts"
        elif how in ("back", "kept"):
            self._missed += len(queries)
            self._why = self._failures.pop(job, "") or self._why or settle.reason

    def _delivered(self, answer: Answer, queries: list[Any]) -> None:
        verdict = read_predictions_verdict(answer.data, len(queries), reason=answer.problem)
        log_unreadable(answer, verdict.reason)
        if not verdict.readable:
            self._missed += sum(response is None for response in verdict.results)
            self._why = f"the answer could not be read: {verdict.reason}"
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

    def report(self) -> None:
        """Once the call is over: what was not fetched, from where, and why (rate-limited)."""
        untried = sum(len(chunk) for chunk in self._chunks)
        missed = self._missed + untried
        if not missed:
            return
        self._log.log(
            ERROR,
            "predictions",
            "Could not fetch predictions for %d of %d queries from %s (%s%s); the cache keeps "
            "its old entries for them",
            missed,
            self._asked,
            self._url,
            self._why or "no reason was given",
            f"; {untried} were not tried after that failure" if untried else "",
        )
