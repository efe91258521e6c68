"""The API's routes and template.yaml's HttpApi routes are the same set."""

from __future__ import annotations

import re

from functions.handlers.api import API_PREFIX, app
from infra.cfn import http_api_routes, load_template


def test_every_api_route_is_declared_in_template_yaml_and_nothing_else_is() -> None:
    routes = app._static_routes + app._dynamic_routes  # type: ignore[attr-defined]
    in_code = {(route.method.upper(), API_PREFIX + re.sub(r"<\w+>", "{id}", route.path)) for route in routes}
    declared = {
        (method, re.sub(r"\{\w+\}", "{id}", path)) for method, path in http_api_routes(load_template())
    }

    assert in_code == declared
