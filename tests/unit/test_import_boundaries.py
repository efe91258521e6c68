"""Each handler imports only what its own path needs (issue 6, cold starts).

Every check runs in a fresh interpreter: what a Lambda cold start imports is what one `import`
of the handler module leaves in sys.modules, and this test process has imported everything.
No timings here: bench/import_time.py measures them (docs/benchmarks.md).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping

import pytest

from tests.conftest import REPO_ROOT

RENDERING = ("jinja2", "feedgen", "lxml", "functions.render", "functions.syndication.ninjs")
OPENAPI_MODELS = "aws_lambda_powertools.event_handler.openapi.models"
REQUEST_VALIDATION = (
    "aws_lambda_powertools.event_handler.middlewares.openapi_validation",
    OPENAPI_MODELS,
    "functions.models.api",
)
SWAGGER_UI = "aws_lambda_powertools.event_handler.openapi.swagger_ui"
BATCH = "aws_lambda_powertools.utilities.batch"
XRAY = "aws_xray_sdk.core"

# A Lambda environment without tracing (POWERTOOLS_TRACE_DISABLED) and one with it (what
# `Tracing: Active` gives: Powertools enables its Tracer inside Lambda).
TRACING_OFF: dict[str, str] = {"POWERTOOLS_TRACE_DISABLED": "true", "LAMBDA_TASK_ROOT": str(REPO_ROOT)}
TRACING_ON: dict[str, str] = {"POWERTOOLS_TRACE_DISABLED": "false", "LAMBDA_TASK_ROOT": str(REPO_ROOT)}

_REPORT = """
import json, sys
{code}
print(json.dumps(sorted(sys.modules)))
"""


def loaded_after(code: str, environment: Mapping[str, str] = TRACING_OFF) -> set[str]:
    """The modules loaded once `code` has run in a fresh interpreter."""
    env = {**os.environ, **environment}
    completed = subprocess.run(
        [sys.executable, "-c", _REPORT.format(code=code)],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    return set(json.loads(completed.stdout.strip().splitlines()[-1]))


def present(modules: set[str], *packages: str) -> list[str]:
    """Those of `packages` that are in `modules`, themselves or any of their submodules."""
    return [
        package
        for package in packages
        if package in modules or any(name.startswith(package + ".") for name in modules)
    ]


def test_the_api_imports_no_rendering_no_openapi_models_no_batch_and_no_xray() -> None:
    modules = loaded_after("import functions.handlers.api")
    assert present(modules, *RENDERING, OPENAPI_MODELS, SWAGGER_UI, BATCH, XRAY) == []
    # Request validation is the API's own path: it stays at import (init runs with a CPU boost).
    assert present(modules, "aws_lambda_powertools.event_handler.middlewares.openapi_validation")


def test_the_publisher_imports_no_request_validation_and_no_xray() -> None:
    modules = loaded_after("import functions.handlers.publisher")
    assert present(modules, "aws_lambda_powertools.event_handler", *REQUEST_VALIDATION, XRAY) == []
    # Rendering is the publisher's own path.
    assert present(modules, "jinja2", "feedgen", "functions.render")


def test_the_scheduler_imports_neither_rendering_nor_the_api_nor_the_webhook_sender() -> None:
    modules = loaded_after("import functions.handlers.scheduler")
    unwanted = (*RENDERING, *REQUEST_VALIDATION, "functions.syndication", "functions.logic.content", BATCH)
    assert present(modules, "aws_lambda_powertools.event_handler", *unwanted, XRAY) == []


@pytest.mark.parametrize("handler", ["notifier", "reconciler"])
def test_the_background_functions_import_no_api_machinery(handler: str) -> None:
    modules = loaded_after(f"import functions.handlers.{handler}")
    assert present(modules, "aws_lambda_powertools.event_handler", *REQUEST_VALIDATION, XRAY) == []


def test_the_api_loads_openapi_models_only_for_its_openapi_document() -> None:
    code = """
from infra.local.gateway import http_api_event
from infra.local.lambda_runtime import LocalContext
from functions.handlers.api import lambda_handler

def call(path):
    event = http_api_event("GET", path, "", {}, b"", "192.0.2.1")
    return lambda_handler(event, LocalContext(function_name="ApiFunction"))["statusCode"]

assert call("/api/keys") == 401, "a route that needs a key, without one"
assert "aws_lambda_powertools.event_handler.openapi.models" not in sys.modules
assert call("/api/openapi.json") == 200
assert "aws_lambda_powertools.event_handler.openapi.models" in sys.modules
"""
    modules = loaded_after(code)
    assert present(modules, SWAGGER_UI, XRAY) == []


def test_the_api_loads_swagger_ui_only_for_its_docs_page_which_inlines_it() -> None:
    code = """
from infra.local.gateway import http_api_event
from infra.local.lambda_runtime import LocalContext
from functions.handlers.api import lambda_handler

def call(path):
    event = http_api_event("GET", path, "", {}, b"", "192.0.2.1")
    return lambda_handler(event, LocalContext(function_name="ApiFunction"))

assert call("/api/openapi.json")["statusCode"] == 200
assert "aws_lambda_powertools.event_handler.openapi.swagger_ui" not in sys.modules
page = call("/api/docs")
assert page["statusCode"] == 200, page["statusCode"]
assert page["headers"]["Content-Type"].startswith("text/html"), page["headers"]
body = page["body"]
assert "SwaggerUIBundle" in body and '"url": "/api"' in body, "the UI and the document, served at /api"
assert "https://" not in body.split("<script>")[0], "no stylesheet or script fetched from elsewhere"
"""
    modules = loaded_after(code)
    assert present(modules, SWAGGER_UI)


def test_tracing_in_lambda_still_loads_xray_and_traces_boto3_calls() -> None:
    code = """
import botocore.client
from functions.observability import tracer
assert not tracer.disabled
assert hasattr(botocore.client.BaseClient._make_api_call, "__wrapped__"), "botocore not patched"
"""
    modules = loaded_after(code, TRACING_ON)
    assert present(modules, XRAY)
