"""Where moto's behaviour is right but its cost is not, for a long-running local stack.

moto's TransactWriteItems deep-copies the whole table once per item of the transaction to be
able to roll back, so every write gets slower as the archive grows (a 200-article site took
seconds per submit). DynamoDB checks every condition first and then applies all writes or none;
doing exactly that needs no snapshot. Requests reach moto one at a time (infra/local/aws.py), so
nothing can slip in between the check and the writes.

Every Query sorts the whole table first (Table.all_items), and sorts by DynamoType, whose every
comparison recomputes both values in Python: with a few thousand items a Query took ~0.2 s. The
same order comes from sorting on the plain values DynamoType compares (cast_value), once per
change of the table's items; and cast_value answers a string (every key here) without its chain
of type tests.

moto also walks every DynamoDB and DynamoDB Streams response through its botocore-shape
serializer, which made half of the local stack's time go into serializing Query results and
stream records. Those results are DynamoDB's wire JSON already, so they are dumped as they are;
anything json cannot take as it stands (binary values) still goes through moto's serializer.

moto builds each Item attribute by attribute, and before each one re-measures every attribute
already set (the 400 KB item limit): a 20-attribute listing item cost ~10 ms to write. The same
limit is checked once, on the whole item, when an Item is made (as attributes are only added
there, the last of stock moto's checks is the one that can fail); updates of an existing item
keep moto's own check.

A Query of a global secondary index also walks every item of the table to find its partition
(~0.3 s at 100,000 items, so a full rebuild of 10,000 articles spent most of its time there).
Each index partition's items are grouped once per change of the table, in the table's key order,
and moto's own Query runs over that partition alone: the same answer. moto's Query also measures
every item of the partition (the 1 MB page limit) before testing its sort key against the range:
an Item's size is kept once measured, and forgotten when an update changes the item in place.
"""

from __future__ import annotations

import calendar
import functools
import json
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any

from moto import backends
from moto.core.responses import ActionContext, ActionResult
from moto.dynamodb.comparisons import get_filter_expression
from moto.dynamodb.exceptions import (
    ConditionalCheckFailed,
    ItemSizeTooLarge,
    MultipleTransactionsException,
    TooManyTransactionsException,
    TransactionCanceledException,
    TransactWriteSingleOpException,
)
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType, Item, LimitedSizeDict
from moto.dynamodb.models.table import Table
from moto.dynamodb.models.utilities import bytesize

_WRITES = {"ConditionCheck", "Put", "Delete", "Update"}


