"""The boto3 implementation of the storage layer: the only module that talks to AWS."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import cached_property
from threading import Lock
from typing import TYPE_CHECKING, Any

import boto3
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from functions.dal import schema
from functions.dal.protocol import ArticleVersionConflict, SlugTaken, StoredMedia, StoredVersion
from functions.models.article import (
    Article,
    ArticleRecord,
    ArticleStatus,
    Delivery,
    MediaInfo,
    Partner,
    Preview,
    Revision,
)
from functions.models.errors import InvalidRequest, KeyNotFound, StorageUnavailable
from functions.models.feeds import RecentPublication
from functions.models.keys import ApiKeyRecord
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
# S3 returns it as x-amz-meta-http-status; CloudFront's viewer-response function and the local
# gateway turn it into the response status (410 Gone for a retracted article's page).
HTTP_STATUS_METADATA = "http-status"
MEDIA_CACHE_CONTROL = "public, max-age=31536000, immutable"
_LISTING_CURSOR_KEYS = {
    schema.PARTITION_KEY,
    schema.SORT_KEY,
    schema.LISTING_PARTITION_KEY,
    schema.LISTING_SORT_KEY,
}


class _Cancelled(Exception):
    """A transaction was cancelled; which of its writes failed their condition."""

    def __init__(self, failed_conditions: set[int]) -> None:
        super().__init__(sorted(failed_conditions))
        self.failed_conditions = failed_conditions


@contextmanager
def _storage_errors() -> Iterator[None]:
    """Turn exhausted retries on transient AWS failures into one domain error (HTTP 503)."""
    try:
        yield
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in _TRANSIENT_CODES:
            raise StorageUnavailable("the storage service is busy") from error
        # S3 answers a HEAD with a bare status: a throttled or failed one has no code to read.
        if error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) >= 500:
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


def revision_item_key(article_id: str, revision: int) -> dict[str, str]:
    return {schema.PARTITION_KEY: f"ARTICLE#{article_id}", schema.SORT_KEY: f"REV#{revision:06d}"}


def listing_item_key(article_id: str, listing_id: str) -> dict[str, str]:
    return {schema.PARTITION_KEY: f"ARTICLE#{article_id}", schema.SORT_KEY: f"LIST#{listing_id}"}


def preview_item_key(token_hash: str) -> dict[str, str]:
    return {schema.PARTITION_KEY: f"PREVIEW#{token_hash}", schema.SORT_KEY: "PREVIEW"}


def media_item_key(key: str) -> dict[str, str]:
    return {schema.PARTITION_KEY: f"MEDIA#{key}", schema.SORT_KEY: "MEDIA"}


KEYS_LISTING = "keys"
PARTNERS_LISTING = "partners"
CHANGES_LISTING = "changes"
EMBARGOED_LISTING = "embargoed"
SITEMAP_MONTHS_LISTING = "sitemap-months"
SEQUENCE_COUNTER_KEY = {schema.PARTITION_KEY: "COUNTER#sequence", schema.SORT_KEY: "COUNTER"}
ARCHIVED_PAGES_KEY = {schema.PARTITION_KEY: "COUNTER#archived-pages", schema.SORT_KEY: "COUNTER"}
SITE_LEASE_KEY = {schema.PARTITION_KEY: "LEASE#site", schema.SORT_KEY: "LEASE"}


def rebuild_item_key(rebuild_id: str) -> dict[str, str]:
    return {schema.PARTITION_KEY: f"REBUILD#{rebuild_id}", schema.SORT_KEY: "REBUILD"}


def rebuild_shard_key(rebuild_id: str, run: str, shard: int) -> dict[str, str]:
    return {schema.PARTITION_KEY: f"REBUILD#{rebuild_id}", schema.SORT_KEY: f"SHARD#{run}#{shard:06d}"}


def partner_item_key(partner_id: str) -> dict[str, str]:
    return {schema.PARTITION_KEY: f"PARTNER#{partner_id}", schema.SORT_KEY: "PARTNER"}


def delivery_item_key(partner_id: str, message_id: str) -> dict[str, str]:
    return {schema.PARTITION_KEY: f"PARTNER#{partner_id}", schema.SORT_KEY: f"DELIVERY#{message_id}"}


def pending_item_key(article_id: str, revision: int) -> dict[str, str]:
    return {schema.PARTITION_KEY: f"ARTICLE#{article_id}", schema.SORT_KEY: f"EMBARGO#{revision:06d}"}


def utc_sort_key(moment: datetime, suffix: str) -> str:
    return f"{moment.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ}#{suffix}"


def change_sort_key(visible_at: datetime, article_id: str, revision: int) -> str:
    return f"{visible_at.astimezone(UTC):%Y-%m-%dT%H:%M:%S.%fZ}#{article_id}#{revision:06d}"


def listing_partition(listing_id: str, status: ArticleStatus) -> str:
    return f"{listing_id}#{status}"


def article_to_item(record: ArticleRecord) -> dict[str, Any]:
    return {
        **record.model_dump(mode="json", exclude_none=True),
        **article_item_key(record.id),
        "entity": "article",
    }


def listing_to_item(record: ArticleRecord, listing_id: str) -> dict[str, Any]:
    """A copy of the summary in one listing: the index projects it, so a listing is one Query.
    The archive listing is ordered by publication sequence, the others by publication time."""
    order = f"{record.sequence or 0:012d}" if listing_id == schema.ARCHIVE_LISTING else None
    return {
        **record.model_dump(mode="json", exclude_none=True),
        **listing_item_key(record.id, listing_id),
        schema.LISTING_PARTITION_KEY: listing_partition(listing_id, record.status),
        schema.LISTING_SORT_KEY: order or utc_sort_key(record.published_at, record.id),
        "entity": "listing",
        "listing": listing_id,
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


def decode_cursor(cursor: str, partition: str, lowest: str = "", highest: str = "\uffff") -> dict[str, Any]:
    """The ExclusiveStartKey of a listing Query. Cursors are not signed, so a forged one is held to
    the Query it continues: DynamoDB refuses a start key outside the Query's partition or sort key
    range with a ValidationException, which must be the caller's 400, not a 500."""
    refused = InvalidRequest("the cursor is not one this API issued", field="cursor")
    try:
        plain = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError) as error:
        raise refused from error
    if (
        not isinstance(plain, dict)
        or set(plain) != _LISTING_CURSOR_KEYS
        or not all(isinstance(value, str) and value for value in plain.values())
        or plain[schema.LISTING_PARTITION_KEY] != partition
        or not lowest <= plain[schema.LISTING_SORT_KEY] <= highest
    ):
        raise refused
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
        notify_queue_url: str = "",
        sqs_client: Any = None,
    ) -> None:
        self.table_name = table_name
        self.content_bucket = content_bucket
        self.site_bucket = site_bucket
        self._s3_client = s3_client
        self._dynamodb_client = dynamodb_client
        self.notify_queue_url = notify_queue_url
        self._sqs_client = sqs_client
        self._canonical_cache = _CanonicalCache()
        # What this process last wrote to (or found in) each site key. Only the publisher writes
        # the site bucket, so a warm function needs no HEAD for a key it already knows: equal
        # bytes are skipped, different ones written at once.
        self._written: dict[str, tuple[Any, ...]] = {}

    @cached_property
    def s3(self) -> S3Client:
        return self._s3_client or boto3.client("s3", config=_CLIENT_CONFIG)

    @cached_property
    def sqs(self) -> Any:
        return self._sqs_client or boto3.client("sqs", config=_CLIENT_CONFIG)

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
        return self.get_canonical_version(record.id, record.content_key, record.content_version)

    def get_canonical_version(self, article_id: str, key: str, version_id: str) -> Article:
        cache_key = (article_id, version_id)
        cached = self._canonical_cache.get(cache_key)
        if cached is not None:
            return cached
        with _storage_errors():
            response = self.s3.get_object(Bucket=self.content_bucket, Key=key, VersionId=version_id)
            article = Article.model_validate_json(response["Body"].read())
        self._canonical_cache.put(cache_key, article)
        return article

    def _get(self, key: dict[str, str], *, consistent: bool = True) -> dict[str, Any] | None:
        """One item by its key, deserialized, or None."""
        with _storage_errors():
            response = self.dynamodb.get_item(
                TableName=self.table_name, Key=_serialize(key), ConsistentRead=consistent
            )
        item = response.get("Item")
        return _deserialize(item) if item else None

    def _update_if(self, key: dict[str, str], **request: Any) -> dict[str, Any] | None:
        """An UpdateItem whose ConditionExpression may fail: its raw answer, or None if it did."""
        try:
            with _storage_errors():
                return dict(
                    self.dynamodb.update_item(TableName=self.table_name, Key=_serialize(key), **request)
                )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return None
            raise

    def _put_item(self, item: dict[str, Any], condition: str | None = None) -> None:
        request: dict[str, Any] = {"TableName": self.table_name, "Item": _serialize(item)}
        if condition:
            request["ConditionExpression"] = condition
        with _storage_errors():
            self.dynamodb.put_item(**request)

    # -- article items ------------------------------------------------------------------

    def is_slug_free(self, slug: str) -> bool:
        with _storage_errors():
            response = self.dynamodb.get_item(
                TableName=self.table_name,
                Key=_serialize(slug_item_key(slug)),
                ProjectionExpression=schema.PARTITION_KEY,
            )
        return "Item" not in response

    def _put(self, item: dict[str, Any], condition: str | None = None, **values: Any) -> dict[str, Any]:
        put: dict[str, Any] = {"TableName": self.table_name, "Item": _serialize(item)}
        if condition:
            put["ConditionExpression"] = condition
        if values:
            put["ExpressionAttributeValues"] = _serialize(
                {f":{name}": value for name, value in values.items()}
            )
        return {"Put": put}

    def _delete(self, key: dict[str, str]) -> dict[str, Any]:
        return {"Delete": {"TableName": self.table_name, "Key": _serialize(key)}}

    def _listing_writes(
        self, record: ArticleRecord, listings_after: list[str], listings_before: list[str]
    ) -> list[dict[str, Any]]:
        writes = [self._put(listing_to_item(record, listing)) for listing in listings_after]
        writes += [
            self._delete(listing_item_key(record.id, listing))
            for listing in listings_before
            if listing not in listings_after
        ]
        return writes

    def create_article(self, record: ArticleRecord, revision: Revision, listings: list[str]) -> None:
        absent = f"attribute_not_exists({schema.PARTITION_KEY})"
        slug_item = {**slug_item_key(record.slug), "article_id": record.id, "entity": "slug"}
        writes = [
            self._put(slug_item, absent),
            self._put(article_to_item(record), absent),
            self._put(self._revision_item(record.id, revision), absent),
            *self._listing_writes(record, listings, []),
        ]
        try:
            self._transact(writes)
        except _Cancelled as cancelled:
            if self._already_committed(record, revision):
                return
            if cancelled.failed_conditions == {0}:
                raise SlugTaken(record.slug) from cancelled
            raise StorageUnavailable("the article could not be saved; retry") from cancelled
        except StorageUnavailable:
            # Every attempt's answer was lost (timeouts): one of them may have committed, and a
            # client repeating its request would then create the article twice.
            if self._already_committed(record, revision):
                return
            raise

    def save_change(
        self,
        before: ArticleRecord,
        after: ArticleRecord,
        revision: Revision,
        listings_before: list[str],
        listings_after: list[str],
    ) -> None:
        """Commit a new revision unless someone else committed one since `before` was read."""
        writes = [
            self._put(article_to_item(after), "etag = :expected", expected=before.etag),
            self._put(
                self._revision_item(after.id, revision), f"attribute_not_exists({schema.PARTITION_KEY})"
            ),
            *self._listing_writes(after, listings_after, listings_before),
        ]
        try:
            self._transact(writes)
        except _Cancelled as cancelled:
            if self._already_committed(after, revision):
                return
            if cancelled.failed_conditions & {0, 1}:
                raise ArticleVersionConflict(after.id) from cancelled
            raise StorageUnavailable("the change could not be saved; retry") from cancelled
        except StorageUnavailable:
            # As on create: a repeated request would otherwise get 412 for a change that landed.
            if self._already_committed(after, revision):
                return
            raise

    def _already_committed(self, record: ArticleRecord, revision: Revision) -> bool:
        """A transaction the SDK retried after a lost response fails its own conditions the second
        time: if our revision item is there with our S3 version, an earlier attempt committed.
        (The revision item, not the article item: a later change may have moved that on since.)"""
        current = self.get_revision(record.id, revision.revision)
        return current is not None and current.version_id == revision.version_id

    def _transact(self, writes: list[dict[str, Any]]) -> None:
        try:
            with _storage_errors():
                self.dynamodb.transact_write_items(TransactItems=writes)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "TransactionCanceledException":
                raise
            reasons = error.response.get("CancellationReasons") or []
            failed = {
                index
                for index, reason in enumerate(reasons)
                if reason.get("Code") == "ConditionalCheckFailed"
            }
            raise _Cancelled(failed) from error

    @staticmethod
    def _revision_item(article_id: str, revision: Revision) -> dict[str, Any]:
        item = {
            **revision.model_dump(mode="json", exclude_none=True),
            **revision_item_key(article_id, revision.revision),
            "article_id": article_id,
            "entity": "revision",
        }
        if revision.visible_at is not None:
            # Public changes form the partners' change feed, ordered by when they may see them.
            item[schema.LISTING_PARTITION_KEY] = CHANGES_LISTING
            item[schema.LISTING_SORT_KEY] = change_sort_key(
                revision.visible_at, article_id, revision.revision
            )
        return item

    def get_record(self, article_id: str) -> ArticleRecord | None:
        item = self._get(article_item_key(article_id))
        return item_to_record(item) if item else None

    def list_revisions(self, article_id: str) -> list[Revision]:
        query: dict[str, Any] = {
            "TableName": self.table_name,
            "KeyConditionExpression": "#pk = :pk AND begins_with(#sk, :rev)",
            "ExpressionAttributeNames": {"#pk": schema.PARTITION_KEY, "#sk": schema.SORT_KEY},
            "ExpressionAttributeValues": {":pk": {"S": f"ARTICLE#{article_id}"}, ":rev": {"S": "REV#"}},
            "ConsistentRead": True,
        }
        revisions: list[Revision] = []
        with _storage_errors():
            for page in self.dynamodb.get_paginator("query").paginate(**query):
                revisions += [Revision.model_validate(_deserialize(item)) for item in page.get("Items", [])]
        return revisions

    def get_revision(self, article_id: str, revision: int) -> Revision | None:
        item = self._get(revision_item_key(article_id, revision))
        return Revision.model_validate(item) if item else None

    def list_listing(
        self,
        listing_id: str,
        status: ArticleStatus,
        limit: int,
        cursor: str | None = None,
        *,
        published_before: datetime | None = None,
        published_since: datetime | None = None,
        section: str | None = None,
        author: str | None = None,
        oldest_first: bool = False,
    ) -> tuple[list[ArticleRecord], str | None]:
        """Newest first by published_at (oldest first if asked); optional filters on the other
        listings (opaque cursor)."""
        condition = "#pk = :pk"
        values: dict[str, Any] = {":pk": {"S": listing_partition(listing_id, status)}}
        names = {"#pk": schema.LISTING_PARTITION_KEY}
        if published_before is not None or published_since is not None:
            names["#sk"] = schema.LISTING_SORT_KEY
            values[":since"] = {"S": utc_sort_key(published_since, "") if published_since else "0"}
            values[":before"] = {"S": utc_sort_key(published_before, "\uffff") if published_before else "9"}
            condition += " AND #sk BETWEEN :since AND :before"
        filters: list[str] = []
        for attribute, wanted in (("section", section), ("author", author)):
            if wanted is not None:
                names[f"#{attribute}"] = attribute
                values[f":{attribute}"] = {"S": wanted}
                filters.append(f"#{attribute}.slug = :{attribute}")
        query: dict[str, Any] = {
            "TableName": self.table_name,
            "IndexName": schema.LISTING_INDEX,
            "KeyConditionExpression": condition,
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
            "ScanIndexForward": oldest_first,
            "Limit": limit,
        }
        if filters:
            query["FilterExpression"] = " AND ".join(filters)
        if cursor:
            sort_range = (values[":since"]["S"], values[":before"]["S"]) if ":since" in values else ()
            query["ExclusiveStartKey"] = decode_cursor(cursor, values[":pk"]["S"], *sort_range)
        with _storage_errors():
            response = self.dynamodb.query(**query)
        records = [item_to_record(_deserialize(item)) for item in response.get("Items", [])]
        return records, encode_cursor(response.get("LastEvaluatedKey"))

    def next_sequence(self) -> int:
        """The next publication sequence number (an atomic counter; a failed commit leaves a gap)."""
        with _storage_errors():
            response = self.dynamodb.update_item(
                TableName=self.table_name,
                Key=_serialize(SEQUENCE_COUNTER_KEY),
                UpdateExpression="ADD #value :one",
                ExpressionAttributeNames={"#value": "value"},
                ExpressionAttributeValues={":one": {"N": "1"}},
                ReturnValues="UPDATED_NEW",
            )
        return int(response["Attributes"]["value"]["N"])

    def last_sequence(self) -> int:
        item = self._get(SEQUENCE_COUNTER_KEY)
        return int(item["value"]) if item else 0

    def archived_pages(self) -> int:
        """How many archive pages have been written (the head feed links only to those)."""
        item = self._get(ARCHIVED_PAGES_KEY)
        return int(item["value"]) if item else 0

    def set_archived_pages(self, pages: int) -> None:
        # A failed condition means a concurrent publisher got further: nothing to do.
        self._update_if(
            ARCHIVED_PAGES_KEY,
            UpdateExpression="SET #value = :pages",
            ConditionExpression="attribute_not_exists(#value) OR #value < :pages",
            ExpressionAttributeNames={"#value": "value"},
            ExpressionAttributeValues={":pages": {"N": str(pages)}},
        )

    def acquire_site_lease(
        self, owner: str, now: datetime, until: datetime
    ) -> list[RecentPublication] | None:
        """Hold the lease on the site's shared outputs until `until`, or None while another
        holder's runs. Returns what was lately published under it (read strongly consistently,
        in the same conditional write)."""
        response = self._update_if(
            SITE_LEASE_KEY,
            UpdateExpression="SET #owner = :owner, #until = :until",
            ConditionExpression="attribute_not_exists(#until) OR #until < :now OR #owner = :owner",
            ExpressionAttributeNames={"#owner": "owner", "#until": "until"},
            ExpressionAttributeValues={
                ":owner": {"S": owner},
                ":until": {"S": until.astimezone(UTC).isoformat()},
                ":now": {"S": now.astimezone(UTC).isoformat()},
            },
            ReturnValues="ALL_NEW",
        )
        if response is None:
            return None
        recent = json.loads(response["Attributes"].get("recent", {}).get("S", "[]"))
        return [
            RecentPublication(datetime.fromisoformat(at), article_id, int(revision))
            for at, article_id, revision in recent
        ]

    def release_site_lease(self, owner: str, recent: Sequence[RecentPublication]) -> bool:
        """Store what was lately published and let the lease go; False if it was no longer ours
        (it ran out and another holder took it)."""
        # Ids and revisions only: every write of this item also goes down the table's stream.
        packed = json.dumps(
            [[entry.at.astimezone(UTC).isoformat(), entry.article_id, entry.revision] for entry in recent]
        )
        released = self._update_if(
            SITE_LEASE_KEY,
            UpdateExpression="SET #recent = :recent REMOVE #owner, #until",
            ConditionExpression="#owner = :owner",
            ExpressionAttributeNames={"#owner": "owner", "#until": "until", "#recent": "recent"},
            ExpressionAttributeValues={":owner": {"S": owner}, ":recent": {"S": packed}},
        )
        return released is not None

    def get_records(self, article_ids: Sequence[str]) -> list[ArticleRecord]:
        """The current records of these articles (those that exist), read strongly consistently."""
        records: list[ArticleRecord] = []
        unique = list(dict.fromkeys(article_ids))
        for start in range(0, len(unique), 100):
            keys = [_serialize(article_item_key(article_id)) for article_id in unique[start : start + 100]]
            pending: dict[str, Any] = {self.table_name: {"Keys": keys, "ConsistentRead": True}}
            while pending:
                with _storage_errors():
                    response = self.dynamodb.batch_get_item(RequestItems=pending)
                records += [
                    item_to_record(_deserialize(item))
                    for item in response.get("Responses", {}).get(self.table_name, [])
                ]
                pending = response.get("UnprocessedKeys") or {}
        return records

    def list_archive(self, first: int, last: int) -> list[ArticleRecord]:
        """Articles with sequence numbers first..last, published or retracted, in sequence order."""
        records: list[ArticleRecord] = []
        for status in ("published", "retracted"):
            query: dict[str, Any] = {
                "TableName": self.table_name,
                "IndexName": schema.LISTING_INDEX,
                "KeyConditionExpression": "#pk = :pk AND #sk BETWEEN :first AND :last",
                "ExpressionAttributeNames": {
                    "#pk": schema.LISTING_PARTITION_KEY,
                    "#sk": schema.LISTING_SORT_KEY,
                },
                "ExpressionAttributeValues": {
                    ":pk": {"S": listing_partition(schema.ARCHIVE_LISTING, status)},  # type: ignore[arg-type]
                    ":first": {"S": f"{first:012d}"},
                    ":last": {"S": f"{last:012d}"},
                },
            }
            with _storage_errors():
                for page in self.dynamodb.get_paginator("query").paginate(**query):
                    records += [item_to_record(_deserialize(item)) for item in page.get("Items", [])]
        return sorted(records, key=lambda record: record.sequence or 0)

    def list_changes(
        self, *, cursor: str | None, since: datetime | None, until: datetime, limit: int
    ) -> tuple[list[Revision], str | None]:
        """Public changes, oldest first, visible by `until`; the cursor continues after the last one."""
        values: dict[str, Any] = {
            ":pk": {"S": CHANGES_LISTING},
            ":from": {"S": change_sort_key(since, "", 0) if since else "0"},
            ":until": {"S": change_sort_key(until, "\uffff", 999999)},
        }
        query: dict[str, Any] = {
            "TableName": self.table_name,
            "IndexName": schema.LISTING_INDEX,
            "KeyConditionExpression": "#pk = :pk AND #sk BETWEEN :from AND :until",
            "ExpressionAttributeNames": {"#pk": schema.LISTING_PARTITION_KEY, "#sk": schema.LISTING_SORT_KEY},
            "ExpressionAttributeValues": values,
            "ScanIndexForward": True,
            "Limit": limit,
        }
        if cursor:
            query["ExclusiveStartKey"] = decode_cursor(
                cursor, CHANGES_LISTING, values[":from"]["S"], values[":until"]["S"]
            )
        with _storage_errors():
            response = self.dynamodb.query(**query)
        items = response.get("Items", [])
        changes = [Revision.model_validate(_deserialize(item)) for item in items]
        # A change feed is polled forever: even at its end, hand back where the reader stopped.
        last_key = response.get("LastEvaluatedKey") or (
            {name: items[-1][name] for name in _LISTING_CURSOR_KEYS} if items else None
        )
        return changes, encode_cursor(last_key) or cursor

    # -- sitemap months -------------------------------------------------------------------

    def put_sitemap_month(self, year: int, month: int, lastmod: datetime, count: int) -> None:
        item = {
            schema.PARTITION_KEY: f"SITEMAP#{year:04d}-{month:02d}",
            schema.SORT_KEY: "SITEMAP",
            "year": year,
            "month": month,
            "lastmod": lastmod.astimezone(UTC).isoformat(),
            "count": count,
            schema.LISTING_PARTITION_KEY: SITEMAP_MONTHS_LISTING,
            schema.LISTING_SORT_KEY: f"{year:04d}-{month:02d}",
            "entity": "sitemap-month",
        }
        self._put_item(item)

    def list_sitemap_months(self) -> list[tuple[int, int, datetime, int]]:
        """(year, month, lastmod, article count) of every month that ever had articles."""
        return [
            (
                int(item["year"]),
                int(item["month"]),
                datetime.fromisoformat(item["lastmod"]),
                int(item["count"]),
            )
            for item in self._listing_items(SITEMAP_MONTHS_LISTING)
        ]

    # -- pending (embargoed) notifications ---------------------------------------------

    def put_pending_notification(self, article_id: str, revision: int, release_at: datetime) -> None:
        item = {
            **pending_item_key(article_id, revision),
            "article_id": article_id,
            "revision": revision,
            schema.LISTING_PARTITION_KEY: EMBARGOED_LISTING,
            schema.LISTING_SORT_KEY: utc_sort_key(release_at, f"{article_id}#{revision:06d}"),
            "entity": "pending-notification",
        }
        self._put_item(item)

    def due_pending_notifications(self, now: datetime) -> list[tuple[str, int]]:
        due = self._listing_items(EMBARGOED_LISTING, upper=utc_sort_key(now, "\uffff"))
        return [(item["article_id"], int(item["revision"])) for item in due]

    def delete_pending_notification(self, article_id: str, revision: int) -> None:
        with _storage_errors():
            self.dynamodb.delete_item(
                TableName=self.table_name, Key=_serialize(pending_item_key(article_id, revision))
            )

    # -- partners and deliveries ----------------------------------------------------------

    def put_partner(self, partner: Partner) -> None:
        item = {
            **partner.model_dump(mode="json"),
            **partner_item_key(partner.id),
            schema.LISTING_PARTITION_KEY: PARTNERS_LISTING,
            schema.LISTING_SORT_KEY: utc_sort_key(partner.created_at, partner.id),
            "entity": "partner",
        }
        self._put_item(item)

    def get_partner(self, partner_id: str) -> Partner | None:
        item = self._get(partner_item_key(partner_id))
        return Partner.model_validate(item) if item else None

    def list_partners(self) -> list[Partner]:
        return [Partner.model_validate(item) for item in self._listing_items(PARTNERS_LISTING)]

    def delete_partner(self, partner_id: str) -> None:
        with _storage_errors():
            self.dynamodb.delete_item(TableName=self.table_name, Key=_serialize(partner_item_key(partner_id)))

    def put_delivery(self, delivery: Delivery) -> None:
        item = {
            **delivery.model_dump(mode="json", exclude_none=True),
            **delivery_item_key(delivery.partner_id, delivery.message_id),
            "entity": "delivery",
        }
        self._put_item(item)

    def list_deliveries(self, partner_id: str, limit: int) -> list[Delivery]:
        query: dict[str, Any] = {
            "TableName": self.table_name,
            "KeyConditionExpression": "#pk = :pk AND begins_with(#sk, :delivery)",
            "ExpressionAttributeNames": {"#pk": schema.PARTITION_KEY, "#sk": schema.SORT_KEY},
            "ExpressionAttributeValues": {
                ":pk": {"S": f"PARTNER#{partner_id}"},
                ":delivery": {"S": "DELIVERY#"},
            },
            "ScanIndexForward": False,
            "Limit": limit,
            "ConsistentRead": True,
        }
        with _storage_errors():
            response = self.dynamodb.query(**query)
        deliveries = [Delivery.model_validate(_deserialize(item)) for item in response.get("Items", [])]
        return sorted(deliveries, key=lambda delivery: delivery.last_attempt_at, reverse=True)

    # -- the notification queue -----------------------------------------------------------

    def send_notification(self, message: dict[str, Any], delay_seconds: int = 0) -> None:
        with _storage_errors():
            self.sqs.send_message(
                QueueUrl=self.notify_queue_url,
                MessageBody=json.dumps(message, ensure_ascii=False, sort_keys=True),
                DelaySeconds=min(max(delay_seconds, 0), 900),
            )

    def postpone_notification(self, receipt_handle: str, seconds: int) -> None:
        """Backoff for a message that failed: it comes back after `seconds` (at most 12 hours)."""
        with _storage_errors():
            self.sqs.change_message_visibility(
                QueueUrl=self.notify_queue_url,
                ReceiptHandle=receipt_handle,
                VisibilityTimeout=min(seconds, 43_200),
            )

    def _listing_items(self, partition: str, upper: str | None = None) -> list[dict[str, Any]]:
        """Every item of one listing partition (deserialized), optionally up to a sort key."""
        condition = "#pk = :pk" + (" AND #sk <= :upper" if upper is not None else "")
        names = {"#pk": schema.LISTING_PARTITION_KEY}
        values: dict[str, Any] = {":pk": {"S": partition}}
        if upper is not None:
            names["#sk"] = schema.LISTING_SORT_KEY
            values[":upper"] = {"S": upper}
        query: dict[str, Any] = {
            "TableName": self.table_name,
            "IndexName": schema.LISTING_INDEX,
            "KeyConditionExpression": condition,
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
        }
        items: list[dict[str, Any]] = []
        with _storage_errors():
            for page in self.dynamodb.get_paginator("query").paginate(**query):
                items += [_deserialize(item) for item in page.get("Items", [])]
        return items

    # -- API keys -----------------------------------------------------------------------

    def get_api_key(self, key_hash: str) -> ApiKeyRecord | None:
        item = self._get(api_key_item_key(key_hash))
        return ApiKeyRecord.model_validate(item) if item else None

    def put_api_key(self, record: ApiKeyRecord) -> None:
        item = {
            **record.model_dump(mode="json"),
            **api_key_item_key(record.key_hash),
            schema.LISTING_PARTITION_KEY: KEYS_LISTING,
            schema.LISTING_SORT_KEY: utc_sort_key(record.created_at, record.key_id),
            "entity": "apikey",
        }
        try:
            self._put_item(item, f"attribute_not_exists({schema.PARTITION_KEY})")
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise
            # The secret is fresh randomness, so the only item that can already hold its hash is
            # this very put, retried by botocore after its first answer was lost.
            if self.get_api_key(record.key_hash) != record:
                raise

    def list_api_keys(self) -> list[ApiKeyRecord]:
        return [ApiKeyRecord.model_validate(item) for item in self._listing_items(KEYS_LISTING)]

    def revoke_api_key(self, key_id: str) -> ApiKeyRecord:
        matching = [key for key in self.list_api_keys() if key.key_id == key_id]
        if not matching:
            raise KeyNotFound(f"there is no key with id {key_id}", field="key_id")
        with _storage_errors():
            self.dynamodb.update_item(
                TableName=self.table_name,
                Key=_serialize(api_key_item_key(matching[0].key_hash)),
                UpdateExpression="SET revoked = :revoked",
                ExpressionAttributeValues={":revoked": {"BOOL": True}},
            )
        return matching[0].model_copy(update={"revoked": True})

    # -- previews -----------------------------------------------------------------------

    def put_preview(self, preview: Preview) -> None:
        item = {
            **preview.model_dump(mode="json"),
            **preview_item_key(preview.token_hash),
            schema.TTL_ATTRIBUTE: int(preview.expires_at.timestamp()),
            "entity": "preview",
        }
        self._put_item(item)

    def get_preview(self, token_hash: str) -> Preview | None:
        item = self._get(preview_item_key(token_hash))
        return Preview.model_validate(item) if item else None

    # -- media --------------------------------------------------------------------------

    def put_media(self, key: str, body: bytes, content_type: str) -> StoredMedia:
        with _storage_errors():
            self.s3.put_object(
                Bucket=self.content_bucket,
                Key=key,
                Body=body,
                ContentType=content_type,
                CacheControl=MEDIA_CACHE_CONTROL,
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

    def put_media_info(self, info: MediaInfo) -> None:
        item = {**info.model_dump(mode="json"), **media_item_key(info.key), "entity": "media"}
        self._put_item(item)

    def get_media_info(self, key: str) -> MediaInfo | None:
        item = self._get(media_item_key(key), consistent=False)
        return MediaInfo.model_validate(item) if item else None

    def presign_media_upload(self, key: str, content_type: str, length: int, expires_in: int) -> str:
        """A PUT URL that S3 honours only with exactly this Content-Type and Content-Length."""
        return str(
            self.s3.generate_presigned_url(
                "put_object",
                Params={
                    "Bucket": self.content_bucket,
                    "Key": key,
                    "ContentType": content_type,
                    "ContentLength": length,
                    "CacheControl": MEDIA_CACHE_CONTROL,
                },
                ExpiresIn=expires_in,
            )
        )

    # -- the site bucket ----------------------------------------------------------------

    def write_if_changed(self, output: Output) -> bool:
        metadata = {"sha256": hashlib.sha256(output.body).hexdigest()}
        if output.http_status is not None:
            metadata[HTTP_STATUS_METADATA] = str(output.http_status)
        signature = (tuple(sorted(metadata.items())), output.content_type, output.cache_control)
        known = self._written.get(output.key)
        if known == signature:
            return False  # this process wrote exactly these bytes already: no HEAD needed
        if known is None:
            self._check_existing(output, metadata, signature)
            if self._written.get(output.key) == signature:
                return False
        with _storage_errors():
            self.s3.put_object(
                Bucket=self.site_bucket,
                Key=output.key,
                Body=output.body,
                ContentType=output.content_type,
                CacheControl=output.cache_control,
                Metadata=metadata,
            )
        self._written[output.key] = signature
        return True

    def forget_site_outputs(self) -> None:
        """Reconcile's container may be a day old: what it wrote then may be gone since."""
        self._written.clear()

    def _check_existing(self, output: Output, metadata: dict[str, str], signature: tuple[Any, ...]) -> None:
        """Learn what the site bucket holds for a key this process has not written yet."""
        try:
            with _storage_errors():
                existing = self.s3.head_object(Bucket=self.site_bucket, Key=output.key)
            if (
                existing.get("Metadata", {}) == metadata
                and existing.get("ContentType") == output.content_type
                and existing.get("CacheControl") == output.cache_control
            ):
                self._written[output.key] = signature
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") not in {"404", "NoSuchKey", "NotFound"}:
                raise

    # -- full rebuilds (functions/logic/rebuild.py) ---------------------------------------

    def put_rebuild(self, rebuild_id: str, plan: dict[str, Any], shards: int) -> None:
        """Start (or start over) a rebuild: its plan and the number of shards still to render."""
        item = {
            **rebuild_item_key(rebuild_id),
            "plan": json.dumps(plan, sort_keys=True),
            # Each start gets a new run id: a late message of an earlier run counts for nothing.
            "run": str(plan["run"]),
            "remaining": shards,
            "finished": False,
            "entity": "rebuild",
        }
        self._put_item(item)

    def get_rebuild(self, rebuild_id: str) -> tuple[dict[str, Any], int, bool] | None:
        """(plan, shards still to render, finished) of the rebuild, read strongly consistently."""
        item = self._get(rebuild_item_key(rebuild_id))
        if item is None:
            return None
        return json.loads(item["plan"]), int(item["remaining"]), bool(item["finished"])

    def record_rebuild_shard(
        self, rebuild_id: str, run: str, shard: int, result: dict[str, Any], expires_at: datetime
    ) -> int | None:
        """Keep a finished shard's result and count it: the shards still to render after it, or
        None if this shard was counted already (SQS delivers at least once). The count is one
        conditional update, so exactly one caller ever sees 0."""
        self._put_item(
            {
                **rebuild_shard_key(rebuild_id, run, shard),
                "result": json.dumps(result, ensure_ascii=False, sort_keys=True),
                schema.TTL_ATTRIBUTE: int(expires_at.timestamp()),
                "entity": "rebuild-shard",
            }
        )
        response = self._update_if(
            rebuild_item_key(rebuild_id),
            UpdateExpression="ADD #remaining :minus_one, #done :shard_set",
            ConditionExpression=(
                "#plan_run = :run AND (attribute_not_exists(#done) OR NOT contains(#done, :shard))"
            ),
            ExpressionAttributeNames={"#remaining": "remaining", "#done": "done", "#plan_run": "run"},
            ExpressionAttributeValues={
                ":minus_one": {"N": "-1"},
                ":shard_set": {"NS": [str(shard)]},
                ":shard": {"N": str(shard)},
                ":run": {"S": run},
            },
            ReturnValues="UPDATED_NEW",
        )
        if response is None:
            return None
        return int(response["Attributes"]["remaining"]["N"])

    def list_rebuild_shards(self, rebuild_id: str, run: str) -> list[dict[str, Any]]:
        """The results of the run's finished shards (one Query on the rebuild's own partition)."""
        query: dict[str, Any] = {
            "TableName": self.table_name,
            "KeyConditionExpression": "#pk = :pk AND begins_with(#sk, :run)",
            "ExpressionAttributeNames": {"#pk": schema.PARTITION_KEY, "#sk": schema.SORT_KEY},
            "ExpressionAttributeValues": {
                ":pk": {"S": rebuild_item_key(rebuild_id)[schema.PARTITION_KEY]},
                ":run": {"S": f"SHARD#{run}#"},
            },
            "ConsistentRead": True,
        }
        results: list[dict[str, Any]] = []
        with _storage_errors():
            for page in self.dynamodb.get_paginator("query").paginate(**query):
                results += [json.loads(_deserialize(item)["result"]) for item in page.get("Items", [])]
        return results

    def finish_rebuild(self, rebuild_id: str) -> None:
        with _storage_errors():
            self.dynamodb.update_item(
                TableName=self.table_name,
                Key=_serialize(rebuild_item_key(rebuild_id)),
                UpdateExpression="SET #finished = :yes",
                ExpressionAttributeNames={"#finished": "finished"},
                ExpressionAttributeValues={":yes": {"BOOL": True}},
            )

    def send_rebuild_shards(self, queue_url: str, messages: Sequence[dict[str, Any]]) -> None:
        """One message per shard, ten to a call (SendMessageBatch's limit)."""
        for start in range(0, len(messages), 10):
            entries = [
                {"Id": str(index), "MessageBody": json.dumps(message, sort_keys=True)}
                for index, message in enumerate(messages[start : start + 10])
            ]
            with _storage_errors():
                response = self.sqs.send_message_batch(QueueUrl=queue_url, Entries=entries)
            if response.get("Failed"):
                raise StorageUnavailable(f"{len(response['Failed'])} rebuild shards were not enqueued; retry")


def canonical_bytes(article: Article) -> bytes:
    """The canonical JSON serialization: stable key order, UTF-8, so equal articles hash equal."""
    return json.dumps(article.model_dump(mode="json"), ensure_ascii=False, sort_keys=True, indent=1).encode()
