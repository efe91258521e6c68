"""The DynamoDB table's shape, as template.yaml declares it (tests keep the two in step).

One table. Items by partition key:
- ARTICLE#<id>: sk ARTICLE (the article's metadata), REV#<n, zero-padded> (one per revision),
  LIST#<listing> (one per listing the article belongs to: home, its section, author, each tag).
- SLUG#<slug> / SLUG: the slug reservation.
- APIKEY#<sha256> / APIKEY: an API key (never the secret).
- PREVIEW#<token> / PREVIEW: a draft preview link, expiring through TTL.
- MEDIA#<key> / MEDIA: an uploaded image's caption, credit and alt text.
"""

from __future__ import annotations

PARTITION_KEY = "pk"
SORT_KEY = "sk"

# Every listing is one Query on this index: lpk = "<listing>#<status>" (e.g. "home#published",
# "section#thoi-su#published", "tag#o-mon#published", "author#na-ra#draft", "keys"),
# lsk = "<published_at UTC>#<article id>" so a Query with ScanIndexForward=False is newest first.
LISTING_INDEX = "listings"
LISTING_PARTITION_KEY = "lpk"
LISTING_SORT_KEY = "lsk"

# index name -> (partition key attribute, sort key attribute); every attribute is a string.
INDEXES: dict[str, tuple[str, str]] = {
    LISTING_INDEX: (LISTING_PARTITION_KEY, LISTING_SORT_KEY),
}

TTL_ATTRIBUTE = "expires_at"

# Not a page: every published article in publication order (lsk = zero-padded sequence), which
# pages the Atom feed's archive.
ARCHIVE_LISTING = "archive"
