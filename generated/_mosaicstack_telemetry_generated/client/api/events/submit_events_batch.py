# Generated from openapi/telemetry-v1.yaml by scripts/generate. Do not edit.
from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.batch_event_request import BatchEventRequest
from ...models.batch_event_response import BatchEventResponse
from ...models.error_response import ErrorResponse
from ...types import Response


def _get_kwargs(
    *,
    body: BatchEventRequest,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/v1/events/batch",
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> BatchEventResponse | ErrorResponse | None:
    if response.status_code == 202:
        response_202 = BatchEventResponse.from_dict(response.json())

        return response_202

    if response.status_code == 400:
        response_400 = ErrorResponse.from_dict(response.json())

        return response_400

    if response.status_code == 401:
        response_401 = ErrorResponse.from_dict(response.json())

        return response_401

    if response.status_code == 403:
        response_403 = ErrorResponse.from_dict(response.json())

        return response_403

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
) -> Response[BatchEventResponse | ErrorResponse]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    body: BatchEventRequest,
) -> Response[BatchEventResponse | ErrorResponse]:
    """Submit a batch of task-completion events

     Accepts 1 to 100 events (a body of up to 1 MiB is always accepted). Each event is
    validated and judged on its own: the response carries one result per event, in request
    order, with the event's `index` in the request. An event that breaks
    `TaskCompletionEvent`, or whose `instance_id` is not the instance bound to the API key,
    is `rejected` (with a `code` and an `error`). An `event_id` this instance already stored
    is reported `duplicate` and not stored again: the first stored copy wins. A client
    counts `accepted` and `duplicate` (and any status it does not know) as delivered and
    never re-sends those events.

    Args:
        body (BatchEventRequest): Request body of `POST /v1/events/batch`.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[BatchEventResponse | ErrorResponse]
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
    client: AuthenticatedClient,
    body: BatchEventRequest,
) -> BatchEventResponse | ErrorResponse | None:
    """Submit a batch of task-completion events

     Accepts 1 to 100 events (a body of up to 1 MiB is always accepted). Each event is
    validated and judged on its own: the response carries one result per event, in request
    order, with the event's `index` in the request. An event that breaks
    `TaskCompletionEvent`, or whose `instance_id` is not the instance bound to the API key,
    is `rejected` (with a `code` and an `error`). An `event_id` this instance already stored
    is reported `duplicate` and not stored again: the first stored copy wins. A client
    counts `accepted` and `duplicate` (and any status it does not know) as delivered and
    never re-sends those events.

    Args:
        body (BatchEventRequest): Request body of `POST /v1/events/batch`.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        BatchEventResponse | ErrorResponse
    """

    return sync_detailed(
        client=client,
        body=body,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    body: BatchEventRequest,
) -> Response[BatchEventResponse | ErrorResponse]:
    """Submit a batch of task-completion events

     Accepts 1 to 100 events (a body of up to 1 MiB is always accepted). Each event is
    validated and judged on its own: the response carries one result per event, in request
    order, with the event's `index` in the request. An event that breaks
    `TaskCompletionEvent`, or whose `instance_id` is not the instance bound to the API key,
    is `rejected` (with a `code` and an `error`). An `event_id` this instance already stored
    is reported `duplicate` and not stored again: the first stored copy wins. A client
    counts `accepted` and `duplicate` (and any status it does not know) as delivered and
    never re-sends those events.

    Args:
        body (BatchEventRequest): Request body of `POST /v1/events/batch`.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[BatchEventResponse | ErrorResponse]
    """

    kwargs = _get_kwargs(
        body=body,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    body: BatchEventRequest,
) -> BatchEventResponse | ErrorResponse | None:
    """Submit a batch of task-completion events

     Accepts 1 to 100 events (a body of up to 1 MiB is always accepted). Each event is
    validated and judged on its own: the response carries one result per event, in request
    order, with the event's `index` in the request. An event that breaks
    `TaskCompletionEvent`, or whose `instance_id` is not the instance bound to the API key,
    is `rejected` (with a `code` and an `error`). An `event_id` this instance already stored
    is reported `duplicate` and not stored again: the first stored copy wins. A client
    counts `accepted` and `duplicate` (and any status it does not know) as delivered and
    never re-sends those events.

    Args:
        body (BatchEventRequest): Request body of `POST /v1/events/batch`.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        BatchEventResponse | ErrorResponse
    """

    return (
        await asyncio_detailed(
            client=client,
            body=body,
        )
    ).parsed
