"""The static files every page links to (stylesheet, icon), named by a hash of their content.

A new stylesheet gets a new name, so it can be cached for a year while pages stay short-cached:
a page always names the stylesheet it was rendered with, and no reader mixes old and new.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from functions.models.paths import page_key
from functions.models.site import Output

ASSETS_DIR = Path(__file__).resolve().parents[2] / "templates" / "assets"
ASSET_CACHE = "public, max-age=31536000, immutable"
_CONTENT_TYPES = {".css": "text/css; charset=utf-8", ".svg": "image/svg+xml"}


@dataclass(frozen=True, slots=True)
class Asset:
    path: str  # site-relative, e.g. /assets/site.3f2a9c1b7d04.css
    body: bytes
    content_type: str


@cache
def _assets() -> dict[str, Asset]:
    assets: dict[str, Asset] = {}
    for file in sorted(ASSETS_DIR.iterdir()):
        if file.suffix not in _CONTENT_TYPES:
            continue
        body = file.read_bytes()
        digest = hashlib.sha256(body).hexdigest()[:12]
        assets[file.name] = Asset(
            f"/assets/{file.stem}.{digest}{file.suffix}", body, _CONTENT_TYPES[file.suffix]
        )
    return assets


def asset_path(name: str) -> str:
    """The hashed path of templates/assets/<name>; a KeyError for a file that is not there."""
    return _assets()[name].path


def asset_outputs() -> list[Output]:
    """Every asset as an object for the site bucket, cached for a year (its name changes with it)."""
    return [
        Output(page_key(asset.path), asset.body, asset.content_type, ASSET_CACHE)
        for asset in _assets().values()
    ]
