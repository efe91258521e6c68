"""Images: uploaded directly (small) or through a presigned S3 PUT (up to 10 MB), served from /media/."""

from __future__ import annotations

import hashlib
import secrets
from pathlib import PurePosixPath

from functions.dal.aws import MEDIA_CACHE_CONTROL
from functions.dal.protocol import MediaStore, StoredMedia
from functions.models.api import MediaUploadRequest, MediaUploadTicket
from functions.models.article import MediaInfo
from functions.models.errors import InvalidRequest, MediaTooLarge, UnsupportedMediaType
from functions.text import clean_text, slugify

MEDIA_URL_PREFIX = "/media/"
MEDIA_KEY_PREFIX = "media/"
# A synchronous Lambda payload is capped at 6 MB and base64 adds a third.
MAX_DIRECT_UPLOAD_BYTES = 4 * 1024 * 1024
PRESIGNED_UPLOAD_SECONDS = 900
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


def _file_name(filename: str, content_type: str) -> str:
    return f"{slugify(PurePosixPath(filename).stem) or 'image'}.{ALLOWED_TYPES[content_type]}"


def upload_media(
    store: MediaStore,
    *,
    filename: str | None,
    content_type: str,
    body: bytes,
    caption: str = "",
    credit: str = "",
    alt: str = "",
) -> StoredMedia:
    content_type = content_type.split(";")[0].strip().lower()
    if content_type not in ALLOWED_TYPES:
        raise UnsupportedMediaType(
            f"send image bytes as one of {', '.join(ALLOWED_TYPES)}, or JSON (application/json) for a "
            f"presigned upload; got {content_type or 'no Content-Type'}"
        )
    if not filename:
        raise InvalidRequest("a direct upload names its file: ?filename=photo.jpg", field="filename")
    if not body:
        raise InvalidRequest("the upload is empty", field="body")
    if len(body) > MAX_DIRECT_UPLOAD_BYTES:
        raise MediaTooLarge(
            f"direct uploads are limited to {MAX_DIRECT_UPLOAD_BYTES} bytes; ask for a presigned upload "
            "by POSTing JSON {filename, content_type, length} instead"
        )
    if not body.startswith(_SIGNATURES[content_type]):
        raise InvalidRequest(f"the file's content is not {content_type}", field="body")
    digest = hashlib.sha256(body).hexdigest()[:16]
    # Content-addressed: the same bytes always land on the same key, so retries are harmless.
    key = f"{MEDIA_KEY_PREFIX}{digest}/{_file_name(filename, content_type)}"
    stored = store.put_media(key, body, content_type)
    store.put_media_info(
        MediaInfo(key=key, caption=clean_text(caption), credit=clean_text(credit), alt=clean_text(alt))
    )
    return stored


def plan_upload(store: MediaStore, request: MediaUploadRequest) -> MediaUploadTicket:
    """A presigned PUT bound to the declared type and exact size; the metadata is kept meanwhile."""
    key = f"{MEDIA_KEY_PREFIX}{secrets.token_hex(8)}/{_file_name(request.filename, request.content_type)}"
    store.put_media_info(
        MediaInfo(
            key=key,
            caption=clean_text(request.caption),
            credit=clean_text(request.credit),
            alt=clean_text(request.alt),
        )
    )
    upload_url = store.presign_media_upload(
        key, request.content_type, request.length, PRESIGNED_UPLOAD_SECONDS
    )
    return MediaUploadTicket(
        url=media_url(key),
        upload_url=upload_url,
        upload_headers={
            "Content-Type": request.content_type,
            "Content-Length": str(request.length),
            "Cache-Control": MEDIA_CACHE_CONTROL,
        },
        expires_in=PRESIGNED_UPLOAD_SECONDS,
    )
