"""The HTTP API. Thin: each route validates its input model and calls one logic function."""

from __future__ import annotations

import base64
import functools
import json
import pathlib
from datetime import timedelta
from http import HTTPStatus
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.middlewares.openapi_validation import (
    OpenAPIRequestValidationMiddleware,
)
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.params import Body, Header, Path, Query
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BeforeValidator

from functions import clock
from functions.config import get_settings
from functions.dal.factory import get_storage
from functions.dal.idempotency import SUBMIT, Replayable, run_once
from functions.logic import auth, edit_article, media, previews, read_articles, syndication
from functions.logic.permissions import READERS, WRITERS
from functions.logic.submit_article import submit_article
from functions.models.api import (
    IDEMPOTENCY_KEY_MAX_CHARS,
    IDEMPOTENCY_KEY_PATTERN,
    JSON_MEDIA_TYPE,
    MAX_JSON_BODY_BYTES,
    ArticleDetail,
    ArticlePage,
    ArticleResponse,
    DeliveryList,
    KeyList,
    KeyRequest,
    KeyResponse,
    MediaResponse,
    MediaUploadRequest,
    MediaUploadTicket,
    NewKeyResponse,
    PartnerCreated,
    PartnerList,
    PartnerRequest,
    PartnerResponse,
    PreviewResponse,
    RevisionList,
    SyndicationPage,
    check_idempotency_key,
    media_type,
    read_json_body,
    validate_body,
)
from functions.models.article import (
    ArticlePatch,
    ArticleRecord,
    ArticleReplacement,
    ArticleStatus,
    ArticleSubmission,
    PublishRequest,
    RetractRequest,
)
from functions.models.errors import (
    MalformedBody,
    PresswireError,
    Problem,
    RouteNotFound,
    ValidationFailed,
    field_errors,
)
from functions.models.keys import ApiKeyRecord, Role
from functions.models.site import Site
from functions.observability import logger, metrics, tracer

PROBLEM_JSON = "application/problem+json"
JSON = JSON_MEDIA_TYPE
API_PREFIX = "/api"
ARTICLE_ID = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[0-9a-f-]+$")]
IF_MATCH = Annotated[
    str | None, Header(description="The ETag of your last read of the article (required for PUT and PATCH)")
]

# No cors=CORSConfig(...): API Gateway answers CORS before the function and discards the function's
# own CORS headers (template.yaml, HttpApi CorsConfiguration; infra/local/gateway.py emulates it).
app = APIGatewayHttpResolver(enable_validation=True, strip_prefixes=[API_PREFIX])
BEARER: list[dict[str, list[str]]] = [{"bearerAuth": []}]


def openapi_json() -> str:
    """This API's OpenAPI document. Configured here rather than with app.configure_openapi at
    import: Powertools' OpenAPI models (HTTPBearer's module) cost a cold start about as much as
    boto3, and only this document needs them; request validation does not."""
    from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer, Server

    return app.get_openapi_json_schema(
        # The routes are written without the prefix API Gateway routes them under.
        servers=[Server(url=API_PREFIX)],
        title="presswire API",
        version="1.0.0",
        description="Submit, edit and publish articles.\n\n"
        "Every error is RFC 9457 application/problem+json: `type`, `title`, `status`, `detail`, the "
        "`field` at fault and, for validation errors, `errors` (each field at fault with a message). "
        f"Request bodies are JSON (Content-Type: {JSON}, UTF-8, at most {MAX_JSON_BODY_BYTES} bytes), "
        "except image uploads to POST /media. Times are RFC 3339; a time without an offset is taken "
        "in the site's time zone (Asia/Ho_Chi_Minh, UTC+07:00, for the seed site).",
        security_schemes={"bearerAuth": HTTPBearer(description="An API key: Authorization: Bearer pw_...")},
    )


