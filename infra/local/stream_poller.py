"""The DynamoDB stream -> publisher event source mapping, as Lambda runs it."""

from __future__ import annotations

import json
import logging
import threading
import time
from pathlib import Path
from time import monotonic
from typing import Any

from infra.cfn import matches_filter
from infra.local.lambda_runtime import Handler, invoke

log = logging.getLogger("presswire.local.stream")

BATCH_SIZE = 100
MAX_RETRIES = 5
# Shards come and go only every few hours on AWS (and never on moto), while records are polled
# every 50 ms: describing the stream on every pass doubled the idle poller's calls into moto,
# whose CPU the API and the publisher share.
SHARD_REFRESH_SECONDS = 1.0
# With a wake event (set by the local moto after each table write), an idle poller sleeps until
# the next write instead of polling every 50 ms; this is only the fallback.
IDLE_WAKE_TIMEOUT = 1.0


class StreamPoller:
    """Reads every shard from TRIM_HORIZON, invokes the handler with Lambda's event shape,
    honours partial batch responses, and parks records that keep failing in a dead-letter file."""

    def __init__(
        self,
        streams: Any,
        stream_arn: str,
        handler: Handler,
        function_name: str,
        dead_letter_path: Path | None = None,
        interval: float = 0.05,
        filters: list[dict[str, Any]] | None = None,
        wake: threading.Event | None = None,
    ) -> None:
        self._streams = streams
        self._stream_arn = stream_arn
        self._handler = handler
        self._function_name = function_name
        self._dead_letter_path = dead_letter_path
        self._interval = interval
        self._filters = filters or []
        self._wake = wake
        self._stop = threading.Event()
        self._iterators: dict[str, str | None] = {}
        self._shards_refreshed: float | None = None
        self._thread = threading.Thread(target=self._run, name=f"stream-{function_name}", daemon=True)
        self.delivered = 0
        self._idle = threading.Event()

    def start(self) -> StreamPoller:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._wake is not None:
            self._wake.set()
        self._thread.join(timeout=10)

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """True once a full pass found nothing new (used on start, so the site is rebuilt first)."""
        return self._idle.wait(timeout)

    def _refresh_shards(self) -> None:
        # `monotonic` imported by name: tests replace this module's `time` to skip the retries' sleeps.
        now = monotonic()
        if self._shards_refreshed is not None and now - self._shards_refreshed < SHARD_REFRESH_SECONDS:
            return
        self._shards_refreshed = now
        description = self._streams.describe_stream(StreamArn=self._stream_arn)["StreamDescription"]
        for shard in description.get("Shards", []):
            shard_id = shard["ShardId"]
            if shard_id not in self._iterators:
                self._iterators[shard_id] = self._streams.get_shard_iterator(
                    StreamArn=self._stream_arn, ShardId=shard_id, ShardIteratorType="TRIM_HORIZON"
                )["ShardIterator"]

    def _run(self) -> None:
        while not self._stop.is_set():
            if self._wake is not None:
                # Cleared before the pass: a write landing during it sets it again, so the next
                # wait returns at once and no record waits for the fallback timeout.
                self._wake.clear()
            try:
                found = self.poll_once()
            except Exception:  # the poller must outlive any one failure, as Lambda's does
                log.exception("stream poll failed")
                found = 0
            if found == 0:
                self._idle.set()
                if self._wake is not None:
                    self._wake.wait(IDLE_WAKE_TIMEOUT)
                else:
                    self._stop.wait(self._interval)
            else:
                self._idle.clear()

    def poll_once(self) -> int:
        """One pass over every shard; returns how many records were delivered."""
        self._refresh_shards()
        found = 0
        for shard_id, iterator in list(self._iterators.items()):
            if iterator is None:
                continue
            response = self._streams.get_records(ShardIterator=iterator, Limit=BATCH_SIZE)
            self._iterators[shard_id] = response.get("NextShardIterator")
            records = [self._lambda_record(record) for record in response.get("Records", [])]
            found += len(records)
            # As Lambda's event filtering does: records no filter matches are dropped unseen.
            wanted = [
                r for r in records if not self._filters or any(matches_filter(f, r) for f in self._filters)
            ]
            if wanted:
                self._deliver(wanted)
        return found

    def _lambda_record(self, record: dict[str, Any]) -> dict[str, Any]:
        shaped = dict(record)
        shaped.setdefault("eventSource", "aws:dynamodb")
        shaped.setdefault("awsRegion", "us-east-1")
        shaped["eventSourceARN"] = self._stream_arn
        dynamodb = dict(shaped.get("dynamodb", {}))
        created = dynamodb.get("ApproximateCreationDateTime")
        if created is not None and not isinstance(created, int | float):
            dynamodb["ApproximateCreationDateTime"] = created.timestamp()
        shaped["dynamodb"] = dynamodb
        return shaped

    def _deliver(self, records: list[dict[str, Any]], retries: int = MAX_RETRIES) -> None:
        pending = records
        for attempt in range(retries + 1):
            try:
                result = invoke(self._handler, self._function_name, {"Records": pending}) or {}
                failures = {item["itemIdentifier"] for item in result.get("batchItemFailures", [])}
            except Exception:
                log.exception("publisher invocation failed (attempt %d)", attempt + 1)
                if len(pending) > 1:
                    # BisectBatchOnFunctionError (template.yaml): a batch the function failed as a
                    # whole is split in two, each half retried on its own, in order, so one poison
                    # record parks only itself.
                    half = len(pending) // 2
                    self._deliver(pending[:half], retries - attempt)
                    self._deliver(pending[half:], retries - attempt)
                    return
                failures = {record["dynamodb"]["SequenceNumber"] for record in pending}
            if not failures:
                self.delivered += len(pending)
                return
            # As Lambda does with ReportBatchItemFailures: retry from the first failed record on.
            first = next(
                index
                for index, record in enumerate(pending)
                if record["dynamodb"]["SequenceNumber"] in failures
            )
            self.delivered += first
            pending = pending[first:]
            time.sleep(min(2.0, 0.1 * 2**attempt))
        log.error("giving up on %d stream records; see the dead-letter file", len(pending))
        if self._dead_letter_path is not None:
            with self._dead_letter_path.open("a", encoding="utf-8") as handle:
                for record in pending:
                    handle.write(json.dumps(record, default=str) + "\n")
