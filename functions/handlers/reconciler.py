"""EventBridge (daily) -> re-derive every missing or stale output of the site. Thin: the work is
functions.logic.reconcile."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from functions.config import get_settings
from functions.dal.factory import get_storage
from functions.logic.reconcile import reconcile
from functions.models.site import Site
from functions.observability import logger, metrics, tracer


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    report = reconcile(get_storage(), Site.from_settings(get_settings()))
    return report.as_dict()
