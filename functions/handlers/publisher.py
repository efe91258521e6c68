"""DynamoDB stream -> site bucket. Thin: decode the batch, hand each change to the logic."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from functions.config import get_settings
from functions.dal.aws import is_article_item, item_to_record
from functions.dal.factory import get_storage
from functions.logic.publish_articles import (
    PublishReport,
    latest_revisions,
    publish_article,
    publish_listings,
    record_report,
)
from functions.models.article import ArticleRecord
from functions.models.site import Site
from functions.observability import logger, metrics, tracer

processor = BatchProcessor(event_type=EventType.DynamoDBStreams)


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    site = Site.from_settings(get_settings())
    store = get_storage()
    report = PublishReport()
    changes: list[ArticleRecord] = []

    def handle_record(record: DynamoDBRecord) -> None:
        image = record.dynamodb.new_image if record.dynamodb else None
        if not image or not is_article_item(image):
            return
        change = item_to_record(image)
        changes.append(change)
        publish_article(change, store, site, report)

    with processor(records=event["Records"], handler=handle_record):
        processor.process()
    if changes:
        # Listings once per batch; if this raises, the whole batch is retried, which is safe
        # because every output is rewritten only when its bytes differ.
        changes = latest_revisions(changes)
        publish_listings(changes, store, site, report)
        record_report(report, changes)
    return dict(processor.response())
