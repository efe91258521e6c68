"""Settings every test process needs before any handler module is imported."""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
SEED_DIR = REPO_ROOT / "examples" / "seed"

# Handlers read their settings at import (as at a Lambda cold start); integration tests
# replace these with the names of the resources they provision.
for name, value in {
    "CONTENT_BUCKET": "unit-content",
    "SITE_BUCKET": "unit-site",
    "TABLE_NAME": "unit-table",
    "SITE_URL": "https://news.example.vn",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_SERVICE_NAME": "presswire",
    "POWERTOOLS_METRICS_NAMESPACE": "Presswire",
}.items():
    os.environ.setdefault(name, value)
# Current botocore sends DynamoDB Streams calls to an account-id endpoint that moto's
# in-process mock does not recognise.
os.environ["AWS_ACCOUNT_ID_ENDPOINT_MODE"] = "disabled"
os.environ.pop("AWS_ENDPOINT_URL", None)