class _RequestValidation(OpenAPIRequestValidationMiddleware):
    """Powertools' request validation, reading JSON bodies by this API's rules (functions.models.api):
    a non-JSON Content-Type is 415 (Powertools would parse forms and multipart, and a multipart
    without a boundary raises ValueError), non-UTF-8 or malformed JSON 400 (Powertools raises
    UnicodeDecodeError), too large 413."""

    def handler(self, app: Any, next_middleware: Any) -> Any:
        # Who is asking comes before what they sent: a caller without a valid key gets 401, never
        # a validation report about a body it may not send at all.
        if app.context["_route"].security:
            _principal()
        return super().handler(app, next_middleware)

    def _get_body(self, app: Any) -> Any:
        return read_json_body(app.current_event.headers.get("content-type"), _body_bytes())


# The resolver builds each route's middleware stack from this attribute on first use.
app._request_validation_middleware = _RequestValidation()  # type: ignore[attr-defined]

_DESCRIBED: dict[int, str] = {
    400: "Malformed request: the body is not UTF-8 JSON, or a parameter is not one this API issued",
    401: "No valid API key",
    403: "The key's role may not do this",
    404: "No such resource",
    409: "The article is not in a state that allows this, or no free slug is left",
    412: "If-Match does not match the article's current ETag",
    413: "The body is too large",
    415: f"The body is not {JSON}",
    422: "The request failed validation: `errors` lists each field at fault",
    428: "If-Match is required",
    503: "Storage is temporarily unavailable; retry later",
}


def _problems(*statuses: int) -> dict[int, OpenAPIResponse]:
    """The error responses of a route: problem+json with the Problem schema. 422 is always listed
    (Powertools documents one for every validated route)."""
    return {
        status: {"description": _DESCRIBED[status], "content": {PROBLEM_JSON: {"model": Problem}}}
        for status in sorted({*statuses, 422})
    }


def _ok(description: str, status: int = HTTPStatus.OK) -> dict[int, OpenAPIResponse]:
    """A success response whose JSON schema is the route's return type."""
    return {status: {"description": description}}


_BODY = (400, 413, 415, 422)
_READ = _problems(401, 403, 404)
_WRITE = _problems(*_BODY, 401, 403, 404, 409, 412)
_EDIT = _problems(*_BODY, 401, 403, 404, 409, 412, 428)


def _body_bytes() -> bytes:
    """The request body as sent: API Gateway base64-encodes what it does not take for text."""
    event = app.current_event
    raw = event.body or ""
    if event.is_base64_encoded:
        try:
            return base64.b64decode(raw, validate=True)
        except ValueError as error:
            raise MalformedBody("the body could not be decoded") from error
    return raw.encode("utf-8", errors="surrogatepass")


def _site() -> Site:
    return Site.from_settings(get_settings())


def _principal() -> ApiKeyRecord:
    """The request's key, read once per request (the routing context is cleared after each)."""
    principal: ApiKeyRecord | None = app.context.get("principal")
    if principal is None:
        principal = auth.authenticate(get_storage(), app.current_event.headers.get("authorization"))
        app.append_context(principal=principal)
        logger.append_keys(key_id=principal.key_id, role=principal.role)
    return principal


def _authorize(*roles: Role) -> ApiKeyRecord:
    principal = _principal()
    auth.require_role(principal, roles)
    return principal


def _article_response(
    record: ArticleRecord, site: Site, status: int = HTTPStatus.OK
) -> Response[ArticleResponse]:
    summary = record.model_dump(exclude={"content_key", "content_version", "etag"})
    body = ArticleResponse(**summary, url=site.absolute(record.path))
    headers = {"ETag": record.etag}
    if status == HTTPStatus.CREATED:
        headers["Location"] = f"{API_PREFIX}/articles/{record.id}"
    return Response(status_code=status, content_type=JSON, body=body, headers=headers)


def problem(error: PresswireError) -> Response[Any]:
    body = error.problem().model_dump_json(exclude_none=True)
    headers = {"Retry-After": str(error.retry_after)} if error.retry_after is not None else None
    return Response(status_code=int(error.status), content_type=PROBLEM_JSON, body=body, headers=headers)


