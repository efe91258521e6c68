"""Who may call what: every route of the API (read from the app itself, so a route added without an
access rule fails here) against every kind of caller, plus the keys' own guarantees: stored only
as hashes, revoked at once, compared in constant time, and never written to a log.

One moto world serves the whole module: the matrix runs once, in a fixture, while every log line
is captured; the tests then read its outcomes."""

from __future__ import annotations

import hmac
import io
import itertools
import json
import logging
import secrets
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest

from functions.clock import utc_now
from functions.dal.factory import get_storage
from functions.handlers.api import app
from functions.logic.auth import KEY_PREFIX, hash_key, issue_key
from tests.integration.conftest import ApiResponse, Harness, running_harness

# -- the rules ---------------------------------------------------------------------------------

# Written out here rather than imported from functions/logic/permissions.py: the test states the
# policy, so widening a role tuple there is caught here.
NEWSROOM = frozenset({"reporter", "editor", "admin"})
EDITORS = frozenset({"editor", "admin"})
ADMINS = frozenset({"admin"})
EVERY_ROLE = NEWSROOM | {"partner"}

ACCESS: dict[str, frozenset[str]] = {
    "POST /articles": NEWSROOM,  # reporters file drafts only
    "GET /articles": EVERY_ROLE,  # partners: published articles only
    "GET /articles/<article_id>": EVERY_ROLE,
    "PUT /articles/<article_id>": NEWSROOM,  # reporters: their own unpublished articles only
    "PATCH /articles/<article_id>": NEWSROOM,
    "GET /articles/<article_id>/revisions": NEWSROOM,  # partners see the current version only
    "POST /articles/<article_id>/publish": EDITORS,
    "POST /articles/<article_id>/retract": EDITORS,
    "POST /articles/<article_id>/reinstate": EDITORS,
    "POST /articles/<article_id>/preview": EDITORS,
    "POST /media": NEWSROOM,
    "POST /keys": ADMINS,
    "GET /keys": ADMINS,
    "DELETE /keys/<key_id>": ADMINS,
    "GET /syndication/articles": EVERY_ROLE,
    "GET /syndication/articles/<article_id>": EVERY_ROLE,
    "POST /partners": ADMINS,
    "GET /partners": ADMINS,
    "GET /partners/<partner_id>/deliveries": ADMINS,
    "DELETE /partners/<partner_id>": ADMINS,
}
# Routes anyone may call, with or without a key: the API's description (as JSON and as Swagger UI),
# and a draft's preview, which its unguessable token authorizes.
PUBLIC = frozenset({"GET /openapi.json", "GET /docs", "GET /preview/<token>"})
# Public routes for people, left out of the OpenAPI document they display.
UNDOCUMENTED = frozenset({"GET /docs"})

ROLES = ("reporter", "editor", "admin", "partner")
KEYLESS = ("no-key", "malformed", "unknown-key", "revoked-key")
CALLERS = (*KEYLESS, *ROLES)
ROUTES = sorted(f"{route.method} {route.path}" for route in app._static_routes + app._dynamic_routes)  # type: ignore[attr-defined]
READ_METHODS = {"GET", "HEAD"}
PROBLEM = "urn:presswire:problem:"

# -- the world the requests run in -------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    id: str
    etag: str


