"""SQS -> partner webhooks and WebSub pings. Thin: decode each message, hand it to the logic."""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from functions import clock
from functions.config import get_settings
from functions.dal.factory import get_storage
from functions.logic import notify
from functions.models.site import Site
from functions.observability import logger, metrics, tracer

processor = BatchProcessor(event_type=EventType.SQS)


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    settings = get_settings()
    site = Site.from_settings(settings)
    store = get_storage()
    send = notify.sender(settings.allow_private_webhooks)

    def handle_record(record: SQSRecord) -> None:
        received = notify.Received(
            body=json.loads(record.body),
            attempt=int(record.attributes.approximate_receive_count or 1),
            receipt_handle=record.receipt_handle,
        )
        notify.handle(received, store, site, send, clock.utc_now())

    with processor(records=event["Records"], handler=handle_record):
        processor.process()
    return dict(processor.response())