@app.exception_handler(PresswireError)
def handle_domain_error(error: PresswireError) -> Response[Any]:
    logger.info("request refused", extra={"problem": error.type_slug, "detail": error.detail})
    return problem(error)


@app.exception_handler(RequestValidationError)
def handle_validation_error(error: RequestValidationError) -> Response[Any]:
    return handle_domain_error(ValidationFailed.from_errors(field_errors(error.errors())))


@app.not_found
def handle_not_found(error: NotFoundError) -> Response[Any]:
    return problem(RouteNotFound(f"{app.current_event.path} is not a route of this API"))


@app.exception_handler(Exception)
def handle_unexpected(error: Exception) -> Response[Any]:
    # The one place unexpected failures become a response; the stack trace goes to the log.
    logger.exception("unhandled error")
    return problem(PresswireError("the request failed; it has been logged"))


# -- articles ------------------------------------------------------------------------------


IDEMPOTENCY_KEY = Annotated[
    str | None,
    Header(
        # check_idempotency_key enforces these, with a message in words rather than a regex.
        json_schema_extra={
            "minLength": 1,
            "maxLength": IDEMPOTENCY_KEY_MAX_CHARS,
            "pattern": IDEMPOTENCY_KEY_PATTERN,
        },
        description="Makes the request safe to retry (a fresh UUID per new request is a good key): "
        "for 24 hours, a repeat with the same key (per API key) and the same article gets the first "
        "answer again (same status, body, ETag and Location) and creates nothing; the same key with "
        "a different article gets 422; a repeat while the first is still running gets 409 with "
        "Retry-After. A request that failed is not remembered: its repeat runs again.",
    ),
    BeforeValidator(check_idempotency_key),
]


def _problem_doc(description: str) -> OpenAPIResponse:
    return {"description": description, "content": {PROBLEM_JSON: {"model": Problem}}}


def _replayable(response: Response[ArticleResponse]) -> Replayable:
    """A response as JSON values, to be remembered for an Idempotency-Key."""
    assert isinstance(response.body, ArticleResponse)
    return {
        "status": response.status_code,
        "headers": dict(response.headers),
        "body": response.body.model_dump(mode="json"),
    }


def _replay(answer: Replayable) -> Response[ArticleResponse]:
    body = ArticleResponse.model_validate(answer["body"])
    return Response(
        status_code=answer["status"], content_type=JSON, body=body, headers=dict(answer["headers"])
    )


@app.post(
    "/articles",
    summary="Submit an article (editors publish; reporters file drafts); send Idempotency-Key to "
    "make it safe to retry",
    responses={
        **_ok("Accepted; ETag carries the version", HTTPStatus.CREATED),
        **_problems(*_BODY, 401, 403, 409, 503),
        409: _problem_doc(
            "No free slug is left for this title, or the first request with this Idempotency-Key is "
            "still in progress (retry after Retry-After seconds)"
        ),
        422: _problem_doc(
            "The request failed validation (`errors` lists each field at fault), or its "
            "Idempotency-Key was already used with a different request"
        ),
    },
    tags=["articles"],
    security=BEARER,
)
def create_article(
    submission: ArticleSubmission, idempotency_key: IDEMPOTENCY_KEY = None
) -> Response[ArticleResponse]:
    principal = _authorize(*WRITERS)
    site = _site()

    # Raises on failure (never returns an error answer), so a failed request is not remembered.
    def submit() -> Replayable:
        record = submit_article(submission, principal, get_storage(), site, clock.utc_now())
        return _replayable(_article_response(record, site, HTTPStatus.CREATED))

    if idempotency_key is None:
        return _replay(submit())
    answer = run_once(
        SUBMIT,
        submit,
        caller=principal.key_id,
        key=idempotency_key,
        request=submission.model_dump(mode="json"),
        lambda_context=app.lambda_context,
    )
    return _replay(answer)


