"""The local stack's moto patches answer exactly what stock moto answers, only cheaper."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.core.responses import ActionResult
from moto.core.serialize import ResponseSerializer
from moto.dynamodb.models.table import Table

from infra.local import moto_patches

TABLE = "patched"
ITEM = {
    "pk": {"S": "article#1"},
    "sk": {"S": "meta"},
    "gpk": {"S": "listing#home"},
    "gsk": {"S": "2023-09-21T08:00:00Z"},
    "title": {"S": "Ô Môn tập huấn nghiệp vụ công tác Mặt trận năm 2023"},
    "revision": {"N": "3"},
    "published": {"BOOL": True},
    "embargo": {"NULL": True},
    "tags": {"SS": ["mặt-trận", "ô-môn"]},
    "sizes": {"NS": ["640", "1280"]},
    "images": {"L": [{"M": {"alt": {"S": "Ảnh"}, "width": {"N": "1280"}}}]},
    "section": {"M": {"slug": {"S": "thoi-su"}, "name": {"S": "Thời sự"}}},
}
BINARY_ITEM = {"pk": {"S": "article#2"}, "sk": {"S": "meta"}, "digest": {"B": b"\x00\xffsha"}}


@pytest.fixture
def dynamodb() -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        recreate(client)
        yield client


def recreate(client: Any) -> None:
    """The table, with its stream and the listings index."""
    client.create_table(
        TableName=TABLE,
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
        AttributeDefinitions=[
            {"AttributeName": name, "AttributeType": "S"} for name in ("pk", "sk", "gpk", "gsk")
        ],
        KeySchema=[
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "listings",
                "KeySchema": [
                    {"AttributeName": "gpk", "KeyType": "HASH"},
                    {"AttributeName": "gsk", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
    )


def serializer_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The operations whose answers go through moto's shape serializer from now on."""
    through_shapes: list[str] = []
    serialize = ResponseSerializer.serialize

    def counting(self: ResponseSerializer, result: Any) -> Any:
        through_shapes.append(self.operation_model.name)
        return serialize(self, result)

    monkeypatch.setattr(ResponseSerializer, "serialize", counting)
    return through_shapes


def every_data_plane_answer(client: Any) -> list[dict[str, Any]]:
    """One call of each operation the fast path covers, with ResponseMetadata dropped."""
    key = {"pk": ITEM["pk"], "sk": ITEM["sk"]}
    calls: list[Callable[[], dict[str, Any]]] = [
        lambda: client.put_item(TableName=TABLE, Item=ITEM, ReturnValues="ALL_OLD"),
        lambda: client.put_item(TableName=TABLE, Item=BINARY_ITEM),
        lambda: client.get_item(TableName=TABLE, Key=key),
        lambda: client.get_item(TableName=TABLE, Key={"pk": BINARY_ITEM["pk"], "sk": BINARY_ITEM["sk"]}),
        lambda: client.query(
            TableName=TABLE,
            IndexName="listings",
            KeyConditionExpression="gpk = :home",
            ExpressionAttributeValues={":home": ITEM["gpk"]},
            ScanIndexForward=False,
            Limit=1,
        ),
        lambda: client.scan(TableName=TABLE),
        lambda: client.batch_get_item(RequestItems={TABLE: {"Keys": [key]}}),
        lambda: client.update_item(
            TableName=TABLE,
            Key=key,
            UpdateExpression="SET revision = revision + :one",
            ExpressionAttributeValues={":one": {"N": "1"}},
            ReturnValues="ALL_NEW",
        ),
        lambda: client.delete_item(TableName=TABLE, Key=key, ReturnValues="ALL_OLD"),
    ]
    answers = []
    for call in calls:
        answer = call()
        answer.pop("ResponseMetadata")
        answers.append(answer)
    return answers


