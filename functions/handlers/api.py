"""The HTTP API. Thin: each route validates its input model, calls one logic function."""

from __future__ import annotations

import base64
import json
from http import HTTPStatus
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from functions.clock import utc_now
from functions.config import get_settings
from functions.dal.factory import get_storage
from functions.logic.auth import authenticate, require_role
from functions.logic.media import media_url, upload_media
from functions.logic.read_articles import get_article, list_articles
from functions.logic.submit_article import submit_article
from functions.models.api import (
    ApiKeyRecord,
    ArticleDetail,
    ArticlePage,
    ArticleResponse,
    MediaResponse,
    Role,
)
from functions.models.article import ArticleRecord, ArticleStatus, ArticleSubmission
from functions.models.errors import Forbidden, InvalidRequest, PresswireError
from functions.models.site import Site
from functions.observability import logger, metrics, tracer

PROBLEM_JSON = "application/problem+json"
JSON = "application/json"
API_PREFIX = "/api"

app = APIGatewayHttpResolver(enable_validation=True, strip_prefixes=[API_PREFIX])

_PROBLEMS: dict[int, OpenAPIResponse] = {
    401: {"description": "No valid API key (problem+json)"},
    403: {"description": "The key's role may not do this (problem+json)"},
    422: {"description": "The request failed validation (problem+json)"},
}


def _site() -> Site:
    return Site.from_settings(get_settings())


def _authorize(*roles: Role) -> ApiKeyRecord:
    principal = authenticate(get_storage(), app.current_event.headers.get("authorization"))
    logger.append_keys(key_id=principal.key_id, role=principal.role)
    require_role(principal, roles)
    return principal


def _article_response(record: ArticleRecord, site: Site) -> ArticleResponse:
    summary = record.model_dump(exclude={"content_key", "content_version", "etag"})
    return ArticleResponse(**summary, url=site.absolute(record.path))


def problem(status: int, type_slug: str, title: str, detail: str, **extensions: Any) -> Response:
    body = {"type": f"urn:presswire:problem:{type_slug}", "title": title, "status": status, "detail": detail}
    body.update(extensions)
    return Response(status_code=status, content_type=PROBLEM_JSON, body=json.dumps(body, ensure_ascii=False))


@app.exception_handler(PresswireError)
def handle_domain_error(error: PresswireError) -> Response:
    logger.info("request refused", extra={"problem": error.type_slug, "detail": error.detail})
    return problem(int(error.status), error.type_slug, error.title, error.detail, **error.extensions)


@app.exception_handler(RequestValidationError)
def handle_validation_error(error: RequestValidationError) -> Response:
    errors = [
        {
            "field": ".".join(str(part) for part in item.get("loc", ()) if part != "body") or "body",
            "message": item.get("msg", ""),
        }
        for item in error.errors()
    ]
    if any(item.get("type") == "json_invalid" for item in error.errors()):
        return problem(
            400, "malformed-json", "The body is not valid JSON", errors[0]["message"], errors=errors
        )
    first = errors[0] if errors else {"field": "body", "message": "invalid"}
    return problem(
        422,
        "validation-failed",
        "The request failed validation",
        f"{first['field']}: {first['message']}",
        errors=errors,
    )


@app.not_found
def handle_not_found(error: NotFoundError) -> Response:
    return problem(404, "not-found", "No such route", f"{app.current_event.path} is not a route of this API")


@app.exception_handler(Exception)
def handle_unexpected(error: Exception) -> Response:
    # The one place unexpected failures are turned into a response; the stack goes to the log.
    logger.exception("unhandled error")
    return problem(500, "internal-error", "Internal error", "the request failed; it has been logged")


@app.post(
    "/articles",
    summary="Submit an article",
    responses={201: {"description": "Accepted; ETag header carries the version"}, **_PROBLEMS},
    tags=["articles"],
)
def create_article(submission: ArticleSubmission) -> Response[ArticleResponse]:
    principal = _authorize("reporter", "editor")
    site = _site()
    record = submit_article(submission, principal, get_storage(), site, utc_now())
    body = _article_response(record, site)
    return Response(
        status_code=HTTPStatus.CREATED,
        content_type=JSON,
        body=body,
        headers={"ETag": record.etag, "Location": f"{API_PREFIX}/articles/{record.id}"},
    )


@app.get("/articles/<article_id>", summary="Read one article", responses=_PROBLEMS, tags=["articles"])
def read_article(
    article_id: Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[0-9a-f-]+$")],
) -> Response[ArticleDetail]:
    _authorize("reporter", "editor", "partner")
    record, article = get_article(get_storage(), article_id)
    body = ArticleDetail(**article.model_dump(), url=_site().absolute(article.path))
    return Response(status_code=HTTPStatus.OK, content_type=JSON, body=body, headers={"ETag": record.etag})


@app.get("/articles", summary="List articles, newest first", responses=_PROBLEMS, tags=["articles"])
def read_articles(
    status: Annotated[ArticleStatus, Query()] = "published",
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=2048)] = None,
) -> ArticlePage:
    principal = _authorize("reporter", "editor", "partner")
    if principal.role == "partner" and status != "published":
        raise Forbidden("partner keys see published articles only")
    site = _site()
    records, next_cursor = list_articles(get_storage(), status=status, limit=limit, cursor=cursor)
    return ArticlePage(items=[_article_response(record, site) for record in records], next_cursor=next_cursor)


@app.post(
    "/media",
    summary="Upload an image (raw body with its image Content-Type)",
    responses={201: {"description": "Stored; reference the returned url from the body"}, **_PROBLEMS},
    tags=["media"],
)
def create_media(filename: Annotated[str, Query(min_length=1, max_length=200)]) -> Response[MediaResponse]:
    _authorize("reporter", "editor")
    event = app.current_event
    raw = event.body or ""
    try:
        data = base64.b64decode(raw, validate=True) if event.is_base64_encoded else raw.encode("latin-1")
    except (ValueError, UnicodeEncodeError) as error:
        raise InvalidRequest("the upload must be the raw image bytes", field="body") from error
    stored = upload_media(
        get_storage(), filename=filename, content_type=event.headers.get("content-type", ""), body=data
    )
    body = MediaResponse(url=media_url(stored.key), content_type=stored.content_type, length=stored.length)
    return Response(status_code=HTTPStatus.CREATED, content_type=JSON, body=body)


@app.get("/openapi.json", summary="This API's OpenAPI document", tags=["meta"])
def openapi_document() -> Response[dict]:
    return Response(
        status_code=HTTPStatus.OK,
        content_type=JSON,
        body=json.loads(app.get_openapi_json_schema(title="presswire API", version="1.0.0")),
    )


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