@app.get(
    "/articles/<article_id>",
    summary="Read one article (or one revision)",
    responses={**_ok("The canonical article; ETag carries the version"), **_READ},
    tags=["articles"],
    security=BEARER,
)
def read_article(
    article_id: ARTICLE_ID,
    version: Annotated[int | None, Query(ge=1, description="A revision number from /revisions")] = None,
) -> Response[ArticleDetail]:
    principal = _authorize(*READERS)
    record, article = read_articles.get_article(
        get_storage(), principal, article_id, clock.utc_now(), version
    )
    body = ArticleDetail(**article.model_dump(), url=_site().absolute(article.path))
    headers = {"ETag": record.etag} if version in (None, record.revision) else {}
    return Response(status_code=HTTPStatus.OK, content_type=JSON, body=body, headers=headers)


@app.get(
    "/articles",
    summary="List articles, newest first",
    responses={**_ok("A page of articles"), **_problems(400, 401, 403)},
    tags=["articles"],
    security=BEARER,
)
def read_articles_page(
    status: Annotated[ArticleStatus, Query()] = "published",
    section: Annotated[str | None, Query(max_length=120, description="A section slug")] = None,
    tag: Annotated[str | None, Query(max_length=120, description="A tag slug")] = None,
    author: Annotated[str | None, Query(max_length=120, description="An author slug")] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=2048)] = None,
) -> ArticlePage:
    principal = _authorize(*READERS)
    site = _site()
    records, next_cursor = read_articles.list_articles(
        get_storage(),
        principal,
        status=status,
        limit=limit,
        cursor=cursor,
        section=section,
        tag=tag,
        author=author,
        now=clock.utc_now(),
    )
    items = [ArticleResponse(**record.model_dump(), url=site.absolute(record.path)) for record in records]
    return ArticlePage(items=items, next_cursor=next_cursor)


@app.put(
    "/articles/<article_id>",
    summary="Replace an article (If-Match required)",
    responses={**_ok("The article as changed; ETag carries the new version"), **_EDIT},
    tags=["articles"],
    security=BEARER,
)
def replace_article(
    article_id: ARTICLE_ID, replacement: ArticleReplacement, if_match: IF_MATCH = None
) -> Response[ArticleResponse]:
    principal = _authorize(*WRITERS)
    site = _site()
    record = edit_article.edit_article(
        get_storage(), principal, article_id, replacement, if_match=if_match, site=site, now=clock.utc_now()
    )
    return _article_response(record, site)


@app.patch(
    "/articles/<article_id>",
    summary="Change some fields of an article; a correction note publishes a correction (If-Match required)",
    responses={**_ok("The article as changed; ETag carries the new version"), **_EDIT},
    tags=["articles"],
    security=BEARER,
)
def patch_article(
    article_id: ARTICLE_ID, patch: ArticlePatch, if_match: IF_MATCH = None
) -> Response[ArticleResponse]:
    principal = _authorize(*WRITERS)
    site = _site()
    record = edit_article.edit_article(
        get_storage(), principal, article_id, patch, if_match=if_match, site=site, now=clock.utc_now()
    )
    return _article_response(record, site)


@app.get(
    "/articles/<article_id>/revisions",
    summary="Every revision, oldest first",
    responses={**_ok("The article's revisions"), **_READ},
    tags=["articles"],
    security=BEARER,
)
def article_revisions(article_id: ARTICLE_ID) -> RevisionList:
    principal = _authorize(*READERS)
    return RevisionList(items=read_articles.list_revisions(get_storage(), principal, article_id))


@app.post(
    "/articles/<article_id>/publish",
    summary="Publish a draft now, or schedule it (editors)",
    responses={**_ok("The article, published or scheduled"), **_WRITE},
    tags=["lifecycle"],
    security=BEARER,
)
def publish(
    article_id: ARTICLE_ID,
    request: Annotated[PublishRequest | None, Body()] = None,
    if_match: IF_MATCH = None,
) -> Response[ArticleResponse]:
    principal = _authorize(*WRITERS)
    site = _site()
    when = request.published_at if request else None
    record = edit_article.publish_article(
        get_storage(), principal, article_id, when, if_match=if_match, site=site, now=clock.utc_now()
    )
    return _article_response(record, site)