def check_then_write(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
    if len(transact_items) > 100:
        raise TooManyTransactionsException()
    planned: list[tuple[str, dict[str, Any], dict[str, Any]]] = []
    targets: set[tuple[str, str]] = set()
    errors: list[tuple[str | None, str | None, dict[str, Any] | None]] = []
    for entry in transact_items:
        if len(entry) > 1:
            raise TransactWriteSingleOpException
        op_type, op = next(iter(entry.items()))
        if op_type not in _WRITES:
            raise ValueError("Unsupported transaction operation")
        table = self.get_table(op["TableName"])
        if op_type == "Put":
            key = {table.hash_key_attr: op["Item"][table.hash_key_attr]}
            if table.range_key_attr is not None:
                key[table.range_key_attr] = op["Item"][table.range_key_attr]
        else:
            key = op["Key"]
        target = (str(op["TableName"]), str(dict(sorted(key.items()))))
        if target in targets:
            raise MultipleTransactionsException()
        targets.add(target)
        current = self.get_item(op["TableName"], key)
        condition = op.get("ConditionExpression")
        if condition is not None:
            test = get_filter_expression(
                condition, op.get("ExpressionAttributeNames"), op.get("ExpressionAttributeValues")
            )
            if not test.expr(current):
                old = (
                    current.to_json()["Attributes"]
                    if current and op.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD"
                    else None
                )
                errors.append(("ConditionalCheckFailed", ConditionalCheckFailed().message, old))
                continue
        errors.append((None, None, None))
        planned.append((op_type, op, key))
    if any(code is not None for code, _, _ in errors):
        raise TransactionCanceledException(errors)
    for op_type, op, key in planned:
        if op_type == "Put":
            self.put_item(op["TableName"], op["Item"])
        elif op_type == "Delete":
            self.delete_item(op["TableName"], key)
        elif op_type == "Update":
            self.update_item(
                op["TableName"],
                key,
                update_expression=op["UpdateExpression"],
                expression_attribute_names=op.get("ExpressionAttributeNames") or {},
                expression_attribute_values=op.get("ExpressionAttributeValues") or {},
            )


_SORTED_ITEMS = "_presswire_items_in_key_order"


def all_items_in_key_order(self: Table) -> list[Item]:
    """Table.all_items: the same order, sorted on plain values, and only again after a write."""
    cached = self.__dict__.get(_SORTED_ITEMS)
    if cached is None or cached[0] is not self.items:
        items: list[Item] = []
        for hash_set in self.items.values():
            if self.range_key_attr:
                items.extend(hash_set.values())
            else:
                items.append(hash_set)  # type: ignore[arg-type]
        items.sort(
            key=lambda item: (
                (item.hash_key.cast_value, item.range_key.cast_value)
                if item.range_key is not None
                else item.hash_key.cast_value
            )
        )
        cached = (self.items, items)
        self.__dict__[_SORTED_ITEMS] = cached
    # A copy: callers sort and filter what they get in place.
    return list(cached[1])


def forgetting_key_order(write: Callable[..., Any]) -> Callable[..., Any]:
    """Table.put_item and delete_item add, replace and remove items: the cached order goes."""

    @functools.wraps(write)
    def wrapper(self: Table, *args: Any, **kwargs: Any) -> Any:
        try:
            return write(self, *args, **kwargs)
        finally:
            self.__dict__.pop(_SORTED_ITEMS, None)
            self.__dict__.pop(_PARTITIONS, None)

    return wrapper


_stock_cast_value = DynamoType.cast_value


def _cast_value(self: DynamoType) -> Any:
    """DynamoType.cast_value: a string is its own value; every other type as moto casts it."""
    if self.type == "S":
        return self.value
    return _stock_cast_value.fget(self)  # type: ignore[attr-defined]


def sorted_items_by_value(
    self: Table, hash_key_attrs: list[str], range_key_attrs: list[str | None], items: list[Item]
) -> list[Item]:
    attributes = self._generate_attr_to_sort_by(hash_key_attrs, range_key_attrs)
    items.sort(key=lambda item: tuple(item.attrs[name].cast_value for name in attributes))
    return items


_PARTITIONS = "_presswire_index_partitions"


def index_partition(self: Table, attribute: str, value: DynamoType) -> list[Item]:
    """The items whose `attribute` is `value`, in the table's key order; grouped once per attribute
    per change of the table."""
    cached: tuple[Any, dict[str, dict[tuple[str, Any], list[Item]]]] | None = self.__dict__.get(_PARTITIONS)
    if cached is None or cached[0] is not self.items:
        cached = (self.items, {})
        self.__dict__[_PARTITIONS] = cached
    groups = cached[1].get(attribute)
    if groups is None:
        groups = {}
        for item in self.all_items():
            found = item.attrs.get(attribute)
            if found is not None:
                groups.setdefault((found.type, found.cast_value), []).append(item)
        cached[1][attribute] = groups
    return groups.get((value.type, value.cast_value), [])


_stock_query = Table.query
_QUERY_INDEX_NAME = 7  # position of index_name among Table.query's arguments after self


def query_one_partition(self: Table, *args: Any, **kwargs: Any) -> Any:
    """Table.query of an index by one hash key: moto's own Query, over that partition's items."""
    index_name = args[_QUERY_INDEX_NAME] if len(args) > _QUERY_INDEX_NAME else kwargs.get("index_name")
    conditions = kwargs.get("hash_key_conditions") or []
    if not index_name or len(conditions) != 1:
        return _stock_query(self, *args, **kwargs)
    partition = index_partition(self, *conditions[0])
    # Query reads the table through self.all_items(): for this call, only the partition.
    self.__dict__["all_items"] = lambda: list(partition)
    try:
        return _stock_query(self, *args, **kwargs)
    finally:
        del self.__dict__["all_items"]


_SIZE = "_presswire_size"
_stock_item_size = Item.size


def item_size_measured_once(self: Item) -> int:
    """Item.size, kept: an Item changes only through an update (see forgetting_partitions)."""
    size: int | None = self.__dict__.get(_SIZE)
    if size is None:
        size = self.__dict__[_SIZE] = _stock_item_size(self)
    return size


def forgetting_partitions(update: Callable[..., Any]) -> Callable[..., Any]:
    """DynamoDBBackend.update_item changes an item in place, perhaps its index attributes: the
    grouped partitions of its table and the item's size go (the key order stays: keys never
    change)."""

    @functools.wraps(update)
    def wrapper(
        self: DynamoDBBackend, table_name: str, key: dict[str, Any], *args: Any, **kwargs: Any
    ) -> Any:
        try:
            return update(self, table_name, key, *args, **kwargs)
        finally:
            table = self.get_table(table_name)
            table.__dict__.pop(_PARTITIONS, None)
            hash_value = key.get(table.hash_key_attr)
            range_value = key.get(table.range_key_attr) if table.range_key_attr else None
            if hash_value is not None and (range_value is not None or not table.range_key_attr):
                item = table.get_item(
                    DynamoType(hash_value), DynamoType(range_value) if range_value else None
                )
                if item is not None:
                    item.__dict__.pop(_SIZE, None)

    return wrapper


# Results that are wire JSON already (items, counts, stream records): nothing the shapes reshape.
_WIRE_JSON_OPERATIONS = frozenset(
    {
        ("dynamodb", name)
        for name in ("GetItem", "BatchGetItem", "Query", "Scan", "PutItem", "UpdateItem", "DeleteItem")
    }
    | {("dynamodb", "TransactGetItems"), ("dynamodbstreams", "GetRecords")}
)
_serialize_through_shapes = ActionResult.execute_result


def _unix_timestamp(value: object) -> float | int:
    """As moto's JSON serializer writes a UTC timestamp: epoch seconds, milliseconds kept."""
    if not isinstance(value, datetime) or value.utcoffset() not in (None, timedelta(0)):
        raise TypeError(f"not wire JSON: {type(value).__name__}")
    seconds = calendar.timegm(value.timetuple())
    return seconds + (value.microsecond // 1000) / 1000.0 if value.microsecond else seconds


def dump_wire_json(self: ActionResult, context: ActionContext) -> tuple[int, dict[str, Any], str | bytes]:
    operation = (context.service_model.service_name, context.operation_model.name)
    if operation in _WIRE_JSON_OPERATIONS and isinstance(self.result, dict):
        try:
            body = json.dumps(self.result, separators=(",", ":"), default=_unix_timestamp)
        except TypeError:
            pass  # binary values: the serializer base64-encodes them
        else:
            version = context.service_model.metadata.get("jsonVersion", "1.0")
            return 200, {"Content-Type": f"application/x-amz-json-{version}"}, body
    return _serialize_through_shapes(self, context)


def _cached_module_names() -> Callable[[], Iterable[str]]:
    names = tuple(backends.list_of_moto_modules())
    return lambda: names


# Stock moto's limit (DynamoDB's 400 KB, measured to fall between 409 and 410 KB).
ITEM_SIZE_LIMIT = 405_000


def make_item_measured_once(
    self: Item, hash_key: DynamoType, range_key: DynamoType | None, attrs: dict[str, Any]
) -> None:
    """Item.__init__ with the item size limit checked once on the whole item."""
    self.hash_key = hash_key
    self.range_key = range_key
    values = {key: DynamoType(value) for key, value in attrs.items()}
    if sum(bytesize(key) + value.size() for key, value in values.items()) > ITEM_SIZE_LIMIT:
        raise ItemSizeTooLarge
    # LimitedSizeDict's constructor fills it with dict.update, past the per-attribute check.
    self.attrs = LimitedSizeDict(values)


def install(assign: Callable[[Any, str, Any], None] = setattr) -> None:
    """Patch moto in place; `assign` may be a test's monkeypatch.setattr, to undo it afterwards."""
    assign(DynamoDBBackend, "transact_write_items", check_then_write)
    assign(Table, "all_items", all_items_in_key_order)
    assign(Table, "put_item", forgetting_key_order(Table.put_item))
    assign(Table, "delete_item", forgetting_key_order(Table.delete_item))
    assign(Table, "sorted_items", sorted_items_by_value)
    assign(DynamoType, "cast_value", property(_cast_value))
    assign(Item, "__init__", make_item_measured_once)
    assign(Table, "query", query_one_partition)
    assign(Item, "size", item_size_measured_once)
    assign(DynamoDBBackend, "update_item", forgetting_partitions(DynamoDBBackend.update_item))
    assign(ActionResult, "execute_result", dump_wire_json)
    # The server looks its package directory up on disk for every request's host.
    assign(backends, "list_of_moto_modules", _cached_module_names())
