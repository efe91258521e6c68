"""template.yaml stays in step with the code: environment, table keys, handlers, routes."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from functions.config import ENVIRONMENT_VARIABLES
from functions.dal import schema

TEMPLATE = Path(__file__).resolve().parents[2] / "template.yaml"
POWERTOOLS_VARIABLES = {"POWERTOOLS_SERVICE_NAME", "POWERTOOLS_METRICS_NAMESPACE", "POWERTOOLS_LOG_LEVEL"}
FUNCTIONS = (
    "ApiFunction",
    "PublisherFunction",
    "SchedulerFunction",
    "NotifierFunction",
    "ReconcilerFunction",
    "RebuildWorkerFunction",
)
# The API's routes, exactly (tests/unit/test_api_routes.py compares them with the code's).
API_ROUTES = {
    ("POST", "/api/articles"),
    ("GET", "/api/articles"),
    ("GET", "/api/articles/{id}"),
    ("PUT", "/api/articles/{id}"),
    ("PATCH", "/api/articles/{id}"),
    ("GET", "/api/articles/{id}/revisions"),
    ("POST", "/api/articles/{id}/publish"),
    ("POST", "/api/articles/{id}/retract"),
    ("POST", "/api/articles/{id}/reinstate"),
    ("POST", "/api/articles/{id}/preview"),
    ("GET", "/api/preview/{token}"),
    ("POST", "/api/media"),
    ("POST", "/api/keys"),
    ("GET", "/api/keys"),
    ("DELETE", "/api/keys/{key_id}"),
    ("GET", "/api/openapi.json"),
    ("GET", "/api/docs"),
    ("GET", "/api/syndication/articles"),
    ("GET", "/api/syndication/articles/{id}"),
    ("POST", "/api/partners"),
    ("GET", "/api/partners"),
    ("GET", "/api/partners/{id}/deliveries"),
    ("DELETE", "/api/partners/{id}"),
}
# Managed-CachingOptimized: its one-day DefaultTTL would ignore short-lived pages without Cache-Control.
CACHING_OPTIMIZED = "658327ea-f89d-4fab-a63d-7e88639e58f6"


class _CloudFormationLoader(yaml.SafeLoader):
    """SafeLoader that reads short tags (!Ref X, !GetAtt A.B, !Sub ...) as {"Fn::...": value}."""


def _short_tag(loader: _CloudFormationLoader, tag_suffix: str, node: yaml.Node) -> dict[str, Any]:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    name = "Ref" if tag_suffix == "Ref" else f"Fn::{tag_suffix}"
    return {name: value}


_CloudFormationLoader.add_multi_constructor("!", _short_tag)


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return yaml.load(TEMPLATE.read_text(encoding="utf-8"), Loader=_CloudFormationLoader)


@pytest.fixture(scope="module")
def resources(template: dict[str, Any]) -> dict[str, Any]:
    return template["Resources"]


def _table(resources: dict[str, Any]) -> dict[str, Any]:
    return resources["ArticlesTable"]["Properties"]


def _keys(key_schema: list[dict[str, str]]) -> tuple[str, str]:
    by_type = {key["KeyType"]: key["AttributeName"] for key in key_schema}
    return by_type["HASH"], by_type["RANGE"]


def test_globals_declare_exactly_the_environment_the_code_reads(template):
    variables = template["Globals"]["Function"]["Environment"]["Variables"]
    assert set(variables) == set(ENVIRONMENT_VARIABLES) | POWERTOOLS_VARIABLES


def test_resource_names_reach_functions_as_refs(template):
    variables = template["Globals"]["Function"]["Environment"]["Variables"]
    assert variables["CONTENT_BUCKET"] == {"Ref": "ContentBucket"}
    assert variables["SITE_BUCKET"] == {"Ref": "SiteBucket"}
    assert variables["TABLE_NAME"] == {"Ref": "ArticlesTable"}
    assert variables["SITE_URL"] == {"Ref": "SiteUrl"}
    # Ref of an SQS queue is its URL (the local stack resolves it the same way).
    assert variables["NOTIFY_QUEUE_URL"] == {"Ref": "NotifyQueue"}


def test_private_webhooks_are_off_on_aws_and_on_only_in_the_local_stack(template):
    from infra.local.stack import LOCAL_SETTINGS

    variables = template["Globals"]["Function"]["Environment"]["Variables"]
    assert variables["ALLOW_PRIVATE_WEBHOOKS"] == "false"
    # The local stack's partners and hubs listen on 127.0.0.1 over http.
    assert LOCAL_SETTINGS == {"ALLOW_PRIVATE_WEBHOOKS": "true"}


def test_syndication_settings_come_from_parameters_with_defaults(template):
    variables = template["Globals"]["Function"]["Environment"]["Variables"]
    for variable, parameter in {
        "WEBSUB_HUBS": "WebSubHubs",
        "RIGHTS_HOLDER": "RightsHolder",
        "USAGE_TERMS": "UsageTerms",
    }.items():
        assert variables[variable] == {"Ref": parameter}
        # The local stack (and a first deploy) needs a default for every new parameter.
        assert template["Parameters"][parameter]["Type"] == "String"
        assert template["Parameters"][parameter]["Default"] == ""


@pytest.mark.parametrize(
    ("value", "accepted"),
    [
        ("", True),
        ("https://pubsubhubbub.appspot.com/", True),
        ("https://hub.example/,https://other.example/hub", True),
        ("https://hub.example/, https://other.example/hub", True),
        ("hub.example", False),
        ("https://hub.example/,", False),
    ],
)
def test_websub_hubs_parameter_takes_comma_separated_urls(template, value, accepted):
    pattern = template["Parameters"]["WebSubHubs"]["AllowedPattern"]
    assert (re.fullmatch(pattern, value) is not None) is accepted


def test_functions_run_python_313_on_arm64_with_tracing(template):
    function = template["Globals"]["Function"]
    assert function["Runtime"] == "python3.13"
    assert function["Architectures"] == ["arm64"]
    assert function["Tracing"] == "Active"


def test_table_key_schema_matches_the_storage_layer(resources):
    assert _keys(_table(resources)["KeySchema"]) == (schema.PARTITION_KEY, schema.SORT_KEY)


def test_table_indexes_match_the_storage_layer_both_ways(resources):
    declared = {
        index["IndexName"]: _keys(index["KeySchema"]) for index in _table(resources)["GlobalSecondaryIndexes"]
    }
    assert declared == schema.INDEXES


def test_listing_index_projects_everything(resources):
    (index,) = _table(resources)["GlobalSecondaryIndexes"]
    assert index["IndexName"] == schema.LISTING_INDEX == "listings"
    assert _keys(index["KeySchema"]) == (schema.LISTING_PARTITION_KEY, schema.LISTING_SORT_KEY)
    assert index["Projection"] == {"ProjectionType": "ALL"}


def test_table_expires_items_on_the_storage_layers_ttl_attribute(resources):
    assert _table(resources)["TimeToLiveSpecification"] == {
        "AttributeName": schema.TTL_ATTRIBUTE,
        "Enabled": True,
    }


def test_every_key_attribute_is_declared_as_a_string(resources):
    definitions = {d["AttributeName"]: d["AttributeType"] for d in _table(resources)["AttributeDefinitions"]}
    key_attributes = {schema.PARTITION_KEY, schema.SORT_KEY}
    for partition, sort in schema.INDEXES.values():
        key_attributes |= {partition, sort}
    assert definitions == dict.fromkeys(key_attributes, "S")


def test_table_stream_carries_new_and_old_images(resources):
    assert _table(resources)["StreamSpecification"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"


def test_table_and_content_bucket_survive_stack_deletion(resources):
    for name in ("ArticlesTable", "ContentBucket"):
        assert resources[name]["DeletionPolicy"] == "Retain"
        assert resources[name]["UpdateReplacePolicy"] == "Retain"
    assert _table(resources)["DeletionProtectionEnabled"] is True


def test_content_bucket_keeps_every_revision(resources):
    assert resources["ContentBucket"]["Properties"]["VersioningConfiguration"]["Status"] == "Enabled"


@pytest.mark.parametrize("bucket", ["ContentBucket", "SiteBucket"])
def test_buckets_are_private_and_encrypted(resources, bucket):
    properties = resources[bucket]["Properties"]
    assert set(properties["PublicAccessBlockConfiguration"].values()) == {True}
    assert properties["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]
    assert properties["BucketEncryption"]["ServerSideEncryptionConfiguration"]


@pytest.mark.parametrize("function", FUNCTIONS)
def test_handler_names_a_module_under_functions_handlers(resources, function):
    handler = resources[function]["Properties"]["Handler"]
    # functions.handlers.<module>.lambda_handler, i.e. functions/handlers/<module>.py
    assert re.fullmatch(r"functions\.handlers\.[a-z_][a-z0-9_]*\.lambda_handler", handler), handler


@pytest.mark.parametrize("function", FUNCTIONS)
def test_functions_are_built_by_the_makefile_from_the_repo_root(resources, function):
    assert resources[function]["Properties"]["CodeUri"] == "."
    assert resources[function]["Metadata"]["BuildMethod"] == "makefile"


def _http_routes(resources: dict[str, Any]) -> list[tuple[str, str]]:
    routes = []
    for resource in resources.values():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        for event in resource["Properties"].get("Events", {}).values():
            if event["Type"] == "HttpApi":
                assert event["Properties"]["ApiId"] == {"Ref": "HttpApi"}
                routes.append((event["Properties"]["Method"], event["Properties"]["Path"]))
    return routes


def test_every_http_route_is_under_api(resources):
    routes = _http_routes(resources)
    assert routes
    for _method, path in routes:
        assert path.startswith("/api/"), path


def test_http_routes_are_explicit_never_a_proxy(resources):
    routes = _http_routes(resources)
    assert not [path for _method, path in routes if "+}" in path]
    assert len(routes) == len(set(routes))
    assert ("GET", "/api/openapi.json") in routes


def test_http_routes_are_exactly_the_apis_routes_all_on_the_api_function(resources):
    assert set(_http_routes(resources)) == API_ROUTES
    api_events = resources["ApiFunction"]["Properties"]["Events"].values()
    assert {(e["Properties"]["Method"], e["Properties"]["Path"]) for e in api_events} == API_ROUTES


def _statements(resources: dict[str, Any], function: str) -> list[dict[str, Any]]:
    (policy,) = resources[function]["Properties"]["Policies"]
    return policy["Statement"]


def _actions(statement: dict[str, Any]) -> set[str]:
    action = statement["Action"]
    return {action} if isinstance(action, str) else set(action)


def _allowed(resources: dict[str, Any], function: str, resource: Any) -> set[str]:
    """The actions a function's policy allows on exactly this resource expression."""
    allowed: set[str] = set()
    for statement in _statements(resources, function):
        targets = (
            statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        )
        if statement["Effect"] == "Allow" and resource in targets:
            allowed |= _actions(statement)
    return allowed