@dataclass
class Request:
    path: str
    body: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class World:
    """One moto world: a key per role, articles in each state, a preview, a spare key, a partner."""

    harness: Harness
    keys: dict[str, str] = field(default_factory=dict)
    # Every API key secret seen in the run (issued, or merely presented), and partners' signing secrets.
    key_secrets: list[str] = field(default_factory=list)
    issued: list[str] = field(default_factory=list)
    partner_secrets: list[str] = field(default_factory=list)
    _numbers: Iterator[int] = field(default_factory=itertools.count)

    def call(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        *,
        as_: str = "admin",
        **headers: str,
    ) -> ApiResponse:
        response = self.harness.call(
            method, path, body, key=None, headers={**self.authorization(as_), **headers}
        )
        self._remember_secrets(response)
        return response

    def authorization(self, caller: str) -> dict[str, str]:
        if caller == "no-key":
            return {}
        if caller == "malformed":
            # A real admin key without its scheme: the commonest client mistake, and the one most
            # likely to end up echoed somewhere.
            return {"authorization": self.keys["admin"]}
        if caller == "unknown-key":
            never_issued = KEY_PREFIX + secrets.token_urlsafe(32)
            self.key_secrets.append(never_issued)
            return {"authorization": f"Bearer {never_issued}"}
        return {"authorization": f"Bearer {self.keys[caller]}"}

    def _remember_secrets(self, response: ApiResponse) -> None:
        if not response.body.startswith(b"{"):
            return
        answer = response.json()
        if isinstance(answer.get("key"), str):
            self.key_secrets.append(answer["key"])
            self.issued.append(answer["key"])
        if isinstance(answer.get("secret"), str):
            self.partner_secrets.append(answer["secret"])

    def issue(self, role: str) -> tuple[str, str]:
        """A new key through the API: (secret, key_id)."""
        response = self.call("POST", "/keys", {"role": role, "name": f"{role} {next(self._numbers)}"})
        assert response.status == 201, response.body
        return response.json()["key"], response.json()["key_id"]

    def article_body(self) -> dict[str, Any]:
        return {
            "title": f"Kiểm tra quyền truy cập số {next(self._numbers)}",
            "body": "<p>Nội dung.</p>",
            "author": "Na Ra",
            "section": "Thời sự",
        }

    def article(self, *, by: str = "reporter", status: str = "draft") -> Target:
        response = self.call("POST", "/articles", {**self.article_body(), "status": status}, as_=by)
        assert response.status == 201, response.body
        return Target(response.json()["id"], response.headers["ETag"])

    def retracted(self) -> Target:
        published = self.article(by="editor", status="published")
        response = self.call("POST", f"/articles/{published.id}/retract", {"reason": "Sai sự thật"})
        assert response.status == 200, response.body
        return Target(published.id, response.headers["ETag"])

    def partner(self) -> str:
        response = self.call("POST", "/partners", {"url": "https://partner.example/hooks"})
        assert response.status == 201, response.body
        return str(response.json()["id"])


@dataclass
class Shared:
    """Targets the refused callers aim at; they must stay as they are (a refusal changes nothing)."""

    draft: Target
    published: Target
    retracted: Target
    token: str
    spare_key_id: str
    partner_id: str


# -- what each route is sent: a well-formed request, so that only the key decides -----------------

Builder = Callable[[World, Shared, bool], Request]
BUILDERS: dict[str, Builder] = {}


def builds(route: str) -> Callable[[Builder], Builder]:
    def register(builder: Builder) -> Builder:
        BUILDERS[route] = builder
        return builder

    return register


# `fresh` is True for a caller the rule admits: a call that changes state gets its own target,
# so that the shared ones stay valid for every other caller.


@builds("POST /articles")
def _create(world: World, shared: Shared, fresh: bool) -> Request:
    return Request(
        "/articles", {**world.article_body(), "status": "draft"}, {"idempotency-key": str(uuid.uuid4())}
    )


@builds("GET /articles")
def _list(world: World, shared: Shared, fresh: bool) -> Request:
    return Request("/articles")


@builds("GET /articles/<article_id>")
def _read(world: World, shared: Shared, fresh: bool) -> Request:
    return Request(f"/articles/{shared.published.id}")


@builds("PUT /articles/<article_id>")
def _replace(world: World, shared: Shared, fresh: bool) -> Request:
    target = world.article() if fresh else shared.draft
    return Request(f"/articles/{target.id}", world.article_body(), {"if-match": target.etag})


@builds("PATCH /articles/<article_id>")
def _patch(world: World, shared: Shared, fresh: bool) -> Request:
    target = world.article() if fresh else shared.draft
    return Request(f"/articles/{target.id}", {"summary": "Tóm tắt."}, {"if-match": target.etag})


@builds("GET /articles/<article_id>/revisions")
def _revisions(world: World, shared: Shared, fresh: bool) -> Request:
    return Request(f"/articles/{shared.published.id}/revisions")


@builds("POST /articles/<article_id>/publish")
def _publish(world: World, shared: Shared, fresh: bool) -> Request:
    target = world.article() if fresh else shared.draft
    return Request(f"/articles/{target.id}/publish", {})


