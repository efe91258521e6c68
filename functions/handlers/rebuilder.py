"""A full rebuild on AWS. Thin: the work is functions.logic.rebuild.

- Invoked directly by an operator with {"start": true} (or {"start": true, "restart": true}):
  plans the rebuild (or continues the unfinished one) and enqueues one RebuildQueue message per
  shard still to render.
- Invoked by RebuildQueue: renders each message's shard; the worker that finishes the last shard
  regenerates the listings, feeds and sitemaps under the site lease.
"""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from functions.config import get_settings
from functions.dal.factory import get_storage
from functions.logic.rebuild import enqueue_rebuild, rebuild_from_message
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
    if "Records" not in event:
        if event.get("start") is not True:
            raise ValueError('invoke with {"start": true} (and "restart": true to start over)')
        return enqueue_rebuild(store, site, settings.rebuild_queue_url, restart=event.get("restart") is True)

    def handle_record(record: SQSRecord) -> None:
        rebuild_from_message(json.loads(record.body), store, site)

    with processor(records=event["Records"], handler=handle_record):
        processor.process()
    return dict(processor.response())
