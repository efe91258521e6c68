"""template.yaml's security properties: least privilege, encryption at rest, recovery, private
buckets behind CloudFront, throttling and alarms. Pure: the template as infra.cfn reads it."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from infra.cfn import Intrinsic, load_template, resources_of_type

DOCS_DEPLOY = Path(__file__).resolve().parents[2] / "docs" / "deploy.md"
DATA_SERVICES = ("s3:", "dynamodb:", "sqs:")
# Every function the template declares: one added later is held to the same rules.
FUNCTIONS = tuple(resources_of_type(load_template(), "AWS::Serverless::Function"))
KNOWN_DEAD_LETTER_QUEUES = {
    "PublisherDeadLetterQueue",
    "SchedulerDeadLetterQueue",
    "NotifyDeadLetterQueue",
    "RebuildDeadLetterQueue",
}
# SAM policy templates that name one resource and a few actions on it; any other template, and
# any managed policy, must be written out as a statement instead.
NARROW_POLICY_TEMPLATES = {"SQSSendMessagePolicy", "SNSPublishMessagePolicy"}
# What SAM's managed policies for the event sources allow on "*", which the boundary must confine.
EVENT_SOURCE_ACTIONS = {
    "dynamodb:DescribeStream",
    "dynamodb:GetRecords",
    "dynamodb:GetShardIterator",
    "dynamodb:ListStreams",
    "sqs:ReceiveMessage",
    "sqs:DeleteMessage",
    "sqs:GetQueueAttributes",
}

TemplateDict = dict[str, Any]


@pytest.fixture(scope="module")
def template() -> TemplateDict:
    return load_template()


@pytest.fixture(scope="module")
def resources(template: TemplateDict) -> TemplateDict:
    return dict(template["Resources"])


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else [value]


def _actions(statement: dict[str, Any]) -> list[str]:
    return [str(action) for action in _as_list(statement["Action"])]


def _referenced(expression: Any) -> str | None:
    """The logical id an ARN expression is built on (!GetAtt X.Arn, !Sub "${X.Arn}/...", !Ref X)."""
    if not isinstance(expression, Intrinsic):
        return None
    if expression.tag == "GetAtt":
        return str(expression.value).split(".")[0]
    if expression.tag == "Ref":
        return str(expression.value)
    if expression.tag == "Sub" and isinstance(expression.value, str):
        found = re.match(r"\$\{([A-Za-z0-9]+)[.}]", expression.value)
        return found.group(1) if found else None
    return None


def _function_statements(resources: TemplateDict, function: str) -> list[dict[str, Any]]:
    """Every statement of the function's Policies; SAM policy templates only from the narrow list."""
    statements: list[dict[str, Any]] = []
    for policy in resources[function]["Properties"].get("Policies", []):
        assert isinstance(policy, dict), f"{function}: a managed policy ({policy!r}) is wider than needed"
        if "Statement" in policy:
            statements += policy["Statement"]
        else:
            assert set(policy) <= NARROW_POLICY_TEMPLATES, f"{function}: policy template {set(policy)}"
    return statements


def _allowed(statements: list[dict[str, Any]], resource: Any) -> set[str]:
    """The actions these statements allow on exactly this resource expression."""
    return {
        action
        for statement in statements
        if statement["Effect"] == "Allow" and resource in _as_list(statement["Resource"])
        for action in _actions(statement)
    }


def _sub(text: str) -> Intrinsic:
    return Intrinsic("Sub", text)


def _get_att(text: str) -> Intrinsic:
    return Intrinsic("GetAtt", text)


TABLE = _get_att("ArticlesTable.Arn")
TABLE_INDEXES = _sub("${ArticlesTable.Arn}/index/*")
ARTICLES = _sub("${ContentBucket.Arn}/articles/*")
MEDIA = _sub("${ContentBucket.Arn}/media/*")


# -- least privilege ------------------------------------------------------------------------------


