"""ReconcilerFunction's IAM policy in template.yaml against the AWS calls reconcile really makes.

moto does not enforce IAM, so a call the policy forgot passes every other test and fails only on
AWS. Here every call of a cold reconciler invocation is recorded (botocore's provide-client-params,
as bench/aws_calls.py counts them), turned into the IAM actions and resource ARN that AWS
authorizes it by, and checked against the function's Policies and the permissions boundary; and
every grant of the policy must be used by some call, so that it stays least privilege.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import boto3
import pytest

from functions.dal.factory import get_storage
from functions.logic import publish_articles
from infra.cfn import Intrinsic, load_template
from infra.local.lambda_runtime import invoke
from tests.integration.conftest import Harness

FUNCTION = "ReconcilerFunction"
# Placeholders: the same on both sides of every comparison.
TABLE_ARN = "arn:aws:dynamodb:region:account:table/{}"
BUCKET_ARN = "arn:aws:s3:::{}"


@dataclass(frozen=True)
class Grant:
    action: str
    resource: str  # an ARN, or an ARN pattern with * in a policy


@dataclass(frozen=True)
class Call:
    service: str
    operation: str
    params: dict[str, Any]


def needed(call: Call) -> set[Grant]:
    """What AWS authorizes this call by (the S3 and DynamoDB service authorization references)."""
    params = call.params
    if call.service == "s3":
        bucket = BUCKET_ARN.format(params["Bucket"])
        if call.operation in {"GetObject", "HeadObject"}:
            # With a VersionId, S3 asks for s3:GetObjectVersion (and not s3:GetObject).
            action = "s3:GetObjectVersion" if params.get("VersionId") else "s3:GetObject"
            # Without s3:ListBucket, a HeadObject of a missing key is a 403, not the 404 the
            # storage layer reads as "not there yet".
            listing = {Grant("s3:ListBucket", bucket)} if call.operation == "HeadObject" else set()
            return {Grant(action, f"{bucket}/{params['Key']}"), *listing}
        if call.operation == "PutObject":
            return {Grant("s3:PutObject", f"{bucket}/{params['Key']}")}
        if call.operation == "DeleteObject":
            return {Grant("s3:DeleteObject", f"{bucket}/{params['Key']}")}
        if call.operation in {"ListObjects", "ListObjectsV2"}:
            return {Grant("s3:ListBucket", bucket)}
    if call.service == "dynamodb":
        if call.operation == "BatchGetItem":
            return {
                Grant("dynamodb:BatchGetItem", TABLE_ARN.format(table)) for table in params["RequestItems"]
            }
        if call.operation in {"GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query"}:
            table = TABLE_ARN.format(params["TableName"])
            index = params.get("IndexName")
            return {Grant(f"dynamodb:{call.operation}", f"{table}/index/{index}" if index else table)}
    raise AssertionError(f"reconcile calls {call.service}.{call.operation}: teach this test its IAM action")


def resource_arn(expression: Any, names: dict[str, str]) -> str:
    """The ARN (pattern) of a policy's Resource: !GetAtt X.Arn, or !Sub "${X.Arn}/..."."""
    assert isinstance(expression, Intrinsic), expression
    text = f"${{{expression.value}}}" if expression.tag == "GetAtt" else expression.value
    assert expression.tag in {"GetAtt", "Sub"}, expression
    for logical_id, name in names.items():
        arn = TABLE_ARN.format(name) if logical_id == "ArticlesTable" else BUCKET_ARN.format(name)
        text = text.replace(f"${{{logical_id}.Arn}}", arn)
    assert "${" not in text, f"{text}: not a bucket or the table"
    return str(text)


def as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else [value]


def grants(statements: list[dict[str, Any]], names: dict[str, str]) -> set[Grant]:
    granted: set[Grant] = set()
    for statement in statements:
        assert statement["Effect"] == "Allow", statement
        granted |= {
            Grant(action, resource_arn(target, names))
            for action in as_list(statement["Action"])
            for target in as_list(statement["Resource"])
        }
    return granted


