# Generated from openapi/telemetry-v1.yaml by scripts/generate. Do not edit.
from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.error_response import ErrorResponse
from ...models.prediction_batch_request import PredictionBatchRequest
from ...models.prediction_batch_response import PredictionBatchResponse
from ...types import Response


def _get_kwargs(
    *,
    body: PredictionBatchRequest,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/v1/predictions/batch",
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> ErrorResponse | PredictionBatchResponse | None:
    if response.status_code == 200:
        response_200 = PredictionBatchResponse.from_dict(response.json())

        return response_200

    if response.status_code == 400:
        response_400 = ErrorResponse.from_dict(response.json())

        return response_400

    if response.status_code == 408:
        response_408 = ErrorResponse.from_dict(response.json())

        return response_408

    if response.status_code == 413:
        response_413 = ErrorResponse.from_dict(response.json())

        return response_413

    if response.status_code == 415:
        response_415 = ErrorResponse.from_dict(response.json())

        return response_415

    if response.status_code == 422:
        response_422 = ErrorResponse.from_dict(response.json())

        return response_422

    if response.status_code == 429:
        response_429 = ErrorResponse.from_dict(response.json())

        return response_429

    if response.status_code == 500:
        response_500 = ErrorResponse.from_dict(response.json())

        return response_500

    if response.status_code == 502:
        response_502 = ErrorResponse.from_dict(response.json())

        return response_502

    if response.status_code == 503:
        response_503 = ErrorResponse.from_dict(response.json())

        return response_503

    if response.status_code == 504:
        response_504 = ErrorResponse.from_dict(response.json())

        return response_504

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[ErrorResponse | PredictionBatchResponse]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient | Client,
    body: PredictionBatchRequest,
) -> Response[ErrorResponse | PredictionBatchResponse]:
    """Query predictions for a batch of dimension sets

     Public: no API key is required, and a key sent anyway is ignored. Accepts 1 to 50
    queries and returns one `PredictionResponse` per query, in request order.

    Args:
        body (PredictionBatchRequest): Request body of `POST /v1/predictions/batch`.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorResponse | PredictionBatchResponse]
    """

    kwargs = _get_kwargs(
        body=body,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient | Client,
    body: PredictionBatchRequest,
) -> ErrorResponse | PredictionBatchResponse | None:
    """Query predictions for a batch of dimension sets

     Public: no API key is required, and a key sent anyway is ignored. Accepts 1 to 50
    queries and returns one `PredictionResponse` per query, in request order.

    Args:
        body (PredictionBatchRequest): Request body of `POST /v1/predictions/batch`.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorResponse | PredictionBatchResponse
    """

    return sync_detailed(
        client=client,
        body=body,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient | Client,
    body: PredictionBatchRequest,
) -> Response[ErrorResponse | PredictionBatchResponse]:
    """Query predictions for a batch of dimension sets

     Public: no API key is required, and a key sent anyway is ignored. Accepts 1 to 50
    queries and returns one `PredictionResponse` per query, in request order.

    Args:
        body (PredictionBatchRequest): Request body of `POST /v1/predictions/batch`.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorResponse | PredictionBatchResponse]
    """

    kwargs = _get_kwargs(
        body=body,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient | Client,
    body: PredictionBatchRequest,
) -> ErrorResponse | PredictionBatchResponse | None:
    """Query predictions for a batch of dimension sets

     Public: no API key is required, and a key sent anyway is ignored. Accepts 1 to 50
    queries and returns one `PredictionResponse` per query, in request order.

    Args:
        body (PredictionBatchRequest): Request body of `POST /v1/predictions/batch`.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorResponse | PredictionBatchResponse
    """

    return (
        await asyncio_detailed(
            client=client,
            body=body,
        )
    ).parsed