@pytest.mark.parametrize("function", FUNCTIONS)
def test_function_policies_grant_no_wildcard_action_and_no_data_action_on_every_resource(
    resources: TemplateDict, function: str
) -> None:
    for statement in _function_statements(resources, function):
        assert statement["Effect"] == "Allow", statement
        assert "NotAction" not in statement and "NotResource" not in statement, statement
        actions = _actions(statement)
        assert not [action for action in actions if "*" in action], (function, statement)
        if any(action.startswith(DATA_SERVICES) for action in actions):
            assert "*" not in _as_list(statement["Resource"]), (function, statement)


@pytest.mark.parametrize("function", FUNCTIONS)
def test_function_policies_reach_only_this_stacks_buckets_table_and_queues(
    resources: TemplateDict, function: str
) -> None:
    data_resources = {
        logical_id
        for logical_id, resource in resources.items()
        if resource["Type"] in {"AWS::S3::Bucket", "AWS::DynamoDB::Table", "AWS::SQS::Queue"}
    }
    for statement in _function_statements(resources, function):
        for target in _as_list(statement["Resource"]):
            assert _referenced(target) in data_resources, (function, target)


@pytest.mark.parametrize("function", FUNCTIONS)
def test_no_function_may_scan_the_table_or_write_in_bulk(resources: TemplateDict, function: str) -> None:
    granted = {action for s in _function_statements(resources, function) for action in _actions(s)}
    # BatchGetItem stays allowed: it reads items by their keys, as GetItem does, never a range.
    assert not granted & {"dynamodb:Scan", "dynamodb:BatchWriteItem"}
    assert not granted & {"dynamodb:DeleteTable", "s3:DeleteBucket", "sqs:DeleteQueue", "sqs:PurgeQueue"}


def test_api_reads_and_writes_canonical_articles_and_media_but_never_the_site(
    resources: TemplateDict,
) -> None:
    statements = _function_statements(resources, "ApiFunction")
    assert _allowed(statements, ARTICLES) == {"s3:GetObject", "s3:GetObjectVersion", "s3:PutObject"}
    # HeadObject is s3:GetObject; PutObject also signs the presigned upload URLs.
    assert _allowed(statements, MEDIA) == {"s3:GetObject", "s3:PutObject"}
    assert _allowed(statements, TABLE) == {
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:DeleteItem",
        "dynamodb:Query",
    }
    assert _allowed(statements, TABLE_INDEXES) == {"dynamodb:Query"}
    assert not [s for s in statements if _referenced(_as_list(s["Resource"])[0]) == "SiteBucket"]


def test_publisher_writes_only_its_bookkeeping_items_and_queries_only_the_index(
    resources: TemplateDict,
) -> None:
    statements = _function_statements(resources, "PublisherFunction")
    # Sitemap months and held-back embargo notifications (PutItem), the archive page counter and
    # the site lease (UpdateItem), the records lately published under the lease (BatchGetItem);
    # never an article item's removal.
    assert _allowed(statements, TABLE) == {
        "dynamodb:GetItem",
        "dynamodb:BatchGetItem",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
    }
    assert _allowed(statements, TABLE_INDEXES) == {"dynamodb:Query"}
    assert _allowed(statements, ARTICLES) == {"s3:GetObject", "s3:GetObjectVersion"}
    assert _allowed(statements, MEDIA) == set()


def test_rebuild_worker_reads_articles_rewrites_the_site_and_enqueues_only_its_own_shards(
    resources: TemplateDict,
) -> None:
    statements = _function_statements(resources, "RebuildWorkerFunction")
    # Records, counters and its checkpoint (a Query of the REBUILD# partition); never a delete.
    assert _allowed(statements, TABLE) == {
        "dynamodb:GetItem",
        "dynamodb:BatchGetItem",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:Query",
    }
    assert _allowed(statements, TABLE_INDEXES) == {"dynamodb:Query"}
    assert _allowed(statements, ARTICLES) == {"s3:GetObjectVersion"}
    assert _allowed(statements, _sub("${SiteBucket.Arn}/*")) == {"s3:GetObject", "s3:PutObject"}
    assert _allowed(statements, _get_att("RebuildQueue.Arn")) == {"sqs:SendMessage"}
    assert _allowed(statements, _get_att("NotifyQueue.Arn")) == set()