@builds("POST /articles/<article_id>/retract")
def _retract(world: World, shared: Shared, fresh: bool) -> Request:
    target = world.article(by="editor", status="published") if fresh else shared.published
    return Request(f"/articles/{target.id}/retract", {"reason": "Sai sự thật"})


@builds("POST /articles/<article_id>/reinstate")
def _reinstate(world: World, shared: Shared, fresh: bool) -> Request:
    target = world.retracted() if fresh else shared.retracted
    return Request(f"/articles/{target.id}/reinstate")


@builds("POST /articles/<article_id>/preview")
def _open_preview(world: World, shared: Shared, fresh: bool) -> Request:
    return Request(f"/articles/{shared.draft.id}/preview")


@builds("GET /preview/<token>")
def _view_preview(world: World, shared: Shared, fresh: bool) -> Request:
    return Request(f"/preview/{shared.token}")


@builds("POST /media")
def _media(world: World, shared: Shared, fresh: bool) -> Request:
    return Request("/media", {"filename": "anh.jpg", "content_type": "image/jpeg", "length": 1000})


@builds("POST /keys")
def _create_key(world: World, shared: Shared, fresh: bool) -> Request:
    return Request("/keys", {"role": "reporter", "name": f"Phóng viên {next(world._numbers)}"})


@builds("GET /keys")
def _list_keys(world: World, shared: Shared, fresh: bool) -> Request:
    return Request("/keys")


@builds("DELETE /keys/<key_id>")
def _revoke_key(world: World, shared: Shared, fresh: bool) -> Request:
    key_id = world.issue("reporter")[1] if fresh else shared.spare_key_id
    return Request(f"/keys/{key_id}")


@builds("GET /syndication/articles")
def _change_feed(world: World, shared: Shared, fresh: bool) -> Request:
    return Request("/syndication/articles")


@builds("GET /syndication/articles/<article_id>")
def _syndicated(world: World, shared: Shared, fresh: bool) -> Request:
    return Request(f"/syndication/articles/{shared.published.id}")


@builds("POST /partners")
def _subscribe(world: World, shared: Shared, fresh: bool) -> Request:
    return Request("/partners", {"url": "https://partner.example/hooks"})


@builds("GET /partners")
def _partners(world: World, shared: Shared, fresh: bool) -> Request:
    return Request("/partners")


@builds("GET /partners/<partner_id>/deliveries")
def _deliveries(world: World, shared: Shared, fresh: bool) -> Request:
    return Request(f"/partners/{shared.partner_id}/deliveries")


@builds("DELETE /partners/<partner_id>")
def _unsubscribe(world: World, shared: Shared, fresh: bool) -> Request:
    return Request(f"/partners/{world.partner() if fresh else shared.partner_id}")


@builds("GET /openapi.json")
def _openapi(world: World, shared: Shared, fresh: bool) -> Request:
    return Request("/openapi.json")


@builds("GET /docs")
def _docs(world: World, shared: Shared, fresh: bool) -> Request:
    return Request("/docs")


# -- fixtures ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def log_output() -> Iterator[io.StringIO]:
    """Every log line of the module. The Powertools logger's handler holds the sys.stdout of the
    moment it was created (at import, before any capsys), so its stream is pointed here; the root
    logger gets a handler too, for the libraries' own loggers. DEBUG throughout, to catch the most."""
    from functions.observability import logger

    buffer = io.StringIO()
    service = logging.getLogger(logger.name)
    swapped = [
        (handler, handler.setStream(buffer))
        for handler in service.handlers
        if isinstance(handler, logging.StreamHandler)
    ]
    root_handler = logging.StreamHandler(buffer)
    root_handler.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
    logging.getLogger().addHandler(root_handler)
    levels = {name: logging.getLogger(name).level for name in (logger.name, "aws_lambda_powertools")}
    for name in levels:
        logging.getLogger(name).setLevel(logging.DEBUG)
    yield buffer
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)
    logging.getLogger().removeHandler(root_handler)
    for handler, stream in swapped:
        handler.setStream(stream)


