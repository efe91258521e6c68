"""Idempotency records: Powertools' idempotency utility, persisted in the one table.

A request sent with an Idempotency-Key runs once per caller and key: while the first is running a
repeat is refused (409), once it has succeeded a repeat gets the first answer, for 24 hours. A
request that failed (raised) leaves no record, so its repeat runs again.

Records live in the articles table under pk IDEMPOTENCY#<operation>, sk <operation>#<sha256 of
the caller's key id and the header value>, and expire through the table's TTL attribute. They
carry no "entity" attribute, so the publisher's stream filter never delivers them.

Imported by the API function only: the utility pulls in jmespath, which the other functions
need not load at a cold start.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any

from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyInconsistentStateError,
    IdempotencyPersistenceLayerError,
    IdempotencyValidationError,
)
from aws_lambda_powertools.utilities.idempotency.persistence.datarecord import DataRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from functions.dal import schema
from functions.dal.aws import AwsStorage
from functions.dal.factory import get_storage
from functions.models.errors import IdempotencyKeyReused, RequestInProgress, StorageUnavailable
from functions.observability import logger, metrics

IDEMPOTENCY_WINDOW_SECONDS = 24 * 60 * 60
SUBMIT = "submit"

# The response a caller gets again: JSON values only (the record stores it as JSON).
Replayable = dict[str, Any]


def idempotency_partition(operation: str) -> str:
    return f"IDEMPOTENCY#{operation}"


def idempotency_store(operation: str) -> DynamoDBPersistenceLayer:
    return _store(get_storage(), operation)


@lru_cache(maxsize=8)
def _store(storage: AwsStorage, operation: str) -> DynamoDBPersistenceLayer:
    # Keyed on the storage object, so a rebuilt storage layer (another table, another client)
    # gets its own store. The storage's client is shared: its retry and timeout settings apply.
    #
    # Record times come from the wall clock (Powertools reads datetime.now() when it writes the
    # expiry, in its conditional write and when it judges an in-progress record), not from
    # functions.clock: overriding one of those reads would mix two clocks, and DynamoDB's TTL
    # runs on the real one anyway. Nothing that tests drive through functions.clock (schedules,
    # embargoes, previews) depends on these records.
    return DynamoDBPersistenceLayer(
        table_name=storage.table_name,
        key_attr=schema.PARTITION_KEY,
        sort_key_attr=schema.SORT_KEY,
        static_pk_value=idempotency_partition(operation),
        expiry_attr=schema.TTL_ATTRIBUTE,
        boto3_client=storage.dynamodb,
    )


def _config(lambda_context: LambdaContext | None) -> IdempotencyConfig:
    # One per call: the Lambda context (whose remaining time bounds how long an in-progress
    # record blocks its key, should this invocation die) differs per request, and the local
    # stack serves requests from several threads.
    return IdempotencyConfig(
        # The caller is part of the key: two reporters who both send "1" do not share a record.
        event_key_jmespath="[caller, key]",
        # The parsed request, not the raw body: a retry re-serialized by a different JSON
        # library (key order, whitespace, escapes) is the same request and gets the first answer.
        payload_validation_jmespath="request",
        expires_after_seconds=IDEMPOTENCY_WINDOW_SECONDS,
        hash_function="sha256",
        lambda_context=lambda_context,
        response_hook=_replayed,
    )


def _replayed(response: Any, idempotent_data: DataRecord) -> Any:
    logger.info("answered with the response to an earlier request with this Idempotency-Key")
    metrics.add_metric(name="IdempotentReplays", unit="Count", value=1)
    return response


def run_once(
    operation: str,
    work: Callable[[], Replayable],
    *,
    caller: str,
    key: str,
    request: Mapping[str, Any],
    lambda_context: LambdaContext | None,
) -> Replayable:
    """`work()` once per caller and key within the window; a repeat gets its first answer.

    `work` must raise (a PresswireError, typically) when it fails, never return an error answer:
    only what it returns is remembered."""
    answered: list[Replayable] = []

    def remembered(*, call: Mapping[str, Any]) -> Replayable:
        answer = work()
        answered.append(answer)
        return answer

    once = idempotent_function(
        remembered,
        data_keyword_argument="call",
        persistence_store=idempotency_store(operation),
        config=_config(lambda_context),
        # A stable prefix instead of the function's module path: a refactor must not change the
        # keys of records written before it.
        key_prefix=operation,
    )
    try:
        result: Replayable = once(call={"caller": caller, "key": key, "request": dict(request)})
    except IdempotencyValidationError as error:
        raise IdempotencyKeyReused(
            "this Idempotency-Key was already used with a different request; send a new key for a new request"
        ) from error
    except IdempotencyAlreadyInProgressError as error:
        raise RequestInProgress(
            "the first request with this Idempotency-Key is still being processed; retry shortly "
            "to get its answer"
        ) from error
    except IdempotencyPersistenceLayerError as error:
        if answered:
            # The work is done but its record could not be completed: answering 503 would make
            # the client retry into a 409 and, after the in-progress record lapses, a duplicate.
            logger.warning("the idempotency record could not be completed", exc_info=True)
            return answered[0]
        raise StorageUnavailable("the idempotency store did not answer; retry later") from error
    except IdempotencyInconsistentStateError as error:
        raise StorageUnavailable("the idempotency record changed under this request; retry") from error
    return result