# -- the permissions boundary ---------------------------------------------------------------------


def _boundary(resources: TemplateDict) -> list[dict[str, Any]]:
    boundary = resources["FunctionPermissionsBoundary"]
    assert boundary["Type"] == "AWS::IAM::ManagedPolicy"
    return list(boundary["Properties"]["PolicyDocument"]["Statement"])


def test_every_function_role_is_capped_by_the_stacks_permissions_boundary(template: TemplateDict) -> None:
    assert template["Globals"]["Function"]["PermissionsBoundary"] == Intrinsic(
        "Ref", "FunctionPermissionsBoundary"
    )
    for function, properties in resources_of_type(template, "AWS::Serverless::Function").items():
        assert "PermissionsBoundary" not in properties, function
        assert "Role" not in properties, f"{function}: SAM must generate its role"


@pytest.mark.parametrize("function", FUNCTIONS)
def test_boundary_allows_every_action_the_function_policies_grant(
    resources: TemplateDict, function: str
) -> None:
    boundary = _boundary(resources)
    for statement in _function_statements(resources, function):
        for target in _as_list(statement["Resource"]):
            missing = set(_actions(statement)) - _allowed(boundary, target)
            assert not missing, f"{function}: {sorted(missing)} on {target} would be denied on AWS"


def test_boundary_confines_event_source_actions_to_this_stacks_stream_and_queue(
    resources: TemplateDict,
) -> None:
    boundary = _boundary(resources)
    for statement in boundary:
        confined = set(_actions(statement)) & EVENT_SOURCE_ACTIONS
        if confined:
            assert _as_list(statement["Resource"]) in (
                [_sub("${ArticlesTable.Arn}/stream/*")],
                [_get_att("NotifyQueue.Arn")],
                [_get_att("RebuildQueue.Arn")],
            ), statement


def test_boundary_has_no_wildcard_action_and_no_data_action_on_every_resource(
    resources: TemplateDict,
) -> None:
    for statement in _boundary(resources):
        assert statement["Effect"] == "Allow" and "NotAction" not in statement, statement
        actions = _actions(statement)
        assert not [action for action in actions if "*" in action], statement
        if "*" in _as_list(statement["Resource"]):
            # Only X-Ray, which has no resource-level permissions for these actions.
            assert all(action.startswith("xray:") for action in actions), statement


# -- encryption at rest ---------------------------------------------------------------------------


def test_every_bucket_is_encrypted_at_rest(template: TemplateDict) -> None:
    buckets = resources_of_type(template, "AWS::S3::Bucket")
    assert buckets
    for bucket, properties in buckets.items():
        (rule,) = properties["BucketEncryption"]["ServerSideEncryptionConfiguration"]
        assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] in {"AES256", "aws:kms"}, bucket


def test_every_table_is_encrypted_at_rest(template: TemplateDict) -> None:
    tables = resources_of_type(template, "AWS::DynamoDB::Table")
    assert tables
    for table, properties in tables.items():
        assert properties["SSESpecification"]["SSEEnabled"] is True, table


def test_every_queue_and_dead_letter_queue_is_encrypted_at_rest(template: TemplateDict) -> None:
    queues = resources_of_type(template, "AWS::SQS::Queue")
    assert set(queues) >= KNOWN_DEAD_LETTER_QUEUES | {"NotifyQueue"}
    for queue, properties in queues.items():
        assert properties.get("SqsManagedSseEnabled") is True or properties.get("KmsMasterKeyId"), queue


# -- recovery -------------------------------------------------------------------------------------


