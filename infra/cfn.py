"""Read template.yaml: the single description of the infrastructure, for AWS and for the local stack."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

TEMPLATE_PATH = Path(__file__).resolve().parents[1] / "template.yaml"


@dataclass(frozen=True)
class Intrinsic:
    """A CloudFormation short-form function (!Ref, !Sub, !GetAtt ...) kept unevaluated."""

    tag: str
    value: Any


class _TemplateLoader(yaml.SafeLoader):
    pass


def _construct_intrinsic(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Intrinsic:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    return Intrinsic(suffix, value)


_TemplateLoader.add_multi_constructor("!", _construct_intrinsic)


@lru_cache(maxsize=4)
def load_template(path: Path = TEMPLATE_PATH) -> dict[str, Any]:
    with path.open(encoding="utf-8") as handle:
        return yaml.load(handle, Loader=_TemplateLoader)  # noqa: S506 - SafeLoader subclass  # nosec B506


def resources_of_type(template: dict[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    return {
        logical_id: resource.get("Properties", {}) or {}
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] == resource_type
    }


def function_environment(template: dict[str, Any]) -> dict[str, Any]:
    return dict(template.get("Globals", {}).get("Function", {}).get("Environment", {}).get("Variables", {}))


def http_api_routes(template: dict[str, Any]) -> set[tuple[str, str]]:
    """(METHOD, path) of every HttpApi event of every function."""
    routes: set[tuple[str, str]] = set()
    for properties in resources_of_type(template, "AWS::Serverless::Function").values():
        for event in (properties.get("Events") or {}).values():
            if event.get("Type") == "HttpApi":
                routes.add((event["Properties"]["Method"].upper(), event["Properties"]["Path"]))
    return routes


def resolve_value(value: Any, names: dict[str, str], parameters: dict[str, str]) -> str:
    """Evaluate the few intrinsics the environment uses: !Ref to a resource or a parameter."""
    if isinstance(value, Intrinsic):
        if value.tag == "Ref" and value.value in names:
            return names[value.value]
        if value.tag == "Ref" and value.value in parameters:
            return parameters[value.value]
        raise ValueError(f"the local stack cannot evaluate !{value.tag} {value.value!r}")
    return str(value)


def parameter_defaults(template: dict[str, Any]) -> dict[str, str]:
    return {
        name: str(spec["Default"])
        for name, spec in (template.get("Parameters") or {}).items()
        if "Default" in spec
    }


def resolved_environment(
    template: dict[str, Any], names: dict[str, str], parameters: dict[str, str]
) -> dict[str, str]:
    """The functions' environment with every !Ref replaced by a local resource name or parameter."""
    values = {**parameter_defaults(template), **parameters}
    return {
        name: resolve_value(value, names, values) for name, value in function_environment(template).items()
    }


def stream_filter_patterns(template: dict[str, Any], function_logical_id: str) -> list[dict[str, Any]]:
    """The FilterCriteria patterns of the function's DynamoDB stream event (Lambda event filtering)."""
    import json

    function = resources_of_type(template, "AWS::Serverless::Function")[function_logical_id]
    patterns: list[dict[str, Any]] = []
    for event in (function.get("Events") or {}).values():
        if event.get("Type") == "DynamoDB":
            for entry in (event["Properties"].get("FilterCriteria") or {}).get("Filters", []):
                patterns.append(json.loads(entry["Pattern"]))
    return patterns


def matches_filter(pattern: dict[str, Any], record: dict[str, Any]) -> bool:
    """Lambda's event-filter matching for the forms the template uses: nested objects whose leaves
    are lists of allowed values."""
    for name, expected in pattern.items():
        value = record.get(name) if isinstance(record, dict) else None
        if isinstance(expected, dict):
            if not isinstance(value, dict) or not matches_filter(expected, value):
                return False
        elif value not in expected:
            return False
    return True