TABLE_ARN = {"Fn::GetAtt": "ArticlesTable.Arn"}
TABLE_INDEXES = {"Fn::Sub": "${ArticlesTable.Arn}/index/*"}


def test_no_policy_uses_wildcard_actions(resources):
    for function in FUNCTIONS:
        for statement in _statements(resources, function):
            assert not [action for action in _actions(statement) if "*" in action], (function, statement)


def test_api_may_delete_listing_items_and_presign_media_uploads(resources):
    assert "dynamodb:DeleteItem" in _allowed(resources, "ApiFunction", TABLE_ARN)
    assert "s3:PutObject" in _allowed(resources, "ApiFunction", {"Fn::Sub": "${ContentBucket.Arn}/media/*"})
    # Never a table-wide read.
    all_actions = set().union(*(_actions(s) for s in _statements(resources, "ApiFunction")))
    assert "dynamodb:Scan" not in all_actions


def test_publisher_writes_and_deletes_site_objects(resources):
    assert {"s3:PutObject", "s3:DeleteObject"} <= _allowed(
        resources, "PublisherFunction", {"Fn::Sub": "${SiteBucket.Arn}/*"}
    )


def test_scheduler_runs_every_minute(resources):
    properties = resources["SchedulerFunction"]["Properties"]
    assert properties["Handler"] == "functions.handlers.scheduler.lambda_handler"
    (event,) = properties["Events"].values()
    assert event["Type"] == "Schedule"
    assert event["Properties"]["Schedule"] == "rate(1 minute)"
    assert event["Properties"]["Enabled"] is True
    # A run must normally end before the next one starts.
    assert properties["Timeout"] < 60


