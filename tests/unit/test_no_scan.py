"""No code under functions/ reads DynamoDB with Scan: every read is a GetItem or a Query.

A Scan reads the whole table, so its cost grows with the archive (DESIGN.md: "the indexes that
make every read a Query, never a Scan"), and the functions' IAM policies do not grant it
(tests/unit/test_template_security.py). Two guards, each with a test that it would catch one:

- statically, here: the syntax tree of every module under functions/ is searched for a call or
  attribute named scan (client.scan, Table.scan), the names of the operation and its paginator
  ("scan", "Scan", "dynamodb:Scan", as in get_paginator("scan") or getattr(client, "scan")),
  and PartiQL statements (execute_statement), which scan whenever their WHERE misses the key;
- at run time, in the integration tests: tests/integration/conftest.py's harness registers a
  botocore hook that fails every Scan call made from code under functions/ (a test may still scan
  the table itself, to inspect it).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from tests.integration.conftest import refusing_scans

FUNCTIONS = Path(__file__).resolve().parents[2] / "functions"

# What reading DynamoDB without a key looks like in Python: boto3's client and resource methods,
# the operation's name, its paginator's name and its IAM action.
_SCAN_NAMES = frozenset({"scan"})
_PARTIQL_METHODS = frozenset({"execute_statement", "batch_execute_statement"})
_SCAN_STRING = re.compile(r"(dynamodb[:.])?scan", re.IGNORECASE)


def scan_uses(source: str, filename: str = "<snippet>") -> list[str]:
    """Where `source` reads DynamoDB by Scan (or by PartiQL, which may scan): "line: what"."""
    found: list[str] = []
    for node in ast.walk(ast.parse(source, filename)):
        if isinstance(node, ast.Attribute) and node.attr.lower() in _SCAN_NAMES:
            found.append(f"{node.lineno}: .{node.attr}")
        elif isinstance(node, ast.Attribute) and node.attr in _PARTIQL_METHODS:
            found.append(f"{node.lineno}: .{node.attr} (PartiQL)")
        elif isinstance(node, ast.Name) and node.id.lower() in _SCAN_NAMES:
            found.append(f"{node.lineno}: {node.id}")
        elif (
            isinstance(node, ast.alias)
            and (node.asname or node.name).rsplit(".", 1)[-1].lower() in _SCAN_NAMES
        ):
            found.append(f"{node.lineno}: import {node.name}")
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and _SCAN_STRING.fullmatch(node.value.strip())
        ):
            found.append(f"{node.lineno}: {node.value!r}")
    return found


def modules() -> list[Path]:
    return sorted(FUNCTIONS.rglob("*.py"))


def test_the_search_covers_every_module_under_functions() -> None:
    names = {path.relative_to(FUNCTIONS).as_posix() for path in modules()}

    assert {"dal/aws.py", "logic/publish_articles.py", "handlers/publisher.py"} <= names
    assert len(names) > 30


@pytest.mark.parametrize("path", modules(), ids=lambda path: path.relative_to(FUNCTIONS).as_posix())
def test_no_module_under_functions_reads_dynamodb_by_scan(path: Path) -> None:
    assert scan_uses(path.read_text(encoding="utf-8"), str(path)) == []


@pytest.mark.parametrize(
    "snippet",
    [
        "self.dynamodb.scan(TableName=self.table_name)",
        "client.scan(TableName=name, FilterExpression='x')",
        "boto3.resource('dynamodb').Table(name).scan()",
        "read = self.dynamodb.scan",
        "pages = self.dynamodb.get_paginator('scan').paginate(TableName=name)",
        'pages = client.get_paginator("Scan")',
        "getattr(self.dynamodb, 'scan')(TableName=name)",
        "operation = 'Scan'",
        "ACTIONS = ['dynamodb:Scan']",
        "from boto3.dynamodb.table import scan",
        "client.execute_statement(Statement='SELECT * FROM \"articles\"')",
        "client.batch_execute_statement(Statements=[])",
    ],
)
def test_the_search_finds_a_scan_however_it_is_written(snippet: str) -> None:
    assert scan_uses(snippet) != []


@pytest.mark.parametrize(
    "snippet",
    [
        "query = {'ScanIndexForward': False, 'Limit': 50}",
        '"""Every listing is one Query, never a Scan of the table."""',
        "# a Scan would read the whole archive",
        "scanner = re.compile('x').scanner('abc')",
        "self.dynamodb.query(TableName=name, KeyConditionExpression='pk = :pk')",
        "pages = self.dynamodb.get_paginator('query')",
        "text = 'a tag scan, not a parse'",
    ],
)
def test_the_search_leaves_queries_and_prose_about_scans_alone(snippet: str) -> None:
    assert scan_uses(snippet) == []


# -- the integration harness's run-time guard ----------------------------------------------


def _stubbed_dynamodb() -> tuple[Any, Stubber]:
    client = boto3.client(
        "dynamodb", region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing"
    )
    stubber = Stubber(client)
    stubber.add_response("scan", {"Items": [], "Count": 0, "ScannedCount": 0}, {"TableName": "articles"})
    stubber.activate()
    return client, stubber


def _call_from_functions(client: Any) -> Any:
    """Call client.scan from a frame whose code lives under functions/, as presswire's own would."""
    namespace: dict[str, Any] = {}
    source = "def read_everything(client):\n    return client.scan(TableName='articles')\n"
    exec(compile(source, str(FUNCTIONS / "dal" / "_scanning_example.py"), "exec"), namespace)
    return namespace["read_everything"](client)


def test_the_harness_guard_fails_a_scan_made_by_code_under_functions() -> None:
    with pytest.raises(AssertionError, match="Scan"), refusing_scans():
        client, _ = _stubbed_dynamodb()
        with pytest.raises(AssertionError, match=r"_scanning_example\.py"):
            _call_from_functions(client)
        # Caught on the way (a handler turning it into a 500, a batch retrying it): still a
        # failure, reported when the harness closes.


def test_the_harness_guard_lets_a_test_scan_the_table_itself() -> None:
    with refusing_scans():
        client, stubber = _stubbed_dynamodb()
        answer = client.scan(TableName="articles")

    assert answer["Count"] == 0
    stubber.assert_no_pending_responses()
