"""API keys of a local stack's state: through the running stack if there is one."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from infra.local.aws import LocalAws
from infra.local.state import running_stack

if TYPE_CHECKING:
    from functions.dal.aws import AwsStorage
    from functions.models.api import ApiKeyRecord, Role


@contextmanager
def local_storage(state_dir: Path) -> Iterator[AwsStorage]:
    """The storage layer over the stack's moto: the running one, or a private one replayed from
    the state directory whose writes the journal keeps for the next start."""
    import boto3

    from functions.dal.aws import AwsStorage

    running = running_stack(state_dir)
    local: LocalAws | None = None
    if running is not None:
        endpoint, table = running["aws_endpoint"], running["table"]
    else:
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
        yield AwsStorage(table_name=table, content_bucket="-", site_bucket="-", dynamodb_client=dynamodb)
    finally:
        if local is not None:
            local.stop()


def create_key(state_dir: Path, *, role: Role, name: str) -> str:
    from functions.clock import utc_now
    from functions.logic.auth import issue_key

    with local_storage(state_dir) as store:
        secret, _ = issue_key(store, role=role, name=name, now=utc_now())
    return secret


def list_keys(state_dir: Path) -> list[ApiKeyRecord]:
    from functions.logic.auth import list_keys as listed

    with local_storage(state_dir) as store:
        return listed(store)


def revoke_key(state_dir: Path, key_id: str) -> ApiKeyRecord:
    from functions.logic.auth import revoke_key as revoked

    with local_storage(state_dir) as store:
        return revoked(store, key_id)
