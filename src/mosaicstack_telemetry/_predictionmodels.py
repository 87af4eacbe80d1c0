"""The public prediction models: the generated classes themselves, loaded on first use.

Importing the SDK does not import this module (issue 16): defining these classes costs about
as much as the event's, and a program that only tracks events never uses them. The package's
lazy names (`from mosaicstack_telemetry import PredictionResponse`), `PredictionCache`'s
callers and the delivery core's prediction path import it when they need it. The classes are
the generated ones, not subclasses, so nested objects are instances of the public names.
"""

from __future__ import annotations

from _mosaicstack_telemetry_generated import prediction_models as _gen

from mosaicstack_telemetry._models import max_len

PredictionQuery = _gen.PredictionQuery
PredictionResponse = _gen.PredictionResponse
PredictionData = _gen.PredictionData
PredictionMetadata = _gen.PredictionMetadata
TokenDistribution = _gen.TokenDistribution
CorrectionFactors = _gen.CorrectionFactors
QualityPrediction = _gen.QualityPrediction
PredictionBatchResponse = _gen.PredictionBatchResponse

#: The server's maximum of queries per request, from the contract.
MAX_QUERIES_PER_BATCH = max_len(_gen.PredictionBatchRequest, "queries")
