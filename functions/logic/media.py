"""Images: uploaded once, stored under a content-addressed key, served from /media/."""

from __future__ import annotations

import hashlib
from pathlib import PurePosixPath

from functions.dal.protocol import MediaStore, StoredMedia
from functions.models.errors import InvalidRequest, MediaTooLarge
from functions.text import slugify

MEDIA_URL_PREFIX = "/media/"
MEDIA_KEY_PREFIX = "media/"
# A synchronous Lambda payload is capped at 6 MB and base64 adds a third.
MAX_DIRECT_UPLOAD_BYTES = 4 * 1024 * 1024
ALLOWED_TYPES: dict[str, str] = {
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/webp": "webp",
    "image/gif": "gif",
}
_SIGNATURES: dict[str, tuple[bytes, ...]] = {
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/gif": (b"GIF87a", b"GIF89a"),
    "image/webp": (b"RIFF",),
}


def media_key_for_url(url: str) -> str | None:
    """The content-bucket key behind a /media/ URL, or None for anything else."""
    if not url.startswith(MEDIA_URL_PREFIX) or ".." in url:
        return None
    return MEDIA_KEY_PREFIX + url[len(MEDIA_URL_PREFIX) :]


def media_url(key: str) -> str:
    return MEDIA_URL_PREFIX + key[len(MEDIA_KEY_PREFIX) :]


def upload_media(store: MediaStore, *, filename: str, content_type: str, body: bytes) -> StoredMedia:
    content_type = content_type.split(";")[0].strip().lower()
    if content_type not in ALLOWED_TYPES:
        raise InvalidRequest(
            f"images must be one of {', '.join(ALLOWED_TYPES)}; got {content_type or 'no Content-Type'}",
            field="Content-Type",
        )
    if not body:
        raise InvalidRequest("the upload is empty", field="body")
    if len(body) > MAX_DIRECT_UPLOAD_BYTES:
        raise MediaTooLarge(f"direct uploads are limited to {MAX_DIRECT_UPLOAD_BYTES} bytes")
    if not body.startswith(_SIGNATURES[content_type]):
        raise InvalidRequest(f"the file's content is not {content_type}", field="body")
    stem = slugify(PurePosixPath(filename).stem) or "image"
    digest = hashlib.sha256(body).hexdigest()[:16]
    # Content-addressed: the same bytes always land on the same key, so retries are harmless.
    key = f"{MEDIA_KEY_PREFIX}{digest}/{stem}.{ALLOWED_TYPES[content_type]}"
    return store.put_media(key, body, content_type)
