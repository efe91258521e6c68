"""CORS: the origins setting, template.yaml's CorsConfiguration, and the local gateway's emulation
of it (pure parts; tests/e2e/test_cors.py goes over HTTP)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from functions.config import settings_from_environment
from infra.cfn import Intrinsic, load_template
from infra.cli import build_parser
from infra.local.gateway import CorsPolicy
from infra.local.stack import cors_policy

BASE = {
    "CONTENT_BUCKET": "c-b",
    "SITE_BUCKET": "s-b",
    "TABLE_NAME": "t-t",
    "SITE_URL": "https://news.example.vn",
}
SITE = "https://news.example.vn"
CMS = "https://cms.example.vn"
DEV = "http://localhost:5173"


def settings(origins: str) -> Any:
    return settings_from_environment({**BASE, "CORS_ALLOWED_ORIGINS": origins})


# -- the setting ---------------------------------------------------------------------------------


def test_no_origins_is_the_default_and_means_no_cors() -> None:
    assert settings_from_environment(BASE).cors_origins == ()


def test_exact_origins_separated_by_commas_are_accepted_in_order() -> None:
    assert settings(f"{CMS},{DEV},http://[::1]:8080").cors_origins == (CMS, DEV, "http://[::1]:8080")


@pytest.mark.parametrize(
    ("origin", "reason"),
    [
        ("*", "not accepted"),
        ("null", "not an origin"),
        ("cms.example.vn", "not an origin"),
        ("ftp://cms.example.vn", "not an origin"),
        ("https://cms.example.vn/admin", "no path"),
        ("https://cms.example.vn?x=1", "no path"),
        ("https://editor:pw@cms.example.vn", "credentials"),
        ("https://cms.example.vn:99999", "not an origin"),
    ],
)
def test_anything_that_is_not_an_origin_is_refused_at_cold_start(origin: str, reason: str) -> None:
    with pytest.raises(ValueError, match=f"CORS_ALLOWED_ORIGINS: .*{reason}"):
        settings(origin)


@pytest.mark.parametrize(
    ("written", "canonical"),
    [
        ("https://cms.example.vn/", CMS),
        ("HTTPS://CMS.example.vn", CMS),
        ("https://cms.example.vn:443", CMS),
        (" https://cms.example.vn", CMS),
        ("https://bücher.example", "https://xn--bcher-kva.example"),
    ],
)
def test_an_origin_a_browser_would_never_send_is_refused_with_the_form_to_write(
    written: str, canonical: str
) -> None:
    # Matching is exact: such an origin would otherwise be accepted and silently never match.
    with pytest.raises(ValueError, match=f"; write {re.escape(canonical)} "):
        settings(written)


def test_an_empty_entry_between_commas_is_refused() -> None:
    with pytest.raises(ValueError, match="CORS_ALLOWED_ORIGINS"):
        settings(f"{CMS},,{DEV}")


# -- template.yaml -------------------------------------------------------------------------------


def _evaluate(value: Any, parameters: dict[str, str], conditions: dict[str, Any]) -> Any:
    """The few intrinsics the CORS settings use, as CloudFormation evaluates them; None is
    AWS::NoValue (the property is left out)."""
    if isinstance(value, Intrinsic):
        if value.tag == "Ref":
            return None if value.value == "AWS::NoValue" else parameters[value.value]
        if value.tag == "Split":
            separator, text = value.value
            return _evaluate(text, parameters, conditions).split(separator)
        if value.tag == "Sub":
            return re.sub(r"\$\{(\w+)\}", lambda name: parameters[name[1]], value.value)
        if value.tag == "If":
            name, when_true, when_false = value.value
            chosen = when_true if _evaluate(conditions[name], parameters, conditions) else when_false
            return _evaluate(chosen, parameters, conditions)
        if value.tag == "Not":
            return not _evaluate(value.value[0], parameters, conditions)
        if value.tag == "Equals":
            left, right = (_evaluate(side, parameters, conditions) for side in value.value)
            return left == right
        raise AssertionError(f"unexpected !{value.tag}")
    if isinstance(value, dict):
        return {key: _evaluate(item, parameters, conditions) for key, item in value.items()}
    if isinstance(value, list):
        return [_evaluate(item, parameters, conditions) for item in value]
    return value


def _http_api_cors(origins: str) -> Any:
    template = load_template()
    configuration = template["Resources"]["HttpApi"]["Properties"]["CorsConfiguration"]
    return _evaluate(configuration, {"CorsAllowedOrigins": origins}, template["Conditions"])


def test_the_http_api_has_no_cors_configuration_when_the_parameter_is_empty() -> None:
    parameter = load_template()["Parameters"]["CorsAllowedOrigins"]

    assert parameter["Default"] == ""
    assert _http_api_cors("") is None


def test_the_http_api_allows_exactly_the_parameters_origins_with_the_apis_headers() -> None:
    cors = _http_api_cors(f"{CMS},{DEV}")

    assert cors["AllowOrigins"] == [CMS, DEV]
    assert cors["AllowCredentials"] is False
    assert set(cors["AllowMethods"]) == {"GET", "POST", "PUT", "PATCH", "DELETE"}
    assert {header.lower() for header in cors["AllowHeaders"]} == {
        "authorization",
        "content-type",
        "if-match",
        "idempotency-key",
    }
    assert {header.lower() for header in cors["ExposeHeaders"]} == {"etag", "location", "retry-after"}
    assert 60 <= cors["MaxAge"] <= 7200


@pytest.mark.parametrize(("origins", "allowed"), [("", [SITE]), (f"{CMS},{DEV}", [SITE, CMS, DEV])])
def test_the_content_bucket_takes_image_uploads_from_the_site_and_the_allowed_origins(
    origins: str, allowed: list[str]
) -> None:
    template = load_template()
    (rule,) = template["Resources"]["ContentBucket"]["Properties"]["CorsConfiguration"]["CorsRules"]
    parameters = {"CorsAllowedOrigins": origins, "SiteUrl": SITE}

    assert _evaluate(rule["AllowedOrigins"], parameters, template["Conditions"]) == allowed


def test_the_functions_get_the_same_parameter_as_cors_allowed_origins() -> None:
    variables = load_template()["Globals"]["Function"]["Environment"]["Variables"]

    assert variables["CORS_ALLOWED_ORIGINS"] == Intrinsic("Ref", "CorsAllowedOrigins")


@pytest.mark.parametrize(
    "value",
    ["", CMS, f"{CMS},{DEV}", "*", "https://cms.example.vn/", f"{CMS}, {DEV}", "https://CMS.example.vn"],
)
def test_the_parameters_pattern_accepts_only_what_the_setting_accepts(value: str) -> None:
    pattern = load_template()["Parameters"]["CorsAllowedOrigins"]["AllowedPattern"]
    try:
        settings(value)
        accepted = True
    except ValueError:
        accepted = False

    assert (re.fullmatch(pattern, value) is not None) is accepted


# -- the local gateway ---------------------------------------------------------------------------


def test_the_local_gateway_takes_its_cors_policy_from_the_template_and_none_without_origins() -> None:
    template = load_template()
    policy = cors_policy(template, (CMS,))
    cors = _http_api_cors(CMS)

    assert cors_policy(template, ()) is None
    assert policy is not None
    assert policy.allow_origins == (CMS,)
    assert list(policy.allow_methods) == cors["AllowMethods"]
    assert list(policy.allow_headers) == cors["AllowHeaders"]
    assert list(policy.expose_headers) == cors["ExposeHeaders"]
    assert policy.max_age == cors["MaxAge"]


POLICY = CorsPolicy(
    allow_origins=(CMS,),
    allow_methods=("GET", "POST"),
    allow_headers=("Authorization", "Content-Type"),
    expose_headers=("ETag", "Location"),
    max_age=600,
)


def test_a_preflight_from_an_allowed_origin_gets_that_origin_back_and_vary_origin() -> None:
    headers = POLICY.preflight_headers(CMS)

    assert headers == {
        "Access-Control-Allow-Origin": CMS,
        "Access-Control-Allow-Methods": "GET,POST",
        "Access-Control-Allow-Headers": "Authorization,Content-Type",
        "Access-Control-Max-Age": "600",
        "Vary": "Origin",
    }


@pytest.mark.parametrize(
    "origin", [None, "https://evil.example", "https://cms.example.vn.evil.example", "null"]
)
def test_a_preflight_from_any_other_origin_gets_no_access_control_header(origin: str | None) -> None:
    assert POLICY.preflight_headers(origin) == {"Vary": "Origin"}


def test_only_a_request_with_origin_and_a_requested_method_is_a_preflight() -> None:
    assert CorsPolicy.is_preflight("OPTIONS", {"origin": CMS, "access-control-request-method": "POST"})
    assert not CorsPolicy.is_preflight("OPTIONS", {"origin": CMS})
    assert not CorsPolicy.is_preflight("POST", {"origin": CMS, "access-control-request-method": "POST"})


def test_a_response_echoes_an_allowed_origin_and_replaces_the_functions_own_cors_headers() -> None:
    from_function = {"Content-Type": "application/json", "access-control-allow-origin": "*", "Vary": "Accept"}

    allowed = POLICY.response_headers(CMS, from_function)
    other = POLICY.response_headers("https://evil.example", from_function)

    assert allowed == {
        "Content-Type": "application/json",
        "Vary": "Accept, Origin",
        "Access-Control-Allow-Origin": CMS,
        "Access-Control-Expose-Headers": "ETag,Location",
    }
    assert other == {"Content-Type": "application/json", "Vary": "Accept, Origin"}


# -- presswire serve -----------------------------------------------------------------------------


def test_serve_takes_repeated_cors_origins() -> None:
    args = build_parser().parse_args(["serve", "--cors-origin", CMS, "--cors-origin", DEV])

    assert args.cors_origin == [CMS, DEV]
    assert build_parser().parse_args(["serve"]).cors_origin is None


def test_serve_refuses_a_cors_origin_that_is_not_one_as_a_usage_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exit_:
        build_parser().parse_args(["serve", "--cors-origin", "https://cms.example.vn/"])

    assert exit_.value.code == 2
    assert "write https://cms.example.vn" in capsys.readouterr().err
