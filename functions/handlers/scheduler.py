"""EventBridge rate(1 minute) -> publish the scheduled articles whose time has come."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from functions import clock
from functions.dal.factory import get_storage
from functions.logic.announce import release_embargoes
from functions.logic.scheduler import publish_due
from functions.observability import logger, metrics, tracer


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    now = clock.utc_now()
    store = get_storage()
    published = publish_due(store, now)
    released = release_embargoes(store, now)
    if published or released:
        logger.info("scheduled work done", extra={"published": published, "embargo_ended": released})
    return {"published": published, "embargo_ended": released}