@app.post(
    "/articles/<article_id>/retract",
    summary="Retract: the page becomes a notice, the article leaves every feed (editors)",
    responses={**_ok("The retracted article"), **_WRITE},
    tags=["lifecycle"],
    security=BEARER,
)
def retract(
    article_id: ARTICLE_ID, request: RetractRequest, if_match: IF_MATCH = None
) -> Response[ArticleResponse]:
    principal = _authorize(*WRITERS)
    record = edit_article.retract_article(
        get_storage(), principal, article_id, request.reason, if_match=if_match, now=clock.utc_now()
    )
    return _article_response(record, _site())


@app.post(
    "/articles/<article_id>/reinstate",
    summary="Undo a retraction (editors)",
    responses={**_ok("The reinstated article"), **_problems(401, 403, 404, 409, 412)},
    tags=["lifecycle"],
    security=BEARER,
)
def reinstate(article_id: ARTICLE_ID, if_match: IF_MATCH = None) -> Response[ArticleResponse]:
    principal = _authorize(*WRITERS)
    record = edit_article.reinstate_article(
        get_storage(), principal, article_id, if_match=if_match, now=clock.utc_now()
    )
    return _article_response(record, _site())


@app.post(
    "/articles/<article_id>/preview",
    summary="A time-limited, unguessable link to an unpublished article's page (editors)",
    responses={**_ok("The preview link", HTTPStatus.CREATED), **_problems(401, 403, 404, 409)},
    tags=["lifecycle"],
    security=BEARER,
)
def open_preview(article_id: ARTICLE_ID) -> Response[PreviewResponse]:
    principal = _authorize(*WRITERS)
    lifetime = timedelta(seconds=get_settings().preview_ttl_seconds)
    store = get_storage()
    token, preview = previews.create_preview(
        store, store, principal, article_id, lifetime=lifetime, now=clock.utc_now()
    )
    body = PreviewResponse(
        url=_site().absolute(f"{API_PREFIX}/preview/{token}"), expires_at=preview.expires_at
    )
    return Response(status_code=HTTPStatus.CREATED, content_type=JSON, body=body)


@app.get(
    "/preview/<token>",
    summary="The draft's page, for whoever holds the link",
    responses={
        200: {"description": "The draft's page", "content": {"text/html": {"schema": {"type": "string"}}}},
        **_problems(404),
    },
    tags=["lifecycle"],
)
def view_preview(token: Annotated[str, Path(min_length=20, max_length=100)]) -> Response[str]:
    store = get_storage()
    html = previews.render_preview(store, store, token, _site(), clock.utc_now())
    headers = {"Cache-Control": "private, no-store", "X-Robots-Tag": "noindex, nofollow"}
    return Response(
        status_code=HTTPStatus.OK, content_type="text/html; charset=utf-8", body=html, headers=headers
    )


# -- media ---------------------------------------------------------------------------------


_MEDIA_BODY: dict[str, Any] = {
    "required": True,
    "content": {
        JSON: {"schema": MediaUploadRequest.model_json_schema()},
        **{kind: {"schema": {"type": "string", "format": "binary"}} for kind in media.ALLOWED_TYPES},
    },
}


