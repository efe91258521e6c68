"""DynamoDB stream -> site bucket. Thin: decode the batch, hand each change to the logic."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from functions import clock
from functions.config import get_settings
from functions.dal.aws import is_article_item, item_to_record
from functions.dal.factory import get_storage
from functions.logic import announce
from functions.logic.changes import ArticleChange, latest_revisions
from functions.logic.publish_articles import (
    PublishReport,
    publish_article,
    publish_listings,
    record_report,
)
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
    changes: list[ArticleChange] = []

    def handle_record(record: DynamoDBRecord) -> None:
        stream = record.dynamodb
        new_image = stream.new_image if stream else None
        if not new_image or not is_article_item(new_image):
            return
        old_image = stream.old_image if stream else None
        change = ArticleChange(item_to_record(old_image) if old_image else None, item_to_record(new_image))
        publish_article(change, store, site, report)
        # Only a change whose page is written goes into this batch's listings and announcements.
        changes.append(change)

    with processor(records=event["Records"], handler=handle_record):
        processor.process()
    if changes:
        # Listings once per batch; if this raises, the whole batch is retried, which is safe
        # because every output is rewritten only when its bytes differ.
        merged = latest_revisions(changes)
        publish_listings(merged, store, site, report)
        record_report(report, merged)
        # After the outputs: a partner told of a change finds it on the site and in the feeds.
        announce.announce_changes(merged, store, clock.utc_now())
        announce.announce_feeds(
            [site.absolute(key) for key in report.written if key.startswith("feeds/")], site, store
        )
    return dict(processor.response())
