# Generated from openapi/telemetry-v1.yaml by scripts/generate. Do not edit.
from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from typing_extensions import Self

if TYPE_CHECKING:
    from ..models.prediction_query import PredictionQuery


T = TypeVar("T", bound="PredictionBatchRequest")


@_attrs_define
class PredictionBatchRequest:
    """Request body of `POST /v1/predictions/batch`.

    Attributes:
        queries (list[PredictionQuery]): Queries to answer.
    """

    queries: list[PredictionQuery]

    def to_dict(self) -> dict[str, Any]:
        queries = []
        for queries_item_data in self.queries:
            queries_item = queries_item_data.to_dict()
            queries.append(queries_item)

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "queries": queries,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.prediction_query import PredictionQuery

        d = dict(src_dict)
        queries = []
        _queries = d.pop("queries")
        for queries_item_data in _queries:
            queries_item = PredictionQuery.from_dict(queries_item_data)

            queries.append(queries_item)

        prediction_batch_request = cls(
            queries=queries,
        )

        return prediction_batch_request