def allows(granted: set[Grant], wanted: Grant) -> bool:
    return any(
        grant.action == wanted.action and fnmatch.fnmatchcase(wanted.resource, grant.resource)
        for grant in granted
    )


def policy_grants(names: dict[str, str]) -> set[Grant]:
    (policy,) = load_template()["Resources"][FUNCTION]["Properties"]["Policies"]
    return grants(policy["Statement"], names)


def boundary_grants(names: dict[str, str]) -> set[Grant]:
    boundary = load_template()["Resources"]["FunctionPermissionsBoundary"]["Properties"]["PolicyDocument"]
    data = [
        statement
        for statement in boundary["Statement"]
        if all(action.startswith(("s3:", "dynamodb:")) for action in as_list(statement["Action"]))
    ]
    return grants(data, names)


@contextmanager
def recording() -> Iterator[list[Call]]:
    """Every AWS call of the clients created inside the block: a cold function's storage layer."""
    recorded: list[Call] = []

    def record(event_name: str, params: dict[str, Any], **_: Any) -> None:
        _prefix, service, operation = event_name.split(".", 2)
        recorded.append(Call(service, operation, dict(params)))

    session = boto3.DEFAULT_SESSION
    assert session is not None
    session.events.register("provide-client-params", record, unique_id="reconciler-permissions")
    get_storage.cache_clear()  # a cold start: new clients, and no canonical article cached
    try:
        yield recorded
    finally:
        session.events.unregister("provide-client-params", unique_id="reconciler-permissions")


@pytest.fixture
def lost_site(harness: Harness, seed_article: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    """Published and retracted articles, one more whose stream batch was given up on (so that an
    archive page and a sitemap month are left for reconcile to complete), and deleted outputs."""
    monkeypatch.setattr(publish_articles, "ARCHIVE_PAGE_SIZE", 2)
    article = {**seed_article, "body": "<p>Qua 3 ngày tập huấn, các học viên đã nghiên cứu.</p>"}
    article.pop("published_at")
    ids = []
    for title in ("Ô Môn: khai giảng lớp tập huấn", "Ô Môn: lớp tập huấn bị hoãn", "Ô Môn: bế giảng"):
        response = harness.call("POST", "/articles", {**article, "title": title})
        assert response.status == 201, response.body
        ids.append(response.json()["id"])
    assert harness.call("POST", f"/articles/{ids[1]}/retract", {"reason": "Chưa kiểm chứng."}).status == 200
    harness.publish()
    lost = harness.call("POST", "/articles", {**article, "title": "Ô Môn: tổng kết"})
    assert lost.status == 201, lost.body
    monkeypatch.setattr(harness.poller, "_handler", lambda event, context: {"batchItemFailures": []})
    harness.publish()
    for key in ("feeds/atom.xml", "robots.txt"):
        harness.s3.delete_object(Bucket=harness.name("SiteBucket"), Key=key)


def test_reconciler_policy_allows_every_aws_call_of_a_cold_reconcile_and_nothing_more(
    harness: Harness, lost_site: None
) -> None:
    from functions.handlers import reconciler

    with recording() as calls:
        answer = invoke(reconciler.lambda_handler, FUNCTION, {"source": "aws.events"})

    assert answer["articles"] == 4 and answer["fixed"] > 0, answer
    names = {
        logical_id: harness.name(logical_id)
        for logical_id in ("ArticlesTable", "ContentBucket", "SiteBucket")
    }
    wanted = set().union(*(needed(call) for call in calls))
    granted = policy_grants(names)
    boundary = boundary_grants(names)
    assert not {call.service for call in calls} - {"s3", "dynamodb"}
    assert not [grant for grant in wanted if not allows(granted, grant)], "denied by the function's policy"
    assert not [grant for grant in wanted if not allows(boundary, grant)], (
        "denied by the permissions boundary"
    )
    # Least privilege: every (action, resource) granted is one that some call needed.
    unused = {
        grant
        for grant in granted
        if not any(
            w.action == grant.action and fnmatch.fnmatchcase(w.resource, grant.resource) for w in wanted
        )
    }
    assert not unused, f"granted but never needed: {unused}"
