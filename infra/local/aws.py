"""moto's in-memory AWS, in-process on 127.0.0.1, with the resources template.yaml declares."""

from __future__ import annotations

import io
import json
import logging
import os
import socket
import threading
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote

import boto3
from botocore.config import Config
from moto.server import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import BaseWSGIServer, make_server

from functions.dal.aws import SITE_LEASE_KEY
from functions.dal.schema import PARTITION_KEY
from infra.cfn import load_template, resources_of_type
from infra.local import moto_patches
from infra.local.persistence import Journal, item_key, remap_versions

REGION = "us-east-1"
NAME_PREFIX = "presswire-local-"
# Everything in these buckets is derived from the canonical store and rebuilt on start.
DERIVED_BUCKETS = frozenset({"SiteBucket"})
_TABLE_WRITES = frozenset({"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"})
_CREDENTIALS = {"aws_access_key_id": "local", "aws_secret_access_key": "local"}

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


logging.getLogger("werkzeug").setLevel(logging.WARNING)
# Leases coordinate running processes; they are not state a restart should bring back.
LEASE_PREFIX = SITE_LEASE_KEY[PARTITION_KEY].split("#")[0] + "#"


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def local_name(logical_id: str, kind: str) -> str:
    return NAME_PREFIX + (logical_id.lower() if kind == "bucket" else logical_id)


@dataclass
class Provisioned:
    names: dict[str, str]  # logical id -> physical name
    table_keys: dict[str, list[str]]  # table name -> key attribute names


def provision_from_template(template: dict[str, Any], client: Callable[[str], Any]) -> Provisioned:
    """Create the buckets, tables and queues template.yaml declares, with the properties that
    change behaviour (keys, indexes, streams, versioning). Used by the local stack and by tests."""
    names: dict[str, str] = {}
    table_keys: dict[str, list[str]] = {}
    s3 = client("s3")
    for logical_id, properties in resources_of_type(template, "AWS::S3::Bucket").items():
        name = names[logical_id] = local_name(logical_id, "bucket")
        s3.create_bucket(Bucket=name)
        if (properties.get("VersioningConfiguration") or {}).get("Status") == "Enabled":
            s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    dynamodb = client("dynamodb")
    for logical_id, properties in resources_of_type(template, "AWS::DynamoDB::Table").items():
        name = names[logical_id] = local_name(logical_id, "table")
        request: dict[str, Any] = {
            "TableName": name,
            "KeySchema": properties["KeySchema"],
            "AttributeDefinitions": properties["AttributeDefinitions"],
            "BillingMode": properties.get("BillingMode", "PAY_PER_REQUEST"),
        }
        if properties.get("GlobalSecondaryIndexes"):
            request["GlobalSecondaryIndexes"] = [
                {key: index[key] for key in ("IndexName", "KeySchema", "Projection")}
                for index in properties["GlobalSecondaryIndexes"]
            ]
        if properties.get("StreamSpecification"):
            request["StreamSpecification"] = {
                "StreamEnabled": True,
                "StreamViewType": properties["StreamSpecification"]["StreamViewType"],
            }
        dynamodb.create_table(**request)
        table_keys[name] = [key["AttributeName"] for key in properties["KeySchema"]]
    sqs = client("sqs")
    queues = resources_of_type(template, "AWS::SQS::Queue")
    arns: dict[str, str] = {}
    # Dead-letter queues first: the queues that redrive to them name their ARN.
    for logical_id, properties in sorted(queues.items(), key=lambda item: "RedrivePolicy" in item[1]):
        attributes: dict[str, str] = {
            name: str(properties[name])
            for name in ("VisibilityTimeout", "MessageRetentionPeriod")
            if name in properties
        }
        if "RedrivePolicy" in properties:
            target = properties["RedrivePolicy"]["deadLetterTargetArn"]
            attributes["RedrivePolicy"] = json.dumps(
                {
                    "deadLetterTargetArn": arns[target.value.split(".")[0]],
                    "maxReceiveCount": int(properties["RedrivePolicy"]["maxReceiveCount"]),
                }
            )
        url = sqs.create_queue(QueueName=local_name(logical_id, "queue"), Attributes=attributes)["QueueUrl"]
        names[logical_id] = url  # !Ref of a queue is its URL
        arns[logical_id] = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
    return Provisioned(names=names, table_keys=table_keys)