def test_every_table_has_point_in_time_recovery_and_deletion_protection(template: TemplateDict) -> None:
    for table, properties in resources_of_type(template, "AWS::DynamoDB::Table").items():
        assert properties["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True, table
        assert properties["DeletionProtectionEnabled"] is True, table


def test_content_bucket_keeps_every_version_and_survives_the_stack(resources: TemplateDict) -> None:
    bucket = resources["ContentBucket"]
    assert bucket["Properties"]["VersioningConfiguration"]["Status"] == "Enabled"
    assert bucket["DeletionPolicy"] == "Retain"


# -- private buckets behind CloudFront ------------------------------------------------------------


def test_every_bucket_blocks_all_public_access(template: TemplateDict) -> None:
    for bucket, properties in resources_of_type(template, "AWS::S3::Bucket").items():
        assert properties["PublicAccessBlockConfiguration"] == {
            "BlockPublicAcls": True,
            "BlockPublicPolicy": True,
            "IgnorePublicAcls": True,
            "RestrictPublicBuckets": True,
        }, bucket
        assert properties["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}], (
            bucket
        )
        # A website endpoint cannot be private.
        assert "WebsiteConfiguration" not in properties, bucket


def test_bucket_policies_admit_only_this_distribution_and_refuse_plain_http(template: TemplateDict) -> None:
    policies = resources_of_type(template, "AWS::S3::BucketPolicy")
    assert {_referenced(policy["Bucket"]) for policy in policies.values()} == {"ContentBucket", "SiteBucket"}
    for name, policy in policies.items():
        statements = policy["PolicyDocument"]["Statement"]
        for statement in statements:
            if statement["Effect"] == "Allow":
                assert statement["Principal"] == {"Service": "cloudfront.amazonaws.com"}, name
                source = statement["Condition"]["StringEquals"]["AWS:SourceArn"]
                assert source.tag == "Sub" and source.value.endswith(":distribution/${SiteDistribution}")
                assert set(_actions(statement)) <= {"s3:GetObject", "s3:ListBucket"}, name
        denies = [s for s in statements if s["Effect"] == "Deny"]
        assert [s["Condition"] for s in denies] == [{"Bool": {"aws:SecureTransport": "false"}}], name


def test_site_and_media_are_served_through_cloudfronts_origin_access_control(resources: TemplateDict) -> None:
    control = resources["SiteOriginAccessControl"]["Properties"]["OriginAccessControlConfig"]
    assert control["OriginAccessControlOriginType"] == "s3"
    assert control["SigningBehavior"] == "always"
    assert control["SigningProtocol"] == "sigv4"
    origins = resources["SiteDistribution"]["Properties"]["DistributionConfig"]["Origins"]
    s3_origins = {
        _referenced(origin["DomainName"]): origin for origin in origins if "S3OriginConfig" in origin
    }
    assert set(s3_origins) == {"SiteBucket", "ContentBucket"}
    for origin in s3_origins.values():
        assert origin["OriginAccessControlId"] == _get_att("SiteOriginAccessControl.Id")
        # OAC, not the legacy origin access identity.
        assert origin["S3OriginConfig"]["OriginAccessIdentity"] == ""


# -- throttling -----------------------------------------------------------------------------------


def test_http_api_throttles_every_route_with_parameters_that_have_sane_defaults(
    template: TemplateDict,
) -> None:
    settings = template["Resources"]["HttpApi"]["Properties"]["DefaultRouteSettings"]
    parameters = template["Parameters"]
    defaults: dict[str, float] = {}
    for setting, parameter, account_limit in (
        ("ThrottlingBurstLimit", "ApiThrottlingBurstLimit", 5000),
        ("ThrottlingRateLimit", "ApiThrottlingRateLimit", 10000),
    ):
        assert settings[setting] == Intrinsic("Ref", parameter)
        spec = parameters[parameter]
        assert spec["Type"] == "Number"
        assert 1 <= spec["MinValue"] <= spec["Default"] <= spec["MaxValue"] <= account_limit, parameter
        defaults[setting] = spec["Default"]
    # A burst smaller than the steady rate would refuse the rate itself.
    assert defaults["ThrottlingBurstLimit"] >= defaults["ThrottlingRateLimit"]


# -- alarms ---------------------------------------------------------------------------------------


def _dead_letter_queues(template: TemplateDict) -> set[str | None]:
    """Every queue something dead-letters into: redrive targets and failure destinations."""
    targets: list[Any] = [
        properties["RedrivePolicy"]["deadLetterTargetArn"]
        for properties in resources_of_type(template, "AWS::SQS::Queue").values()
        if "RedrivePolicy" in properties
    ]
    for properties in resources_of_type(template, "AWS::Serverless::Function").values():
        configs = [properties.get("EventInvokeConfig") or {}]
        configs += [event.get("Properties") or {} for event in (properties.get("Events") or {}).values()]
        for config in configs:
            on_failure = (config.get("DestinationConfig") or {}).get("OnFailure") or {}
            if "Destination" in on_failure:
                targets.append(on_failure["Destination"])
            if "DeadLetterConfig" in config:
                targets.append(config["DeadLetterConfig"]["Arn"])
        if "DeadLetterQueue" in properties:
            targets.append(properties["DeadLetterQueue"]["TargetArn"])
    return {_referenced(target) for target in targets}


def _alarms(template: TemplateDict) -> list[dict[str, Any]]:
    return list(resources_of_type(template, "AWS::CloudWatch::Alarm").values())


def _fires_on_the_first(alarm: dict[str, Any]) -> bool:
    return (
        alarm["ComparisonOperator"] == "GreaterThanThreshold"
        and alarm["Threshold"] == 0
        and Intrinsic("Ref", "AlarmTopic") in alarm["AlarmActions"]
    )


def test_every_dead_letter_queue_has_an_alarm_on_its_first_message(template: TemplateDict) -> None:
    queues = _dead_letter_queues(template)
    assert queues >= KNOWN_DEAD_LETTER_QUEUES
    for queue in queues:
        assert queue in resources_of_type(template, "AWS::SQS::Queue"), queue
        depth = Intrinsic("GetAtt", f"{queue}.QueueName")
        alarms = [
            alarm
            for alarm in _alarms(template)
            if alarm["Namespace"] == "AWS/SQS"
            and alarm["MetricName"] == "ApproximateNumberOfMessagesVisible"
            and alarm["Dimensions"] == [{"Name": "QueueName", "Value": depth}]
        ]
        assert len(alarms) == 1, queue
        assert _fires_on_the_first(alarms[0]), queue


def test_every_function_has_an_alarm_on_its_errors(template: TemplateDict) -> None:
    functions = resources_of_type(template, "AWS::Serverless::Function")
    assert set(functions) >= {"ApiFunction", "PublisherFunction", "SchedulerFunction", "NotifierFunction"}
    for function in functions:
        alarms = [
            alarm
            for alarm in _alarms(template)
            if alarm["Namespace"] == "AWS/Lambda"
            and alarm["MetricName"] == "Errors"
            and alarm["Dimensions"] == [{"Name": "FunctionName", "Value": Intrinsic("Ref", function)}]
        ]
        assert len(alarms) == 1, function
        assert _fires_on_the_first(alarms[0]), function
        assert alarms[0]["Statistic"] == "Sum", function


# -- checkov suppressions -------------------------------------------------------------------------


def test_every_checkov_suppression_gives_its_reason_and_is_listed_in_the_deploy_docs(
    resources: TemplateDict,
) -> None:
    docs = DOCS_DEPLOY.read_text(encoding="utf-8")
    suppressed = 0
    for logical_id, resource in resources.items():
        for skip in ((resource.get("Metadata") or {}).get("checkov") or {}).get("skip", []):
            suppressed += 1
            assert re.fullmatch(r"CKV2?_AWS_\d+", skip["id"]), (logical_id, skip)
            assert len(skip.get("comment", "")) >= 40, f"{logical_id} {skip['id']}: say why"
            assert re.search(rf"`{skip['id']}`(?:(?!\n- |\n\n).)*`{logical_id}`", docs, re.DOTALL), (
                f"docs/deploy.md: no item lists {skip['id']} for {logical_id}"
            )
    assert suppressed
