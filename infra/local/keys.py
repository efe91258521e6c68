"""Issue keys into a local stack's state: through the running stack if there is one."""

from __future__ import annotations

import json
import os
from pathlib import Path

from infra.local.aws import LocalAws
from infra.local.stack import STACK_FILE


def _running_stack(state_dir: Path) -> dict[str, str] | None:
    path = state_dir / STACK_FILE
    if not path.exists():
        return None
    info = json.loads(path.read_text(encoding="utf-8"))
    try:
        os.kill(int(info["pid"]), 0)
    except (OSError, ValueError, KeyError):
        return None
    return info


def create_key(state_dir: Path, *, role: str, name: str) -> str:
    import boto3

    from functions.clock import utc_now
    from functions.dal.aws import AwsStorage
    from functions.logic.auth import issue_key

    running = _running_stack(state_dir)
    local: LocalAws | None = None
    if running is not None:
        endpoint, table = running["aws_endpoint"], running["table"]
    else:
        # Not running: replay the state into a private moto, write, and let the journal keep it.
        local = LocalAws(state_dir=state_dir).start()
        endpoint, table = local.endpoint_url, local.names["ArticlesTable"]
    try:
        dynamodb = boto3.client(
            "dynamodb",
            endpoint_url=endpoint,
            region_name="us-east-1",
            aws_access_key_id="local",
            aws_secret_access_key="local",  # noqa: S106 - moto's fixed local credentials
        )
        store = AwsStorage(table_name=table, content_bucket="-", site_bucket="-", dynamodb_client=dynamodb)
        secret, _ = issue_key(store, role=role, name=name, now=utc_now())  # type: ignore[arg-type]
    finally:
        if local is not None:
            local.stop()
    return secret