@pytest.fixture(scope="module")
def world(log_output: io.StringIO) -> Iterator[World]:
    """tests/integration/conftest.py's harness, once for the module, with a key per caller."""
    with pytest.MonkeyPatch.context() as patch, running_harness(patch, patched_moto=True) as harness:
        world = World(harness)
        world.key_secrets.append(harness.key)
        admin, _ = issue_key(get_storage(), role="admin", name="first admin", now=utc_now())
        world.keys["admin"] = admin
        world.key_secrets.append(admin)
        world.issued.append(admin)
        for role in ("reporter", "editor", "partner"):
            world.keys[role] = world.issue(role)[0]
        revoked, revoked_id = world.issue("admin")
        assert world.call("DELETE", f"/keys/{revoked_id}").status == 200
        world.keys["revoked-key"] = revoked
        yield world


@pytest.fixture(scope="module")
def shared(world: World) -> Shared:
    draft = world.article()
    preview = world.call("POST", f"/articles/{draft.id}/preview", as_="editor")
    assert preview.status == 201, preview.body
    return Shared(
        draft=draft,
        published=world.article(by="editor", status="published"),
        retracted=world.retracted(),
        token=preview.json()["url"].rsplit("/", 1)[1],
        spare_key_id=world.issue("reporter")[1],
        partner_id=world.partner(),
    )


@pytest.fixture(scope="module")
def matrix(world: World, shared: Shared) -> dict[tuple[str, str], ApiResponse]:
    """Every route with a rule, called once by every caller."""
    outcomes: dict[tuple[str, str], ApiResponse] = {}
    for route in ROUTES:
        if route not in BUILDERS:
            continue
        method = route.split(" ", 1)[0]
        for caller in CALLERS:
            admitted = route in PUBLIC or caller in ACCESS.get(route, ())
            request = BUILDERS[route](world, shared, admitted)
            outcomes[route, caller] = world.call(
                method, request.path, request.body, as_=caller, **request.headers
            )
    return outcomes


def _shown(response: ApiResponse) -> str:
    return f"{response.status} {response.body[:300]!r}"


# -- the route by route matrix -----------------------------------------------------------------


def test_every_route_of_the_app_has_an_access_rule_and_a_request_and_no_rule_is_stale() -> None:
    assert set(ROUTES) == set(ACCESS) | PUBLIC, "each route needs an entry in ACCESS or PUBLIC"
    assert not set(ACCESS) & PUBLIC
    assert set(BUILDERS) == set(ROUTES), "each route needs a @builds request"


def test_the_routes_that_take_no_key_are_exactly_the_public_ones_in_the_app_and_its_openapi_document(
    matrix: dict[tuple[str, str], ApiResponse],
) -> None:
    keyless_in_app = {
        f"{route.method} {route.path}"
        for route in app._static_routes + app._dynamic_routes  # type: ignore[attr-defined]
        if not route.security
    }
    document = matrix["GET /openapi.json", "no-key"].json()
    keyless_in_document = {
        f"{method.upper()} {path.removeprefix('/api')}"
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
        if not operation.get("security")
    }
    as_routes = {route.replace("{", "<").replace("}", ">") for route in keyless_in_document}

    assert keyless_in_app == PUBLIC
    assert as_routes == PUBLIC - UNDOCUMENTED


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("route", ROUTES)
def test_each_route_answers_each_caller_as_its_access_rule_says(
    matrix: dict[tuple[str, str], ApiResponse], route: str, caller: str
) -> None:
    assert route in PUBLIC or route in ACCESS, f"{route} has no access rule: add it to ACCESS or PUBLIC"
    response = matrix[route, caller]

    if route in PUBLIC:
        assert response.status == 200, _shown(response)
    elif caller in KEYLESS:
        assert response.status == 401, _shown(response)
        assert response.json()["type"] == PROBLEM + "unauthorized"
    elif caller in ACCESS[route]:
        assert response.status not in (401, 403) and response.status < 500, _shown(response)
    else:
        assert response.status == 403, _shown(response)
        assert response.json()["type"] == PROBLEM + "forbidden"