@dataclass
class LocalAws:
    """Start, provision from template.yaml, journal durable writes, replay them on the next start."""

    state_dir: Path | None = None
    host: str = "127.0.0.1"
    template: dict[str, Any] = field(default_factory=load_template)
    _server: BaseWSGIServer | None = None
    _thread: threading.Thread | None = None
    journal: Journal | None = None
    names: dict[str, str] = field(default_factory=dict)  # logical id -> local name
    _table_keys: dict[str, list[str]] = field(default_factory=dict)
    _clients: dict[str, Any] = field(default_factory=dict)
    _clients_lock: threading.Lock = field(default_factory=threading.Lock)
    _moto_lock: threading.Lock = field(default_factory=threading.Lock)
    # Set after every DynamoDB write: the stream poller sleeps on it instead of polling an idle
    # stream every 50 ms (infra/local/stream_poller.py).
    table_written: threading.Event = field(default_factory=threading.Event)
    restored_objects: int = 0
    restored_items: int = 0

    # -- lifecycle ------------------------------------------------------------------------

    @property
    def endpoint_url(self) -> str:
        assert self._server is not None, "start() first"
        return f"http://{self.host}:{self._server.server_port}"

    def client(self, service: str) -> Any:
        with self._clients_lock:
            if service not in self._clients:
                self._clients[service] = boto3.session.Session().client(
                    service,
                    endpoint_url=self.endpoint_url,
                    region_name=REGION,
                    config=Config(retries={"mode": "standard", "max_attempts": 3}),
                    **_CREDENTIALS,
                )
            return self._clients[service]

    def environment(self) -> dict[str, str]:
        """What a process needs so that plain boto3 clients talk to this moto."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint_url,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_REGION": REGION,
            "AWS_ACCESS_KEY_ID": _CREDENTIALS["aws_access_key_id"],
            "AWS_SECRET_ACCESS_KEY": _CREDENTIALS["aws_secret_access_key"],
        }

    def start(self) -> LocalAws:
        moto_patches.install()
        app = DomainDispatcherApplication(create_backend_app)
        self._server = make_server(self.host, 0, self._journaling(app), threaded=True)
        self._thread = threading.Thread(target=self._server.serve_forever, name="moto", daemon=True)
        self._thread.start()
        # moto's backends are per process: a second stack in the same process starts from nothing.
        reset = urllib.request.Request(self.endpoint_url + "/moto-api/reset", method="POST")  # noqa: S310
        urllib.request.urlopen(reset, timeout=10).close()  # noqa: S310 - our own loopback server  # nosec B310
        self._provision()
        if self.state_dir is not None:
            self.state_dir.mkdir(parents=True, exist_ok=True)
            self.journal = Journal(self.state_dir)
            self._restore()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    # -- provisioning from template.yaml --------------------------------------------------

    def _provision(self) -> None:
        provisioned = provision_from_template(self.template, self.client)
        self.names.update(provisioned.names)
        self._table_keys.update(provisioned.table_keys)

    def stream_arn(self, table_logical_id: str) -> str:
        description = self.client("dynamodb").describe_table(TableName=self.names[table_logical_id])
        return str(description["Table"]["LatestStreamArn"])

    # -- the journal ----------------------------------------------------------------------

    def _durable_buckets(self) -> dict[str, str]:
        buckets = resources_of_type(self.template, "AWS::S3::Bucket")
        return {self.names[logical]: logical for logical in buckets if logical not in DERIVED_BUCKETS}

    def _tables(self) -> dict[str, str]:
        tables = resources_of_type(self.template, "AWS::DynamoDB::Table")
        return {self.names[logical]: logical for logical in tables}

    def _journaling(self, app: WsgiApp) -> WsgiApp:
        def serialized(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
            # moto's backends are not thread-safe (a transaction racing a query can fail with
            # "dictionary changed size during iteration"); AWS is, so moto serves one at a time.
            with self._moto_lock:
                return list(app(environ, start_response))

        def middleware(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
            target = environ.get("HTTP_X_AMZ_TARGET", "")
            writes_table = target.startswith("DynamoDB_") and target.split(".")[-1] in _TABLE_WRITES
            if self.journal is None or environ["REQUEST_METHOD"] in {"GET", "HEAD"}:
                answer = serialized(environ, start_response)
                if writes_table:
                    self.table_written.set()
                return answer
            request_body = b""
            if target.startswith("DynamoDB_"):
                length = int(environ.get("CONTENT_LENGTH") or 0)
                request_body = environ["wsgi.input"].read(length)
                environ["wsgi.input"] = io.BytesIO(request_body)
            captured: dict[str, Any] = {}

            def capture(status: str, headers: list[tuple[str, str]], *args: Any) -> Any:
                captured["status"] = int(status.split()[0])
                captured["headers"] = {name.lower(): value for name, value in headers}
                return start_response(status, headers, *args)

            response = serialized(environ, capture)
            if writes_table:
                self.table_written.set()
            # Outside the lock: journaling reads the result back through this same server.
            if 200 <= captured.get("status", 500) < 300:
                if target.startswith("DynamoDB_"):
                    self._journal_table_write(target.split(".")[-1], request_body)
                else:
                    self._journal_object_write(environ, captured["headers"])
            return response

        return middleware

    def _journal_object_write(self, environ: dict[str, Any], headers: dict[str, str]) -> None:
        assert self.journal is not None
        bucket, _, key = unquote(environ.get("PATH_INFO", "")).lstrip("/").partition("/")
        logical = self._durable_buckets().get(bucket)
        query = parse_qs(environ.get("QUERY_STRING", ""))
        if logical is None or not key or {"uploadId", "tagging", "acl", "retention"} & set(query):
            return
        if environ["REQUEST_METHOD"] == "DELETE":
            self.journal.record_object_deletion(logical, key)
        elif environ["REQUEST_METHOD"] == "PUT":
            version_id = headers.get("x-amz-version-id")
            extra = {"VersionId": version_id} if version_id else {}
            stored = self.client("s3").get_object(Bucket=bucket, Key=key, **extra)
            kept = {"ContentType": stored.get("ContentType", "binary/octet-stream")}
            if stored.get("CacheControl"):
                kept["CacheControl"] = stored["CacheControl"]
            if stored.get("Metadata"):
                kept["Metadata"] = stored["Metadata"]
            self.journal.record_object(logical, key, version_id, stored["Body"].read(), kept)

    def _journal_table_write(self, operation: str, request_body: bytes) -> None:
        assert self.journal is not None
        if operation not in _TABLE_WRITES:
            return
        request = json.loads(request_body or b"{}")
        touched: list[tuple[str, dict[str, Any]]] = []
        if operation == "PutItem":
            touched.append((request["TableName"], request["Item"]))
        elif operation in {"UpdateItem", "DeleteItem"}:
            touched.append((request["TableName"], request["Key"]))
        elif operation == "BatchWriteItem":
            for table, writes in request["RequestItems"].items():
                for write in writes:
                    if "PutRequest" in write:
                        touched.append((table, write["PutRequest"]["Item"]))
                    else:
                        touched.append((table, write["DeleteRequest"]["Key"]))
        else:
            for action in request["TransactItems"]:
                for verb in ("Put", "Update", "Delete"):
                    if verb in action:
                        body = action[verb]
                        touched.append((body["TableName"], body.get("Item") or body["Key"]))
        tables = self._tables()
        keys: dict[str, list[dict[str, Any]]] = {}
        for table, attributes in touched:
            # A lease coordinates running processes: one restored after a restart would be a
            # dead holder's, and keep the new process waiting for it to run out.
            if attributes.get(PARTITION_KEY, {}).get("S", "").startswith(LEASE_PREFIX):
                continue
            if table in tables:
                keys.setdefault(table, []).append(
                    {name: attributes[name] for name in self._table_keys[table]}
                )
        # One BatchGetItem for the whole write (a transaction touches a dozen items).
        for table, table_keys in keys.items():
            found: dict[str, dict[str, Any]] = {}
            for start in range(0, len(table_keys), 100):
                pending: dict[str, Any] = {
                    table: {"Keys": table_keys[start : start + 100], "ConsistentRead": True}
                }
                while pending:
                    response = self.client("dynamodb").batch_get_item(RequestItems=pending)
                    for item in response.get("Responses", {}).get(table, []):
                        found[item_key({name: item[name] for name in self._table_keys[table]})] = item
                    pending = response.get("UnprocessedKeys") or {}
            for key in table_keys:
                self.journal.record_item(tables[table], key, found.get(item_key(key)))

    def _restore(self) -> None:
        """Replay the journal into the fresh moto, then compact it to what is now there."""
        assert self.journal is not None
        journal = self.journal
        journal.paused = True
        s3 = self.client("s3")
        versions: dict[str, str] = {}
        objects: list[dict[str, Any]] = []
        items: dict[tuple[str, str], dict[str, Any]] = {}
        for entry in journal.entries():
            if entry["kind"] == "object":
                response = s3.put_object(
                    Bucket=self.names[entry["bucket"]],
                    Key=entry["key"],
                    Body=journal.blob(entry["blob"]),
                    **entry["headers"],
                )
                new_version = response.get("VersionId")
                if entry.get("version_id") and new_version:
                    versions[entry["version_id"]] = new_version
                objects.append({**entry, "version_id": new_version})
            elif entry["kind"] == "object-deleted":
                s3.delete_object(Bucket=self.names[entry["bucket"]], Key=entry["key"])
                objects.append(entry)
            else:
                items[(entry["table"], item_key(entry["key"]))] = entry
        dynamodb = self.client("dynamodb")
        live_items = [entry for entry in items.values() if entry["item"] is not None]
        for entry in live_items:
            entry["item"] = remap_versions(entry["item"], versions)
            dynamodb.put_item(TableName=self.names[entry["table"]], Item=entry["item"])
        compacted = journal.path.with_suffix(".compact")
        with compacted.open("w", encoding="utf-8") as handle:
            for entry in [*objects, *live_items]:
                handle.write(json.dumps(entry, ensure_ascii=False, sort_keys=True) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        compacted.replace(journal.path)
        journal.paused = False
        self.restored_objects = len(objects)
        self.restored_items = len(live_items)
