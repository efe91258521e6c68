"""The DynamoDB table's shape, as template.yaml declares it (tests keep the two in step)."""

from __future__ import annotations

PARTITION_KEY = "pk"
SORT_KEY = "sk"

# Published articles, newest first: gsi1pk = "TIMELINE#<status>", gsi1sk = "<published_at UTC>#<id>".
TIMELINE_INDEX = "timeline"
TIMELINE_PARTITION_KEY = "gsi1pk"
TIMELINE_SORT_KEY = "gsi1sk"

# index name -> (partition key attribute, sort key attribute); every attribute is a string.
INDEXES: dict[str, tuple[str, str]] = {
    TIMELINE_INDEX: (TIMELINE_PARTITION_KEY, TIMELINE_SORT_KEY),
}
