"""Schemathesis against the served OpenAPI document, over HTTP, on the real local stack.

Every generated request (valid and invalid data, with an editor key and with an admin key created
with the CLI) must get an answer that is not a 5xx and that the document describes: a documented
status code, its content type and its body schema. The default run makes a few hundred requests;
the run marked slow makes thousands: `.venv/bin/pytest -m slow tests/e2e/test_api_fuzz.py`.

Random ids never name anything, so some generated ids are swapped for ones that exist (a
published article, a draft with a preview link, a partner, a throwaway key) and some If-Match
values for `*`: edits, previews, deliveries and revocations run past their 404, 412 and 428.
"""

from __future__ import annotations

import json
import urllib.request
import zlib
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.e2e.conftest import ServedStack, start_stack
from tests.e2e.test_local_stack import cli
from tests.webhook_receiver import Receiver, webhook_receiver

pytestmark = pytest.mark.e2e

# At most, per operation, key and kind of data (valid, invalid): 22 operations x 2 keys x 2 kinds.
DEFAULT_EXAMPLES = 4
SLOW_EXAMPLES = 40
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
FUZZ_SETTINGS: dict[str, Any] = {
    "deadline": None,  # a request to the local stack takes what it takes; no timed assertions
    "database": None,  # nothing written into the work tree
    "suppress_health_check": list(HealthCheck),
}


@dataclass
class Target:
    stack: ServedStack
    keys: dict[str, str]
    receiver: Receiver
    # Path parameter -> values that name something that exists.
    known: dict[str, list[str]] = field(default_factory=dict)
    answers: defaultdict[str, Counter[int]] = field(default_factory=lambda: defaultdict(Counter))


def _post(stack: ServedStack, key: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
    request = urllib.request.Request(
        stack.api + path,
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        answer: dict[str, Any] = json.loads(response.read())
        return answer


def _known_values(stack: ServedStack, admin: str, receiver: Receiver) -> dict[str, list[str]]:
    article = {"title": "Tin thử", "body": "<p>Nội dung.</p>", "author": "Na Ra", "section": "Thời sự"}
    published = _post(stack, admin, "/articles", article)
    draft = _post(stack, admin, "/articles", {**article, "title": "Bản nháp", "status": "draft"})
    # A draft no generated id points at, so nothing publishes it and its preview link keeps working.
    previewed = _post(stack, admin, "/articles", {**article, "title": "Xem trước", "status": "draft"})
    preview = _post(stack, admin, f"/articles/{previewed['id']}/preview", {})
    partner = _post(stack, admin, "/partners", {"url": receiver.url + "/known"})
    throwaway = _post(stack, admin, "/keys", {"role": "reporter", "name": "to be revoked"})
    return {
        "article_id": [published["id"], draft["id"]],
        "token": [preview["url"].rsplit("/", 1)[-1]],
        "partner_id": [partner["id"]],
        "key_id": [throwaway["key_id"]],
    }


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    # Webhook subscriptions the fuzzer creates are pointed here: no request leaves this machine.
    with webhook_receiver() as receiver:
        stack = start_stack(tmp_path_factory.mktemp("fuzz") / "state")
        try:
            created = cli(
                "keys", "create", "--role", "admin", "--name", "fuzz", "--state-dir", str(stack.state_dir)
            )
            assert created.returncode == 0, created.stderr
            admin = created.stdout.strip()
            fuzzed = Target(stack, {"editor": stack.key, "admin": admin}, receiver)
            fuzzed.known = _known_values(stack, admin, receiver)
            yield fuzzed
        finally:
            code = stack.stop()
        for operation, statuses in sorted(fuzzed.answers.items()):
            print(f"{operation}: {dict(sorted(statuses.items()))}")
        print(f"fuzz requests in all: {sum(sum(statuses.values()) for statuses in fuzzed.answers.values())}")
        output = stack.output
        unhandled = [n for n, line in enumerate(output) if "unhandled error" in line or "Traceback" in line]
        assert code == 0 and not unhandled, "".join(output[unhandled[0] : unhandled[0] + 60])


def _bucket(value: object, buckets: int) -> int:
    """A deterministic choice from the generated value, so Hypothesis can replay and shrink."""
    return zlib.crc32(repr(value).encode()) % buckets


def steer(case: schemathesis.Case, target: Target) -> None:
    """Point some generated ids at things that exist and some If-Match values at `*`; point
    every webhook subscription at the local receiver."""
    parameters = case.path_parameters or {}
    for name, values in target.known.items():
        if name in parameters:
            pick = _bucket(parameters[name], len(values) + 1)
            if pick < len(values):  # the last bucket keeps the generated value
                parameters[name] = values[pick]
    headers = case.headers or {}
    if "if-match" in headers and _bucket(headers["if-match"], 2) == 0:
        headers["if-match"] = "*"
    is_subscription = case.operation.path == "/partners" and case.method == "POST"
    if is_subscription and isinstance(case.body, dict) and "url" in case.body:
        case.body["url"] = target.receiver.url + "/fuzz"


def call_and_check(case: schemathesis.Case, target: Target, role: str) -> None:
    steer(case, target)
    response = case.call(
        base_url=target.stack.api, headers={"Authorization": f"Bearer {target.keys[role]}"}, timeout=60
    )
    target.answers[f"{case.method} {case.operation.path}"][response.status_code] += 1
    case.validate_response(response, checks=CHECKS)


def fuzz(target: Target, role: str, examples: int) -> None:
    """Each operation of the served document, with valid and with invalid data, `examples` cases
    of each at most. Every operation runs even when an earlier one failed; all failures are told."""
    schema = schemathesis.openapi.from_url(target.stack.api + "/openapi.json")
    failures: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()
        for mode in GenerationMode:

            @settings(max_examples=examples, **FUZZ_SETTINGS)
            @given(case=operation.as_strategy(generation_mode=mode))
            def run(case: schemathesis.Case) -> None:
                call_and_check(case, target, role)

            try:
                run()
            except Unsatisfiable:
                continue  # nothing in this operation can be made invalid (no parameters, no body)
            except (Exception, BaseExceptionGroup) as error:  # failed checks, shrunk to the smallest request
                failures.append(f"{operation.label} ({mode.value} data, {role} key):\n{error}")
    assert not failures, "\n\n".join(failures)


@pytest.mark.parametrize("role", ["editor", "admin"])
def test_every_generated_request_gets_a_documented_answer_and_never_a_5xx(target: Target, role: str) -> None:
    fuzz(target, role, DEFAULT_EXAMPLES)


@pytest.mark.slow
@pytest.mark.parametrize("role", ["editor", "admin"])
def test_thousands_of_generated_requests_get_documented_answers_and_never_a_5xx(
    target: Target, role: str
) -> None:
    fuzz(target, role, SLOW_EXAMPLES)