@app.post(
    "/media",
    summary="Upload an image: JSON {filename, content_type, length, caption, credit, alt} gives a "
    "presigned PUT (up to 10 MB); raw image bytes with their Content-Type and ?filename= store it "
    "directly (up to 4 MB)",
    responses={
        **_ok("A MediaUploadTicket (JSON) or a MediaResponse (raw)", HTTPStatus.CREATED),
        **_problems(*_BODY, 401, 403),
    },
    tags=["media"],
    security=BEARER,
    # The body is read by the route (JSON or image bytes), so Powertools cannot describe it.
    openapi_extensions={"requestBody": _MEDIA_BODY},
)
def create_media(
    filename: Annotated[str | None, Query(min_length=1, max_length=200)] = None,
    caption: Annotated[str, Query(max_length=1000)] = "",
    credit: Annotated[str, Query(max_length=200)] = "",
    alt: Annotated[str, Query(max_length=500)] = "",
) -> Response[MediaUploadTicket | MediaResponse]:
    _authorize(*WRITERS)
    content_type = app.current_event.headers.get("content-type", "")
    data = _body_bytes()
    if media_type(content_type) == JSON:
        request = validate_body(MediaUploadRequest, read_json_body(content_type, data))
        ticket = media.plan_upload(get_storage(), request)
        return Response(status_code=HTTPStatus.CREATED, content_type=JSON, body=ticket)
    stored = media.upload_media(
        get_storage(),
        filename=filename,
        content_type=content_type,
        body=data,
        caption=caption,
        credit=credit,
        alt=alt,
    )
    body = MediaResponse(
        url=media.media_url(stored.key), content_type=stored.content_type, length=stored.length
    )
    return Response(status_code=HTTPStatus.CREATED, content_type=JSON, body=body)


# -- keys ----------------------------------------------------------------------------------


@app.post(
    "/keys",
    summary="Create an API key (admins); the secret is shown once",
    responses={**_ok("The new key, with its secret", HTTPStatus.CREATED), **_problems(*_BODY, 401, 403)},
    tags=["keys"],
    security=BEARER,
)
def create_key(request: KeyRequest) -> Response[NewKeyResponse]:
    _authorize("admin")
    secret, record = auth.issue_key(get_storage(), role=request.role, name=request.name, now=clock.utc_now())
    body = NewKeyResponse(**record.model_dump(), key=secret)
    return Response(status_code=HTTPStatus.CREATED, content_type=JSON, body=body)


@app.get(
    "/keys",
    summary="List API keys (admins); never their secrets",
    responses={**_ok("Every key"), **_problems(401, 403)},
    tags=["keys"],
    security=BEARER,
)
def list_keys() -> KeyList:
    _authorize("admin")
    return KeyList(items=[KeyResponse(**record.model_dump()) for record in auth.list_keys(get_storage())])


@app.delete(
    "/keys/<key_id>",
    summary="Revoke an API key (admins); effective at once",
    responses={**_ok("The revoked key"), **_READ},
    tags=["keys"],
    security=BEARER,
)
def revoke_key(key_id: Annotated[str, Path(min_length=1, max_length=64)]) -> KeyResponse:
    _authorize("admin")
    return KeyResponse(**auth.revoke_key(get_storage(), key_id).model_dump())


# -- syndication ---------------------------------------------------------------------------