def test_data_plane_answers_are_identical_with_and_without_the_wire_json_fast_path(
    dynamodb: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    stock = every_data_plane_answer(dynamodb)
    dynamodb.delete_item(TableName=TABLE, Key={"pk": BINARY_ITEM["pk"], "sk": BINARY_ITEM["sk"]})

    monkeypatch.setattr(ActionResult, "execute_result", moto_patches.dump_wire_json)
    patched = every_data_plane_answer(dynamodb)

    assert patched == stock
    assert patched[2]["Item"]["title"]["S"] == ITEM["title"]["S"]
    assert patched[3]["Item"]["digest"]["B"] == BINARY_ITEM["digest"]["B"]


def test_items_without_binary_values_skip_moto_shape_serializer_and_binary_ones_still_use_it(
    dynamodb: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ActionResult, "execute_result", moto_patches.dump_wire_json)
    dynamodb.put_item(TableName=TABLE, Item=ITEM)
    dynamodb.put_item(TableName=TABLE, Item=BINARY_ITEM)
    through_shapes = serializer_calls(monkeypatch)
    dynamodb.get_item(TableName=TABLE, Key={"pk": ITEM["pk"], "sk": ITEM["sk"]})
    assert through_shapes == []
    dynamodb.get_item(TableName=TABLE, Key={"pk": BINARY_ITEM["pk"], "sk": BINARY_ITEM["sk"]})
    dynamodb.describe_table(TableName=TABLE)
    assert through_shapes == ["GetItem", "DescribeTable"]


def every_ordered_answer(client: Any) -> list[dict[str, Any]]:
    """Queries forward and back, on the table and the index, page by page, and a scan."""
    answers: list[dict[str, Any]] = []

    def paged(**request: Any) -> None:
        start: dict[str, Any] | None = None
        while True:
            answer = client.query(
                TableName=TABLE, Limit=4, **request, **({"ExclusiveStartKey": start} if start else {})
            )
            answer.pop("ResponseMetadata")
            answers.append(answer)
            start = answer.get("LastEvaluatedKey")
            if start is None:
                return

    for forward in (True, False):
        paged(
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": "article#7"}},
            ScanIndexForward=forward,
        )
        paged(
            IndexName="listings",
            KeyConditionExpression="gpk = :home AND gsk BETWEEN :since AND :before",
            ExpressionAttributeValues={
                ":home": {"S": "listing#home"},
                ":since": {"S": "2023-09-03"},
                ":before": {"S": "2023-09-25"},
            },
            ScanIndexForward=forward,
        )
    scan = client.scan(TableName=TABLE)
    scan.pop("ResponseMetadata")
    return [*answers, scan]


def put_revisions_out_of_order(dynamodb: Any) -> None:
    """Written out of order, with keys that sort differently as text and as their DynamoType."""
    for article in (7, 12, 3, 25, 1, 18):
        for revision in (10, 2, 1):
            dynamodb.put_item(
                TableName=TABLE,
                Item={
                    "pk": {"S": f"article#{article}"},
                    "sk": {"S": f"revision#{revision}"},
                    "gpk": {"S": "listing#home" if revision == 1 else f"listing#{article}"},
                    "gsk": {"S": f"2023-09-{article:02d}T0{revision % 10}:00:00Z"},
                },
            )


def test_queries_and_scans_keep_moto_order_when_sorting_on_plain_values(
    dynamodb: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    put_revisions_out_of_order(dynamodb)
    stock = every_ordered_answer(dynamodb)

    monkeypatch.setattr(Table, "all_items", moto_patches.all_items_in_key_order)
    monkeypatch.setattr(Table, "sorted_items", moto_patches.sorted_items_by_value)
    patched = every_ordered_answer(dynamodb)

    assert patched == stock
    assert [item["sk"]["S"] for item in patched[0]["Items"]] == ["revision#1", "revision#10", "revision#2"]


def test_the_cached_key_order_follows_puts_replacements_and_deletes(
    dynamodb: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(Table, "all_items", moto_patches.all_items_in_key_order)
    monkeypatch.setattr(Table, "put_item", moto_patches.forgetting_key_order(Table.put_item))
    monkeypatch.setattr(Table, "delete_item", moto_patches.forgetting_key_order(Table.delete_item))

    def home() -> list[tuple[str, str]]:
        items = dynamodb.query(
            TableName=TABLE,
            IndexName="listings",
            KeyConditionExpression="gpk = :home",
            ExpressionAttributeValues={":home": {"S": "listing#home"}},
        )["Items"]
        return [(item["pk"]["S"], item.get("title", {}).get("S", "")) for item in items]

    def put(article: int, title: str) -> None:
        dynamodb.put_item(
            TableName=TABLE,
            Item={
                "pk": {"S": f"article#{article}"},
                "sk": {"S": "meta"},
                "gpk": {"S": "listing#home"},
                "gsk": {"S": f"2023-09-{article:02d}"},
                "title": {"S": title},
            },
        )

    put(2, "Hai")
    put(1, "Một")
    assert home() == [("article#1", "Một"), ("article#2", "Hai")]
    put(3, "Ba")
    put(1, "Một (sửa)")  # a replacement is a new Item object
    assert home() == [("article#1", "Một (sửa)"), ("article#2", "Hai"), ("article#3", "Ba")]
    dynamodb.update_item(  # created by update: an item the order has never seen
        TableName=TABLE,
        Key={"pk": {"S": "article#4"}, "sk": {"S": "meta"}},
        UpdateExpression="SET gpk = :home, gsk = :at, title = :title",
        ExpressionAttributeValues={
            ":home": {"S": "listing#home"},
            ":at": {"S": "2023-09-04"},
            ":title": {"S": "Bốn"},
        },
    )
    dynamodb.delete_item(TableName=TABLE, Key={"pk": {"S": "article#2"}, "sk": {"S": "meta"}})
    assert home() == [("article#1", "Một (sửa)"), ("article#3", "Ba"), ("article#4", "Bốn")]


def stream_records(client: Any) -> list[dict[str, Any]]:
    streams = boto3.client("dynamodbstreams", region_name="us-east-1")
    arn = client.describe_table(TableName=TABLE)["Table"]["LatestStreamArn"]
    (shard,) = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
    iterator = streams.get_shard_iterator(
        StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    return list(streams.get_records(ShardIterator=iterator)["Records"])


def test_stream_records_are_identical_with_and_without_the_wire_json_fast_path(
    dynamodb: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = {"pk": ITEM["pk"], "sk": ITEM["sk"]}
    dynamodb.put_item(TableName=TABLE, Item=ITEM)
    dynamodb.update_item(
        TableName=TABLE,
        Key=key,
        UpdateExpression="SET revision = revision + :one",
        ExpressionAttributeValues={":one": {"N": "1"}},
    )
    dynamodb.delete_item(TableName=TABLE, Key=key)
    stock = stream_records(dynamodb)

    monkeypatch.setattr(ActionResult, "execute_result", moto_patches.dump_wire_json)
    through_shapes = serializer_calls(monkeypatch)
    patched = stream_records(dynamodb)

    assert "GetRecords" not in through_shapes
    assert patched == stock
    assert [record["eventName"] for record in patched] == ["INSERT", "MODIFY", "REMOVE"]
    assert patched[1]["dynamodb"]["NewImage"]["revision"] == {"N": "4"}
    assert patched[0]["dynamodb"]["ApproximateCreationDateTime"].tzinfo is not None


def test_index_queries_over_one_grouped_partition_answer_as_stock_moto_through_every_kind_of_write(
    dynamodb: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import DynamoDBBackend, dynamodb_backends
    from moto.dynamodb.models.dynamo_type import Item

    def put(article: int, listing: str) -> None:
        dynamodb.put_item(
            TableName=TABLE,
            Item={
                "pk": {"S": f"article#{article}"},
                "sk": {"S": "meta"},
                "gpk": {"S": listing},
                "gsk": {"S": f"2023-09-{article:02d}"},
            },
        )

    def writes() -> None:
        put(9, "listing#home")  # a new item, and a replaced one in another partition
        put(3, "listing#tag")
        dynamodb.delete_item(TableName=TABLE, Key={"pk": {"S": "article#25"}, "sk": {"S": "revision#1"}})
        answers()  # the partitions grouped again, before an update moves an item in place
        dynamodb.update_item(
            TableName=TABLE,
            Key={"pk": {"S": "article#12"}, "sk": {"S": "revision#1"}},
            UpdateExpression="SET gpk = :tag",
            ExpressionAttributeValues={":tag": {"S": "listing#tag"}},
        )

    def answers() -> list[dict[str, Any]]:
        tag = dynamodb.query(
            TableName=TABLE,
            IndexName="listings",
            KeyConditionExpression="gpk = :tag",
            ExpressionAttributeValues={":tag": {"S": "listing#tag"}},
        )
        tag.pop("ResponseMetadata")
        return [*every_ordered_answer(dynamodb), tag]

    put_revisions_out_of_order(dynamodb)
    stock_before = answers()
    writes()
    stock_after = answers()
    dynamodb.delete_table(TableName=TABLE)

    monkeypatch.setattr(Table, "query", moto_patches.query_one_partition)
    monkeypatch.setattr(Item, "size", moto_patches.item_size_measured_once)
    monkeypatch.setattr(Table, "put_item", moto_patches.forgetting_key_order(Table.put_item))
    monkeypatch.setattr(Table, "delete_item", moto_patches.forgetting_key_order(Table.delete_item))
    monkeypatch.setattr(
        DynamoDBBackend, "update_item", moto_patches.forgetting_partitions(DynamoDBBackend.update_item)
    )
    recreate(dynamodb)
    put_revisions_out_of_order(dynamodb)
    assert answers() == stock_before
    writes()
    assert answers() == stock_after
    # The updated item was measured before its update and again after it.
    table = dynamodb_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].get_table(TABLE)
    for item in table.all_items():
        assert item.size() == moto_patches._stock_item_size(item)


def test_an_item_over_the_size_limit_is_still_refused_when_measured_once(
    dynamodb: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from moto.dynamodb.models.dynamo_type import Item

    monkeypatch.setattr(Item, "__init__", moto_patches.make_item_measured_once)
    key = {"pk": {"S": "article#big"}, "sk": {"S": "meta"}}
    # Two attributes, each under the limit, together over it: the whole item is what counts.
    half = "x" * (moto_patches.ITEM_SIZE_LIMIT // 2)
    dynamodb.put_item(TableName=TABLE, Item={**key, "body": {"S": half}})

    with pytest.raises(dynamodb.exceptions.ClientError, match="Item size has exceeded"):
        dynamodb.put_item(TableName=TABLE, Item={**key, "body": {"S": half}, "copy": {"S": half}})
    assert dynamodb.get_item(TableName=TABLE, Key=key)["Item"]["body"]["S"] == half