def test_scheduler_failures_end_in_its_dead_letter_queue(resources):
    properties = resources["SchedulerFunction"]["Properties"]
    queue_arn = {"Fn::GetAtt": "SchedulerDeadLetterQueue.Arn"}
    assert properties["EventInvokeConfig"]["DestinationConfig"]["OnFailure"] == {
        "Type": "SQS",
        "Destination": queue_arn,
    }
    (event,) = properties["Events"].values()
    assert event["Properties"]["DeadLetterConfig"] == {"Arn": queue_arn}
    # EventBridge may deliver to the queue only for this stack's scheduler rule.
    (statement,) = resources["SchedulerDeadLetterQueuePolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert statement["Principal"] == {"Service": "events.amazonaws.com"}
    assert statement["Resource"] == queue_arn
    rule_name = event["Properties"]["Name"]["Fn::Sub"]
    assert statement["Condition"]["ArnEquals"]["aws:SourceArn"]["Fn::Sub"].endswith(f":rule/{rule_name}")


def test_scheduler_policy_is_what_publishing_a_due_article_needs(resources):
    assert _allowed(resources, "SchedulerFunction", TABLE_INDEXES) == {"dynamodb:Query"}
    assert _allowed(resources, "SchedulerFunction", TABLE_ARN) == {
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:DeleteItem",
        "dynamodb:ConditionCheckItem",
    }
    assert _allowed(resources, "SchedulerFunction", {"Fn::Sub": "${ContentBucket.Arn}/articles/*"}) == {
        "s3:GetObject",
        "s3:GetObjectVersion",
        "s3:PutObject",
    }
    resources_named = [statement["Resource"] for statement in _statements(resources, "SchedulerFunction")]
    assert {"Fn::Sub": "${SiteBucket.Arn}/*"} not in resources_named


# EventBridge cron fields: minutes hours day-of-month month day-of-week year.
DAILY_CRON = re.compile(r"cron\((\d{1,2}) (\d{1,2}) \* \* \? \*\)")


def test_reconciler_runs_once_a_day_at_half_past_three_in_vietnam(resources):
    properties = resources["ReconcilerFunction"]["Properties"]
    assert properties["Handler"] == "functions.handlers.reconciler.lambda_handler"
    (event,) = properties["Events"].values()
    assert event["Type"] == "Schedule"
    assert event["Properties"]["Enabled"] is True
    daily = DAILY_CRON.fullmatch(event["Properties"]["Schedule"])
    assert daily, f"{event['Properties']['Schedule']}: not one fixed time every day"
    # EventBridge rules run in UTC; Asia/Ho_Chi_Minh is UTC+07:00 all year.
    minute, hour = int(daily.group(1)), int(daily.group(2))
    assert ((hour + 7) % 24, minute) == (3, 30)


def test_reconciler_runs_alone_for_up_to_lambdas_fifteen_minutes(resources):
    properties = resources["ReconcilerFunction"]["Properties"]
    assert properties["Timeout"] == 900
    # Two reconciles at once would render and compare the whole site twice over.
    assert properties["ReservedConcurrentExecutions"] == 1
    # A failed run is retried at most once; the next day's run is the real retry.
    assert properties["EventInvokeConfig"]["MaximumRetryAttempts"] <= 1


def test_reconciler_reads_articles_and_rewrites_the_site_but_never_deletes_or_notifies(resources):
    assert _allowed(resources, "ReconcilerFunction", {"Fn::Sub": "${ContentBucket.Arn}/articles/*"}) == {
        "s3:GetObjectVersion"
    }
    assert _allowed(resources, "ReconcilerFunction", {"Fn::Sub": "${SiteBucket.Arn}/*"}) == {
        "s3:GetObject",
        "s3:PutObject",
    }
    assert _allowed(resources, "ReconcilerFunction", {"Fn::GetAtt": "SiteBucket.Arn"}) == {"s3:ListBucket"}
    assert _allowed(resources, "ReconcilerFunction", TABLE_ARN) == {
        "dynamodb:GetItem",
        "dynamodb:BatchGetItem",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
    }
    assert _allowed(resources, "ReconcilerFunction", TABLE_INDEXES) == {"dynamodb:Query"}
    assert _allowed(resources, "ReconcilerFunction", NOTIFY_QUEUE_ARN) == set()
    assert _allowed(resources, "ReconcilerFunction", {"Fn::Sub": "${ContentBucket.Arn}/media/*"}) == set()


@pytest.mark.parametrize(
    "queue",
    [
        "PublisherDeadLetterQueue",
        "SchedulerDeadLetterQueue",
        "NotifyDeadLetterQueue",
        "RebuildDeadLetterQueue",
    ],
)
def test_dead_letter_queues_are_encrypted_kept_14_days_and_alarmed(resources, queue):
    properties = resources[queue]["Properties"]
    assert properties["SqsManagedSseEnabled"] is True
    assert properties["MessageRetentionPeriod"] == 14 * 24 * 3600
    alarmed = [
        resource["Properties"]
        for resource in resources.values()
        if resource["Type"] == "AWS::CloudWatch::Alarm"
        and {"Name": "QueueName", "Value": {"Fn::GetAtt": f"{queue}.QueueName"}}
        in resource["Properties"]["Dimensions"]
    ]
    assert len(alarmed) == 1
    assert alarmed[0]["AlarmActions"] == [{"Ref": "AlarmTopic"}]


@pytest.mark.parametrize("function", FUNCTIONS)
def test_every_function_has_an_errors_alarm_and_its_own_log_group(resources, function):
    alarms = [
        resource["Properties"]
        for resource in resources.values()
        if resource["Type"] == "AWS::CloudWatch::Alarm"
        and resource["Properties"]["MetricName"] == "Errors"
        and resource["Properties"]["Dimensions"] == [{"Name": "FunctionName", "Value": {"Ref": function}}]
    ]
    assert len(alarms) == 1
    log_group = resources[function]["Properties"]["LoggingConfig"]["LogGroup"]["Ref"]
    assert resources[log_group]["Type"] == "AWS::Logs::LogGroup"


def test_publisher_stream_failures_end_in_the_dead_letter_queue(resources):
    events = resources["PublisherFunction"]["Properties"]["Events"]
    (stream,) = [event["Properties"] for event in events.values() if event["Type"] == "DynamoDB"]
    assert stream["Stream"] == {"Fn::GetAtt": "ArticlesTable.StreamArn"}
    assert stream["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert stream["BisectBatchOnFunctionError"] is True
    assert 0 < stream["MaximumRetryAttempts"] <= 10
    assert stream["DestinationConfig"]["OnFailure"]["Destination"] == {
        "Fn::GetAtt": "PublisherDeadLetterQueue.Arn"
    }


NOTIFY_QUEUE_ARN = {"Fn::GetAtt": "NotifyQueue.Arn"}


def test_notify_queue_is_encrypted_and_redrives_to_its_dead_letter_queue(resources):
    properties = resources["NotifyQueue"]["Properties"]
    assert properties["SqsManagedSseEnabled"] is True
    assert properties["RedrivePolicy"] == {
        "deadLetterTargetArn": {"Fn::GetAtt": "NotifyDeadLetterQueue.Arn"},
        "maxReceiveCount": 8,
    }
    # A message's age counts from its first enqueue, also once dead-lettered.
    dead_letter = resources["NotifyDeadLetterQueue"]["Properties"]
    assert properties.get("MessageRetentionPeriod", 345600) < dead_letter["MessageRetentionPeriod"]


def test_notify_queue_hides_a_batch_for_six_notifier_timeouts(resources):
    timeout = resources["NotifierFunction"]["Properties"]["Timeout"]
    assert timeout == 30
    assert resources["NotifyQueue"]["Properties"]["VisibilityTimeout"] >= 6 * timeout


def test_notifier_consumes_the_notify_queue_with_partial_batch_responses(resources):
    properties = resources["NotifierFunction"]["Properties"]
    assert properties["Handler"] == "functions.handlers.notifier.lambda_handler"
    (event,) = properties["Events"].values()
    assert event["Type"] == "SQS"
    assert event["Properties"] == {
        "Queue": NOTIFY_QUEUE_ARN,
        "BatchSize": 10,
        "MaximumBatchingWindowInSeconds": 1,
        "FunctionResponseTypes": ["ReportBatchItemFailures"],
    }
    # Outbound HTTPS to partners and hubs: not in a VPC (it would need a NAT gateway).
    assert "VpcConfig" not in properties


def test_notifier_policy_is_what_delivering_notifications_needs(resources):
    assert _allowed(resources, "NotifierFunction", NOTIFY_QUEUE_ARN) == {
        "sqs:SendMessage",
        "sqs:ChangeMessageVisibility",
    }
    table_actions = {"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:Query"}
    assert _allowed(resources, "NotifierFunction", TABLE_ARN) == table_actions
    assert _allowed(resources, "NotifierFunction", TABLE_INDEXES) == table_actions
    assert _allowed(resources, "NotifierFunction", {"Fn::Sub": "${ContentBucket.Arn}/articles/*"}) == {
        "s3:GetObject",
        "s3:GetObjectVersion",
    }
    resources_named = [statement["Resource"] for statement in _statements(resources, "NotifierFunction")]
    assert {"Fn::Sub": "${SiteBucket.Arn}/*"} not in resources_named


@pytest.mark.parametrize("function", ["PublisherFunction", "SchedulerFunction"])
def test_functions_that_notify_may_send_to_the_notify_queue(resources, function):
    assert _allowed(resources, function, NOTIFY_QUEUE_ARN) == {"sqs:SendMessage"}


def test_the_api_sends_no_notifications_so_it_may_not_use_the_notify_queue(resources):
    assert _allowed(resources, "ApiFunction", NOTIFY_QUEUE_ARN) == set()


def test_cloudfront_reads_media_but_never_canonical_articles(resources):
    statements = resources["ContentBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    allowed = [s for s in statements if s["Effect"] == "Allow"]
    assert allowed
    for statement in allowed:
        assert statement["Principal"] == {"Service": "cloudfront.amazonaws.com"}
        assert statement["Resource"] == {"Fn::Sub": "${ContentBucket.Arn}/media/*"}
        assert "AWS:SourceArn" in statement["Condition"]["StringEquals"]


def test_distribution_routes_api_and_media_to_their_origins(resources):
    config = resources["SiteDistribution"]["Properties"]["DistributionConfig"]
    origins = {origin["Id"]: origin for origin in config["Origins"]}
    behaviours = {b["PathPattern"]: b for b in config["CacheBehaviors"]}
    assert config["DefaultCacheBehavior"]["ViewerProtocolPolicy"] == "redirect-to-https"
    assert origins[config["DefaultCacheBehavior"]["TargetOriginId"]]["DomainName"] == {
        "Fn::GetAtt": "SiteBucket.RegionalDomainName"
    }
    assert origins[behaviours["/media/*"]["TargetOriginId"]]["DomainName"] == {
        "Fn::GetAtt": "ContentBucket.RegionalDomainName"
    }
    api_origin = origins[behaviours["/api/*"]["TargetOriginId"]]
    assert api_origin["DomainName"] == {"Fn::Sub": "${HttpApi}.execute-api.${AWS::Region}.amazonaws.com"}
    assert len(behaviours["/api/*"]["AllowedMethods"]) == 7


def _cache_policy(resources: dict[str, Any], behaviour: dict[str, Any]) -> dict[str, Any]:
    reference = behaviour["CachePolicyId"]
    assert isinstance(reference, dict), f"{reference}: a managed policy, expected SiteCachePolicy"
    assert resources[reference["Ref"]]["Type"] == "AWS::CloudFront::CachePolicy"
    return resources[reference["Ref"]]["Properties"]["CachePolicyConfig"]


def test_site_and_media_are_cached_as_their_cache_control_says(resources):
    config = resources["SiteDistribution"]["Properties"]["DistributionConfig"]
    behaviours = {b["PathPattern"]: b for b in config["CacheBehaviors"]}
    for behaviour in (config["DefaultCacheBehavior"], behaviours["/media/*"]):
        assert behaviour["CachePolicyId"] != CACHING_OPTIMIZED
        policy = _cache_policy(resources, behaviour)
        # no-cache/no-store pass through; max-age=60 pages expire in a minute; immutable archive
        # pages and media stay a year; an object without Cache-Control stays a minute, not a day.
        assert policy["MinTTL"] == 0
        assert policy["DefaultTTL"] == 60
        assert policy["MaxTTL"] == 31536000
        keyed = policy["ParametersInCacheKeyAndForwardedToOrigin"]
        assert keyed["EnableAcceptEncodingGzip"] is True
        assert keyed["EnableAcceptEncodingBrotli"] is True
        assert keyed["QueryStringsConfig"] == {"QueryStringBehavior": "none"}
        assert keyed["CookiesConfig"] == {"CookieBehavior": "none"}
        assert keyed["HeadersConfig"] == {"HeaderBehavior": "none"}
    # The API is never cached.
    assert behaviours["/api/*"]["CachePolicyId"] == "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"


def test_outputs_name_the_api_site_and_storage(template):
    assert {"ApiUrl", "SiteUrl", "ContentBucketName", "SiteBucketName", "TableName"} <= set(
        template["Outputs"]
    )


def _default_behaviour_functions(resources: dict[str, Any]) -> dict[str, str]:
    """event type -> logical id of the CloudFront Function on the default behaviour."""
    config = resources["SiteDistribution"]["Properties"]["DistributionConfig"]
    return {
        association["EventType"]: association["FunctionARN"]["Fn::GetAtt"].split(".")[0]
        for association in config["DefaultCacheBehavior"]["FunctionAssociations"]
    }


def test_default_behaviour_rewrites_requests_and_restores_stored_statuses(resources):
    functions = _default_behaviour_functions(resources)
    assert set(functions) == {"viewer-request", "viewer-response"}
    for logical_id in functions.values():
        properties = resources[logical_id]["Properties"]
        assert resources[logical_id]["Type"] == "AWS::CloudFront::Function"
        assert properties["FunctionConfig"]["Runtime"] == "cloudfront-js-2.0"
        assert properties["AutoPublish"] is True
    assert "x-amz-meta-http-status" in resources[functions["viewer-response"]]["Properties"]["FunctionCode"]


def _run_cloudfront_function(code: str, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    script = (
        code
        + "\nvar events = "
        + json.dumps(events)
        + ";\nconsole.log(JSON.stringify(events.map(function (event) { return handler(event); })));"
    )
    done = subprocess.run(["node", "-e", script], capture_output=True, text=True, timeout=30, check=True)
    return json.loads(done.stdout)


def _viewer_response(status: int, headers: dict[str, str]) -> dict[str, Any]:
    return {
        "response": {
            "statusCode": status,
            "statusDescription": "OK" if status == 200 else "Other",
            "headers": {name: {"value": value} for name, value in headers.items()},
        }
    }


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_viewer_response_function_answers_410_for_retracted_pages(resources):
    code = resources[_default_behaviour_functions(resources)["viewer-response"]]["Properties"]["FunctionCode"]
    html = {"content-type": "text/html"}
    events = [
        _viewer_response(200, {**html, "x-amz-meta-http-status": "410"}),
        _viewer_response(200, html),
        _viewer_response(200, {**html, "x-amz-meta-http-status": "451"}),
        _viewer_response(200, {**html, "x-amz-meta-http-status": "418"}),
        # Not a usable status: the page is served as it is, without the header.
        _viewer_response(200, {**html, "x-amz-meta-http-status": "41"}),
        _viewer_response(200, {**html, "x-amz-meta-http-status": "gone"}),
        _viewer_response(200, {**html, "x-amz-meta-http-status": "301"}),
        # A revalidation keeps its 304.
        _viewer_response(304, {"x-amz-meta-http-status": "410"}),
    ]
    results = _run_cloudfront_function(code, events)
    statuses = [(r["statusCode"], r["statusDescription"]) for r in results]
    assert statuses == [
        (410, "Gone"),
        (200, "OK"),
        (451, "Unavailable For Legal Reasons"),
        (418, "Client Error"),
        (200, "OK"),
        (200, "OK"),
        (200, "OK"),
        (304, "Other"),
    ]
    for result in results:
        assert "x-amz-meta-http-status" not in result["headers"]
    assert results[0]["headers"] == {"content-type": {"value": "text/html"}}


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_viewer_request_function_serves_index_html_for_directories(resources):
    code = resources[_default_behaviour_functions(resources)["viewer-request"]]["Properties"]["FunctionCode"]
    uris = ["/", "/thoi-su/", "/thoi-su", "/feed.xml", "/a/b/c.html"]
    results = _run_cloudfront_function(code, [{"request": {"uri": uri, "headers": {}}} for uri in uris])
    assert [r["uri"] for r in results] == [
        "/index.html",
        "/thoi-su/index.html",
        "/thoi-su/index.html",
        "/feed.xml",
        "/a/b/c.html",
    ]