@app.get(
    "/syndication/articles",
    summary="The change feed: IPTC ninjs 2.0 items, oldest change first, with a next cursor (partners)",
    responses={**_ok("A page of changes"), **_problems(400, 401, 403)},
    tags=["syndication"],
    security=BEARER,
)
def syndication_feed(
    since: Annotated[
        str | None,
        Query(
            max_length=2048,
            description="A cursor from next_cursor, or an RFC 3339 time (without an offset: in the "
            "site's time zone, Asia/Ho_Chi_Minh for the seed site)",
        ),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
) -> SyndicationPage:
    _authorize(*READERS)
    items, next_cursor = syndication.change_feed(
        get_storage(), _site(), since=since, limit=limit, now=clock.utc_now()
    )
    return SyndicationPage(items=items, next_cursor=next_cursor)


@app.get(
    "/syndication/articles/<article_id>",
    summary="One article as an IPTC ninjs 2.0 item (partners); withheld while embargoed",
    responses={**_ok("An IPTC ninjs 2.0 item"), **_READ},
    tags=["syndication"],
    security=BEARER,
)
def syndication_item(article_id: ARTICLE_ID) -> Response[dict[str, Any]]:
    _authorize(*READERS)
    item = syndication.syndicated_item(get_storage(), _site(), article_id, clock.utc_now())
    return Response(status_code=HTTPStatus.OK, content_type=JSON, body=item)


@app.post(
    "/partners",
    summary="Subscribe a partner's webhook (admins); the signing secret is shown once",
    responses={
        **_ok("The subscription, with its secret", HTTPStatus.CREATED),
        **_problems(*_BODY, 401, 403),
    },
    tags=["partners"],
    security=BEARER,
)
def create_partner(request: PartnerRequest) -> Response[PartnerCreated]:
    principal = _authorize("admin")
    partner = syndication.register_partner(
        get_storage(),
        principal,
        request,
        clock.utc_now(),
        allow_private_webhooks=get_settings().allow_private_webhooks,
    )
    return Response(
        status_code=HTTPStatus.CREATED, content_type=JSON, body=PartnerCreated(**partner.model_dump())
    )


@app.get(
    "/partners",
    summary="List webhook subscriptions (admins)",
    responses={**_ok("Every subscription"), **_problems(401, 403)},
    tags=["partners"],
    security=BEARER,
)
def list_partners() -> PartnerList:
    _authorize("admin")
    return PartnerList(
        items=[PartnerResponse(**partner.model_dump()) for partner in get_storage().list_partners()]
    )


@app.get(
    "/partners/<partner_id>/deliveries",
    summary="The latest webhook deliveries to a partner and how they went (admins)",
    responses={**_ok("The latest deliveries, newest first"), **_READ},
    tags=["partners"],
    security=BEARER,
)
def partner_deliveries(
    partner_id: Annotated[str, Path(min_length=1, max_length=64)],
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> DeliveryList:
    _authorize("admin")
    return DeliveryList(items=syndication.partner_deliveries(get_storage(), partner_id, limit))


@app.delete(
    "/partners/<partner_id>",
    summary="Unsubscribe a partner (admins)",
    responses={204: {"description": "Unsubscribed", "content": {}}, **_READ},
    tags=["partners"],
    security=BEARER,
)
def delete_partner(partner_id: Annotated[str, Path(min_length=1, max_length=64)]) -> Response[str]:
    _authorize("admin")
    syndication.remove_partner(get_storage(), partner_id)
    return Response(status_code=HTTPStatus.NO_CONTENT, body="")


@app.get(
    "/openapi.json",
    summary="This API's OpenAPI document",
    responses={**_ok("The OpenAPI 3.1 document"), **_problems()},
    tags=["meta"],
)
def openapi_document() -> Response[dict[str, Any]]:
    return Response(status_code=HTTPStatus.OK, content_type=JSON, body=json.loads(openapi_json()))


@app.get("/docs", include_in_schema=False)
def api_docs() -> Response[str]:
    return Response(status_code=HTTPStatus.OK, content_type="text/html; charset=utf-8", body=_swagger_page())


@functools.cache
def _swagger_page() -> str:
    """Swagger UI over the OpenAPI document, for people: Powertools' page, with its script and
    stylesheet inlined from the package (nothing fetched from a CDN), imported for this route only
    and built once per process (the script alone is over a megabyte to read)."""
    from aws_lambda_powertools.event_handler.openapi import swagger_ui
    from aws_lambda_powertools.event_handler.openapi.swagger_ui import generate_swagger_html

    bundle = pathlib.Path(swagger_ui.__file__).parent
    return generate_swagger_html(
        # "</" inside the inlined document would end its <script> early.
        spec=openapi_json().replace("</", "<\\/"),
        swagger_js=(bundle / "swagger-ui-bundle.min.js").read_text(encoding="utf-8"),
        swagger_css=(bundle / "swagger-ui.min.css").read_text(encoding="utf-8"),
        swagger_base_url="",
        oauth2_config=None,
    )


# log_event pinned off: POWERTOOLS_LOGGER_LOG_EVENT=true, set while debugging, would log every
# request's Authorization header.
@logger.inject_lambda_context(
    correlation_id_path=correlation_paths.API_GATEWAY_HTTP, clear_state=True, log_event=False
)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
