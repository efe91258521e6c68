"""The boto3 implementation of the storage layer: the only module that talks to AWS."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC
from functools import cached_property
from threading import Lock
from typing import TYPE_CHECKING, Any

import boto3
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from functions.dal import schema
from functions.dal.protocol import SlugTaken, StoredMedia, StoredVersion
from functions.models.api import ApiKeyRecord
from functions.models.article import Article, ArticleRecord, ArticleStatus
from functions.models.errors import InvalidRequest, StorageUnavailable
from functions.models.site import Output

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_s3 import S3Client

_CLIENT_CONFIG = Config(retries={"mode": "standard", "max_attempts": 5}, connect_timeout=3, read_timeout=10)
_TRANSIENT_CODES = frozenset(
    {
        "ThrottlingException",
        "ProvisionedThroughputExceededException",
        "RequestLimitExceeded",
        "InternalServerError",
        "ServiceUnavailable",
        "SlowDown",
        "InternalError",
    }
)
_SERIALIZER = TypeSerializer()
_DESERIALIZER = TypeDeserializer()
CANONICAL_CONTENT_TYPE = "application/json; charset=utf-8"


@contextmanager
def _storage_errors() -> Iterator[None]:
    """Turn exhausted retries on transient AWS failures into one domain error (HTTP 503)."""
    try:
        yield
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in _TRANSIENT_CODES:
            raise StorageUnavailable("the storage service is busy") from error
        raise
    except BotoCoreError as error:
        raise StorageUnavailable("the storage service did not answer") from error


def article_item_key(article_id: str) -> dict[str, str]:
    return {schema.PARTITION_KEY: f"ARTICLE#{article_id}", schema.SORT_KEY: "ARTICLE"}


def slug_item_key(slug: str) -> dict[str, str]:
    return {schema.PARTITION_KEY: f"SLUG#{slug}", schema.SORT_KEY: "SLUG"}


def api_key_item_key(key_hash: str) -> dict[str, str]:
    return {schema.PARTITION_KEY: f"APIKEY#{key_hash}", schema.SORT_KEY: "APIKEY"}


def timeline_partition(status: ArticleStatus) -> str:
    return f"TIMELINE#{status}"


def article_to_item(record: ArticleRecord) -> dict[str, Any]:
    published_utc = record.published_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        **record.model_dump(mode="json", exclude_none=True),
        **article_item_key(record.id),
        schema.TIMELINE_PARTITION_KEY: timeline_partition(record.status),
        schema.TIMELINE_SORT_KEY: f"{published_utc}#{record.id}",
        "entity": "article",
    }


def is_article_item(item: dict[str, Any]) -> bool:
    return item.get("entity") == "article"


def item_to_record(item: dict[str, Any]) -> ArticleRecord:
    return ArticleRecord.model_validate(item)


def _serialize(item: dict[str, Any]) -> dict[str, Any]:
    return {name: _SERIALIZER.serialize(value) for name, value in item.items()}


def _deserialize(item: dict[str, Any]) -> dict[str, Any]:
    return {name: _DESERIALIZER.deserialize(value) for name, value in item.items()}


def encode_cursor(last_evaluated_key: dict[str, Any] | None) -> str | None:
    if not last_evaluated_key:
        return None
    plain = {name: value["S"] for name, value in last_evaluated_key.items()}
    return base64.urlsafe_b64encode(json.dumps(plain, sort_keys=True).encode()).decode().rstrip("=")


def decode_cursor(cursor: str, expected_keys: set[str]) -> dict[str, Any]:
    try:
        plain = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError) as error:
        raise InvalidRequest("the cursor is not one this API issued", field="cursor") from error
    if (
        not isinstance(plain, dict)
        or set(plain) != expected_keys
        or not all(isinstance(value, str) for value in plain.values())
    ):
        raise InvalidRequest("the cursor is not one this API issued", field="cursor")
    return {name: {"S": value} for name, value in plain.items()}


class _CanonicalCache:
    """Canonical versions never change once written, so a warm function may keep them."""

    def __init__(self, capacity: int = 512) -> None:
        self._items: OrderedDict[tuple[str, str], Article] = OrderedDict()
        self._capacity = capacity
        self._lock = Lock()

    def get(self, key: tuple[str, str]) -> Article | None:
        with self._lock:
            article = self._items.get(key)
            if article is not None:
                self._items.move_to_end(key)
            return article

    def put(self, key: tuple[str, str], article: Article) -> None:
        with self._lock:
            self._items[key] = article
            self._items.move_to_end(key)
            while len(self._items) > self._capacity:
                self._items.popitem(last=False)


class AwsStorage:
    """ArticleStore, KeyStore, MediaStore and SiteStore over S3 and DynamoDB."""

    def __init__(
        self,
        *,
        table_name: str,
        content_bucket: str,
        site_bucket: str,
        s3_client: S3Client | None = None,
        dynamodb_client: DynamoDBClient | None = None,
    ) -> None:
        self.table_name = table_name
        self.content_bucket = content_bucket
        self.site_bucket = site_bucket
        self._s3_client = s3_client
        self._dynamodb_client = dynamodb_client
        self._canonical_cache = _CanonicalCache()

    @cached_property
    def s3(self) -> S3Client:
        return self._s3_client or boto3.client("s3", config=_CLIENT_CONFIG)

    @cached_property
    def dynamodb(self) -> DynamoDBClient:
        return self._dynamodb_client or boto3.client("dynamodb", config=_CLIENT_CONFIG)

    # -- canonical articles -------------------------------------------------------------

    @staticmethod
    def canonical_key(article_id: str) -> str:
        return f"articles/{article_id}.json"

    def put_canonical(self, article: Article) -> StoredVersion:
        body = canonical_bytes(article)
        with _storage_errors():
            response = self.s3.put_object(
                Bucket=self.content_bucket,
                Key=self.canonical_key(article.id),
                Body=body,
                ContentType=CANONICAL_CONTENT_TYPE,
                ChecksumAlgorithm="SHA256",
            )
        version_id = response.get("VersionId")
        if not version_id:
            raise StorageUnavailable("the content bucket is not versioned")
        self._canonical_cache.put((article.id, version_id), article)
        return StoredVersion(key=self.canonical_key(article.id), version_id=version_id)

    def get_canonical(self, record: ArticleRecord) -> Article:
        cache_key = (record.id, record.content_version)
        cached = self._canonical_cache.get(cache_key)
        if cached is not None:
            return cached
        with _storage_errors():
            response = self.s3.get_object(
                Bucket=self.content_bucket, Key=record.content_key, VersionId=record.content_version
            )
            article = Article.model_validate_json(response["Body"].read())
        self._canonical_cache.put(cache_key, article)
        return article

    # -- article items ------------------------------------------------------------------

    def is_slug_free(self, slug: str) -> bool:
        with _storage_errors():
            response = self.dynamodb.get_item(
                TableName=self.table_name,
                Key=_serialize(slug_item_key(slug)),
                ProjectionExpression=schema.PARTITION_KEY,
            )
        return "Item" not in response

    def create_article(self, record: ArticleRecord) -> None:
        absent = f"attribute_not_exists({schema.PARTITION_KEY})"
        slug_item = {**slug_item_key(record.slug), "article_id": record.id, "entity": "slug"}
        try:
            with _storage_errors():
                self.dynamodb.transact_write_items(
                    TransactItems=[
                        {
                            "Put": {
                                "TableName": self.table_name,
                                "Item": _serialize(slug_item),
                                "ConditionExpression": absent,
                            }
                        },
                        {
                            "Put": {
                                "TableName": self.table_name,
                                "Item": _serialize(article_to_item(record)),
                                "ConditionExpression": absent,
                            }
                        },
                    ]
                )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "TransactionCanceledException":
                raise
            reasons = error.response.get("CancellationReasons") or []
            if reasons and reasons[0].get("Code") == "ConditionalCheckFailed":
                raise SlugTaken(record.slug) from error
            raise StorageUnavailable("the article could not be saved; retry") from error

    def get_record(self, article_id: str) -> ArticleRecord | None:
        with _storage_errors():
            response = self.dynamodb.get_item(
                TableName=self.table_name, Key=_serialize(article_item_key(article_id)), ConsistentRead=True
            )
        item = response.get("Item")
        return item_to_record(_deserialize(item)) if item else None

    def list_timeline(
        self, status: ArticleStatus, limit: int, cursor: str | None = None
    ) -> tuple[list[ArticleRecord], str | None]:
        index_keys = {
            schema.PARTITION_KEY,
            schema.SORT_KEY,
            schema.TIMELINE_PARTITION_KEY,
            schema.TIMELINE_SORT_KEY,
        }
        query: dict[str, Any] = {
            "TableName": self.table_name,
            "IndexName": schema.TIMELINE_INDEX,
            "KeyConditionExpression": "#pk = :pk",
            "ExpressionAttributeNames": {"#pk": schema.TIMELINE_PARTITION_KEY},
            "ExpressionAttributeValues": {":pk": {"S": timeline_partition(status)}},
            "ScanIndexForward": False,
            "Limit": limit,
        }
        if cursor:
            query["ExclusiveStartKey"] = decode_cursor(cursor, index_keys)
        with _storage_errors():
            response = self.dynamodb.query(**query)
        records = [item_to_record(_deserialize(item)) for item in response.get("Items", [])]
        return records, encode_cursor(response.get("LastEvaluatedKey"))

    # -- API keys -----------------------------------------------------------------------

    def get_api_key(self, key_hash: str) -> ApiKeyRecord | None:
        with _storage_errors():
            response = self.dynamodb.get_item(
                TableName=self.table_name, Key=_serialize(api_key_item_key(key_hash)), ConsistentRead=True
            )
        item = response.get("Item")
        return ApiKeyRecord.model_validate(_deserialize(item)) if item else None

    def put_api_key(self, record: ApiKeyRecord) -> None:
        item = {**record.model_dump(mode="json"), **api_key_item_key(record.key_hash), "entity": "apikey"}
        with _storage_errors():
            self.dynamodb.put_item(
                TableName=self.table_name,
                Item=_serialize(item),
                ConditionExpression=f"attribute_not_exists({schema.PARTITION_KEY})",
            )

    # -- media --------------------------------------------------------------------------

    def put_media(self, key: str, body: bytes, content_type: str) -> StoredMedia:
        with _storage_errors():
            self.s3.put_object(
                Bucket=self.content_bucket,
                Key=key,
                Body=body,
                ContentType=content_type,
                CacheControl="public, max-age=31536000, immutable",
            )
        return StoredMedia(key=key, content_type=content_type, length=len(body))

    def head_media(self, key: str) -> StoredMedia | None:
        try:
            with _storage_errors():
                response = self.s3.head_object(Bucket=self.content_bucket, Key=key)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in {"404", "NoSuchKey", "NotFound"}:
                return None
            raise
        return StoredMedia(key=key, content_type=response["ContentType"], length=response["ContentLength"])

    # -- the site bucket ----------------------------------------------------------------

    def write_if_changed(self, output: Output) -> bool:
        digest = hashlib.sha256(output.body).hexdigest()
        try:
            with _storage_errors():
                existing = self.s3.head_object(Bucket=self.site_bucket, Key=output.key)
            if (
                existing.get("Metadata", {}).get("sha256") == digest
                and existing.get("ContentType") == output.content_type
                and existing.get("CacheControl") == output.cache_control
            ):
                return False
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") not in {"404", "NoSuchKey", "NotFound"}:
                raise
        with _storage_errors():
            self.s3.put_object(
                Bucket=self.site_bucket,
                Key=output.key,
                Body=output.body,
                ContentType=output.content_type,
                CacheControl=output.cache_control,
                Metadata={"sha256": digest},
            )
        return True


def canonical_bytes(article: Article) -> bytes:
    """The canonical JSON serialization: stable key order, UTF-8, so equal articles hash equal."""
    return json.dumps(article.model_dump(mode="json"), ensure_ascii=False, sort_keys=True, indent=1).encode()
