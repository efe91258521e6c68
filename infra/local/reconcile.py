"""`presswire reconcile` against the running local stack: its moto, buckets and site settings."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from botocore.config import Config

from infra.local.state import running_stack

if TYPE_CHECKING:
    from functions.dal.aws import AwsStorage
    from functions.logic.reconcile import ReconcileReport
    from functions.models.site import Site

# Only what the command prints: its one-line summary, and warnings.
_QUIET = {
    "LOG_FORMAT": "text",
    "POWERTOOLS_LOG_LEVEL": "WARNING",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_METRICS_DISABLED": "true",
}


class NoRunningStack(Exception):
    """Reconcile needs the running stack: the local site bucket lives only as long as it does."""


def running_environment(state_dir: Path, why: str = "") -> dict[str, Any]:
    """What the running `presswire serve` of this state directory wrote in stack.json."""
    running = running_stack(state_dir)
    if running is None or "environment" not in running:
        raise NoRunningStack(
            f"no running `presswire serve` with state in {state_dir}: "
            + (
                why
                or "the local site is rebuilt from the canonical store whenever it starts, so there "
                "is nothing to reconcile until it runs"
            )
        )
    return running


def connect(running: dict[str, Any]) -> tuple[AwsStorage, Site]:
    """The storage layer on the running stack's moto, and its site, with the functions' own
    settings as the stack gave them: the same bytes as its publisher renders. Also called in
    each worker process of `presswire rebuild`."""
    os.environ.update({**running["environment"], **_QUIET})
    import boto3

    from functions.config import get_settings
    from functions.dal.aws import AwsStorage
    from functions.models.site import Site

    get_settings.cache_clear()
    settings = get_settings()
    session = boto3.session.Session(
        aws_access_key_id="local",
        aws_secret_access_key="local",  # noqa: S106 - moto's fixed local credentials
        region_name="us-east-1",
    )
    config = Config(retries={"mode": "standard", "max_attempts": 5}, s3={"addressing_style": "path"})
    storage = AwsStorage(
        table_name=settings.table_name,
        content_bucket=settings.content_bucket,
        site_bucket=settings.site_bucket,
        s3_client=session.client("s3", endpoint_url=running["aws_endpoint"], config=config),
        dynamodb_client=session.client("dynamodb", endpoint_url=running["aws_endpoint"], config=config),
    )
    return storage, Site.from_settings(settings)


def reconcile_running_stack(state_dir: Path) -> ReconcileReport:
    storage, site = connect(running_environment(state_dir))
    # After connect(): the functions' logger reads its level from the environment at import.
    from functions.logic.reconcile import reconcile

    return reconcile(storage, site)
