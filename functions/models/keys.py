"""API keys as stored, and the roles they carry: what the storage layer and every use case need,
apart from the HTTP API's request and response shapes (functions.models.api), which the
publisher, scheduler, notifier and reconciler do not."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel

Role = Literal["reporter", "editor", "partner", "admin"]


class ApiKeyRecord(BaseModel):
    """A stored key: only the SHA-256 of the secret is ever kept."""

    key_id: str
    key_hash: str
    role: Role
    name: str
    created_at: datetime
    revoked: bool = False