@pytest.mark.parametrize("caller", KEYLESS)
def test_a_caller_without_a_valid_key_gets_401_before_its_request_is_validated(
    world: World, caller: str
) -> None:
    writing = [route for route in ROUTES if route.split(" ", 1)[0] in {"POST", "PUT", "PATCH"}]
    writing = [route for route in writing if route not in PUBLIC]
    statuses = {}
    for route in writing:
        method, path = route.split(" ", 1)
        path = path.replace("<article_id>", "not-an-id!").replace("<", "").replace(">", "")
        response = world.harness.call(
            method, path, b"{not json", key=None, headers=world.authorization(caller)
        )
        statuses[route] = response.status

    assert writing
    assert statuses == dict.fromkeys(writing, 401)


def test_no_route_that_writes_accepts_a_partner_key(matrix: dict[tuple[str, str], ApiResponse]) -> None:
    writing = [
        route for route in ROUTES if route.split(" ", 1)[0] not in READ_METHODS and route not in PUBLIC
    ]

    assert writing
    assert {route: matrix[route, "partner"].status for route in writing} == dict.fromkeys(writing, 403)


def test_a_reporter_may_edit_only_their_own_articles_and_only_before_they_are_public(world: World) -> None:
    others = world.article(by="editor", status="draft")
    published = world.article(by="editor", status="published")
    own = world.article()
    own_published = world.call("POST", f"/articles/{own.id}/publish", {}, as_="editor")

    for target in (others, published, Target(own.id, own_published.headers["ETag"])):
        response = world.call(
            "PATCH",
            f"/articles/{target.id}",
            {"summary": "Sửa."},
            as_="reporter",
            **{"if-match": target.etag},
        )
        assert response.status == 403, _shown(response)


# -- the keys themselves ---------------------------------------------------------------------


def test_a_revoked_key_is_refused_on_the_very_next_request(world: World) -> None:
    secret, key_id = world.issue("editor")
    bearer = {"authorization": f"Bearer {secret}"}
    assert world.harness.call("GET", "/articles", key=None, headers=bearer).status == 200

    revoked = world.call("DELETE", f"/keys/{key_id}")
    after = world.harness.call("GET", "/articles", key=None, headers=bearer)

    assert revoked.status == 200 and revoked.json()["revoked"] is True
    assert after.status == 401, _shown(after)


def test_the_key_hash_is_compared_with_hmac_compare_digest(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    from functions.logic import auth

    compared: list[tuple[Any, Any]] = []
    real = hmac.compare_digest

    def spy(a: Any, b: Any) -> bool:
        compared.append((a, b))
        return real(a, b)

    monkeypatch.setattr(auth.hmac, "compare_digest", spy)
    response = world.call("GET", "/articles", as_="editor")

    expected = hash_key(world.keys["editor"])
    assert response.status == 200
    assert (expected, expected) in compared


def _private_parts(secret: str) -> list[str]:
    """The secret, and pieces of what follows its key id (the key id itself is public: GET /keys)."""
    tail = secret[len(KEY_PREFIX) + 8 :]
    return [secret, tail, tail[:12], tail[-12:]]


def test_the_table_holds_key_hashes_and_never_a_key_secret(
    world: World, matrix: dict[tuple[str, str], ApiResponse]
) -> None:
    dynamodb = boto3.client("dynamodb")
    pages = dynamodb.get_paginator("scan").paginate(TableName=world.harness.name("ArticlesTable"))
    stored = json.dumps([item for page in pages for item in page["Items"]], ensure_ascii=False)

    assert len(world.issued) >= 8
    for secret in world.issued:
        assert hash_key(secret) in stored
    leaked = [part for secret in world.key_secrets for part in _private_parts(secret) if part in stored]
    assert leaked == []


# Last: it reads what every test above logged.
def test_no_key_or_signing_secret_appears_in_any_log_line_of_the_run(
    world: World, matrix: dict[tuple[str, str], ApiResponse], log_output: io.StringIO
) -> None:
    logged = log_output.getvalue()

    refusals = sum(1 for response in matrix.values() if response.status == 401)
    assert logged.count("request refused") >= refusals > 0, "the capture must see the refusals"
    assert len(world.key_secrets) > len(world.issued)  # unknown keys were presented too
    leaked = [part for secret in world.key_secrets for part in _private_parts(secret) if part in logged]
    leaked += [secret for secret in world.partner_secrets if secret in logged]
    assert world.partner_secrets
    assert leaked == []
