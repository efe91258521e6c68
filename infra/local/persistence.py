"""Durable local state: a journal of every write to the canonical stores, replayed on start.

moto keeps everything in memory. The journal records, after each successful write to a durable
bucket or table, the resulting object version or item; on the next start the journal is replayed
into a fresh moto. S3 hands out new version ids on replay, so table items that carry an old
version id are rewritten to the new one.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

JOURNAL_NAME = "journal.jsonl"
BLOB_DIR = "blobs"


@dataclass
class Journal:
    """Append-only, fsync'd: a write that was acknowledged survives a crash of the stack."""

    state_dir: Path
    _lock: threading.Lock = field(default_factory=threading.Lock)
    paused: bool = False

    @property
    def path(self) -> Path:
        return self.state_dir / JOURNAL_NAME

    def _blob_path(self, digest: str) -> Path:
        return self.state_dir / BLOB_DIR / digest[:2] / digest

    def _append(self, entry: dict[str, Any]) -> None:
        line = json.dumps(entry, ensure_ascii=False, sort_keys=True) + "\n"
        with self._lock, self.path.open("a", encoding="utf-8") as handle:
            handle.write(line)
            handle.flush()
            os.fsync(handle.fileno())

    def _store_blob(self, body: bytes) -> str:
        digest = hashlib.sha256(body).hexdigest()
        path = self._blob_path(digest)
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp")
            tmp.write_bytes(body)
            tmp.replace(path)
        return digest

    def record_object(
        self, bucket: str, key: str, version_id: str | None, body: bytes, headers: dict[str, str]
    ) -> None:
        if self.paused:
            return
        digest = self._store_blob(body)
        self._append(
            {
                "kind": "object",
                "bucket": bucket,
                "key": key,
                "version_id": version_id,
                "blob": digest,
                "headers": headers,
            }
        )

    def record_object_deletion(self, bucket: str, key: str) -> None:
        if not self.paused:
            self._append({"kind": "object-deleted", "bucket": bucket, "key": key})

    def record_item(self, table: str, key: dict[str, Any], item: dict[str, Any] | None) -> None:
        if not self.paused:
            self._append({"kind": "item", "table": table, "key": key, "item": item})

    def entries(self) -> Iterator[dict[str, Any]]:
        if not self.path.exists():
            return
        with self.path.open(encoding="utf-8") as handle:
            for line in handle:
                if line.strip():
                    try:
                        yield json.loads(line)
                    except json.JSONDecodeError:
                        # Only the last line can be torn (a crash mid-append); it was never acknowledged.
                        return

    def blob(self, digest: str) -> bytes:
        return self._blob_path(digest).read_bytes()


def item_key(key: dict[str, Any]) -> str:
    return json.dumps(key, sort_keys=True)


def remap_versions(value: Any, versions: dict[str, str]) -> Any:
    """Replace every string attribute that is an old S3 version id with its replayed one."""
    if isinstance(value, dict):
        if set(value) == {"S"} and value["S"] in versions:
            return {"S": versions[value["S"]]}
        return {name: remap_versions(inner, versions) for name, inner in value.items()}
    if isinstance(value, list):
        return [remap_versions(inner, versions) for inner in value]
    return value
