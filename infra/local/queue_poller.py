"""The SQS -> function event source mapping, as Lambda runs it: batches of up to ten, partial
batch responses, failed messages left to reappear after their visibility timeout."""

from __future__ import annotations

import logging
import threading
from typing import Any

from infra.local.lambda_runtime import Handler, invoke

log = logging.getLogger("presswire.local.queue")

# Lambda long-polls the queue; here a long poll would hold moto (one request at a time) for its
# whole wait, so the poller polls instead, backing off while the queue stays empty: an idle
# 50 ms poll cost the local stack a steady share of a core that the API and publisher need.
IDLE_INTERVAL_MIN = 0.05
IDLE_INTERVAL_MAX = 0.4


class QueuePoller:
    def __init__(
        self, sqs: Any, queue_url: str, handler: Handler, function_name: str, batch_size: int = 10
    ) -> None:
        self._sqs = sqs
        self._queue_url = queue_url
        self._arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        self._handler = handler
        self._function_name = function_name
        self._batch_size = batch_size
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"queue-{function_name}", daemon=True)

    def start(self) -> QueuePoller:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        idle = IDLE_INTERVAL_MIN
        while not self._stop.is_set():
            try:
                if self.poll_once() == 0:
                    self._stop.wait(idle)
                    idle = min(idle * 2, IDLE_INTERVAL_MAX)
                else:
                    idle = IDLE_INTERVAL_MIN
            except Exception:  # the mapping outlives any one failure, as Lambda's does
                log.exception("queue poll failed")
                self._stop.wait(1)

    def poll_once(self) -> int:
        """Receive one batch and invoke the handler; returns how many messages it held."""
        messages = self._sqs.receive_message(
            QueueUrl=self._queue_url,
            MaxNumberOfMessages=self._batch_size,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        if not messages:
            return 0
        event = {"Records": [self._lambda_record(message) for message in messages]}
        try:
            result = invoke(self._handler, self._function_name, event) or {}
            failed = {item["itemIdentifier"] for item in result.get("batchItemFailures", [])}
        except Exception:
            log.exception("%s failed; the whole batch will be received again", self._function_name)
            return len(messages)
        done = [message for message in messages if message["MessageId"] not in failed]
        if done:
            self._sqs.delete_message_batch(
                QueueUrl=self._queue_url,
                Entries=[
                    {"Id": str(index), "ReceiptHandle": m["ReceiptHandle"]} for index, m in enumerate(done)
                ],
            )
        return len(messages)

    def _lambda_record(self, message: dict[str, Any]) -> dict[str, Any]:
        return {
            "messageId": message["MessageId"],
            "receiptHandle": message["ReceiptHandle"],
            "body": message["Body"],
            "attributes": message.get("Attributes", {}),
            "messageAttributes": message.get("MessageAttributes", {}),
            "md5OfBody": message.get("MD5OfBody", ""),
            "eventSource": "aws:sqs",
            "eventSourceARN": self._arn,
            "awsRegion": "us-east-1",
        }
