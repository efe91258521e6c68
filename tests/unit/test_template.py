"""template.yaml stays in step with the code: environment, table keys, handlers, routes."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from functions.config import ENVIRONMENT_VARIABLES
from functions.dal import schema

TEMPLATE = Path(__file__).resolve().parents[2] / "template.yaml"
POWERTOOLS_VARIABLES = {"POWERTOOLS_SERVICE_NAME", "POWERTOOLS_METRICS_NAMESPACE", "POWERTOOLS_LOG_LEVEL"}
FUNCTIONS = ("ApiFunction", "PublisherFunction")


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


def test_outputs_name_the_api_site_and_storage(template):
    assert {"ApiUrl", "SiteUrl", "ContentBucketName", "SiteBucketName", "TableName"} <= set(
        template["Outputs"]
    )
