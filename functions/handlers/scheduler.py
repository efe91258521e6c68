"""EventBridge rate(1 minute) -> publish the scheduled articles whose time has come."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from functions import clock
from functions.dal.factory import get_storage
from functions.logic.scheduler import publish_due
from functions.observability import logger, metrics, tracer


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    published = publish_due(get_storage(), clock.utc_now())
    if published:
        logger.info("scheduled articles published", extra={"articles": published})
    return {"published": published}
