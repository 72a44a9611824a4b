"""The REST API reference page (reference/api.md), from the OpenAPI spec the server publishes."""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Mapping
from typing import Any

from docs.gen.common import table_cell

_METHODS = ("get", "post", "put", "patch", "delete")
_LENGTH_KEYS = (
    ("minLength", "min length"),
    ("maxLength", "max length"),
    ("minItems", "min items"),
    ("maxItems", "max items"),
    ("multipleOf", "multiple of"),
    ("pattern", "pattern"),
)


def _schema_anchor(name: str) -> str:
    return f"schema-{name.lower()}"


def schema_type(schema: Mapping[str, Any]) -> str:
    """A short Markdown rendering of a JSON schema's type: refs become links to the schema section."""
    if "$ref" in schema:
        name = str(schema["$ref"]).rsplit("/", 1)[-1]
        return f"[{name}](#{_schema_anchor(name)})"
    for combinator in ("anyOf", "oneOf", "allOf"):
        if combinator in schema:
            joiner = " & " if combinator == "allOf" else " \\| "
            return joiner.join(schema_type(s) for s in schema[combinator])
    if "enum" in schema:
        return " \\| ".join(f"`{json.dumps(v)}`" for v in schema["enum"])
    kind = schema.get("type")
    if kind == "array":
        return f"array of {schema_type(schema.get('items', {}))}"
    if isinstance(kind, list):
        return " \\| ".join(str(k) for k in kind)
    if kind == "object" and isinstance(schema.get("additionalProperties"), Mapping):
        return f"object of {schema_type(schema['additionalProperties'])}"
    return str(kind or "any")


def _constraints(schema: Mapping[str, Any]) -> str:
    """Bounds, lengths and patterns of a schema (and of its non-null anyOf branch)."""
    found = []
    branches = [schema, *[s for s in schema.get("anyOf", []) if s.get("type") != "null"]]
    for branch in branches:
        for key, label in (("minimum", "≥"), ("maximum", "≤"), ("exclusiveMinimum", ">"), ("exclusiveMaximum", "<")):
            if key in branch:
                found.append(f"{label} {branch[key]:g}" if isinstance(branch[key], float) else f"{label} {branch[key]}")
        for key, label in _LENGTH_KEYS:
            if key in branch:
                found.append(f"{label} `{branch[key]}`")
    return ", ".join(found)


def _default(schema: Mapping[str, Any]) -> str:
    return f"`{json.dumps(schema['default'])}`" if "default" in schema else ""


# (method, path, query, JSON body) of the quick examples; one whose names the spec does not have is left out.
_EXAMPLES: tuple[tuple[str, str, dict[str, Any], dict[str, Any] | None], ...] = (
    ("get", "/api/health", {}, None),
    ("get", "/api/recommendations", {"user_id": 1, "model": "hybrid", "k": 5}, None),
    ("get", "/api/search", {"q": "action movies with robots", "k": 5}, None),
    ("post", "/api/feedback", {}, {"user_id": 1, "movie_id": 50, "kind": "rating", "value": 4.5}),
)


def _example_fits(spec: Mapping[str, Any], method: str, path: str, query: Mapping[str, Any], body: Any) -> bool:
    """Whether the spec has this operation, these query parameters and these body fields."""
    op = spec.get("paths", {}).get(path, {}).get(method)
    if op is None:
        return False
    names = {p["name"] for p in op.get("parameters", []) if p.get("in") == "query"}
    if not set(query) <= names:
        return False
    if body is None:
        return True
    schema = op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema", {})
    if "$ref" in schema:
        schema = spec.get("components", {}).get("schemas", {}).get(str(schema["$ref"]).rsplit("/", 1)[-1], {})
    return set(body) <= set(schema.get("properties", {}))


def curl_examples(spec: Mapping[str, Any], base: str = "http://127.0.0.1:5001") -> str:
    """A few curl commands against a local server, each checked against the spec."""
    lines = []
    for method, path, query, body in _EXAMPLES:
        if not _example_fits(spec, method, path, query, body):
            continue
        url = base + path + ("?" + urllib.parse.urlencode(query) if query else "")
        if body is None:
            lines.append(f"curl -s '{url}'")
        else:
            lines.append(f"curl -s -X POST '{url}' -H 'Content-Type: application/json' -d '{json.dumps(body)}'")
    if not lines:
        return ""
    return "## Try it\n\nWith `make run` serving on port 5001:\n\n```bash\n" + "\n".join(lines) + "\n```\n"


def openapi_markdown(spec: Mapping[str, Any]) -> str:
    """The REST API reference: every operation (grouped by tag) with parameters and responses, then every schema."""
    info = spec.get("info", {})
    parts = [
        "# REST API",
        "",
        f"*Generated at build time from the OpenAPI {spec.get('openapi', '3')} spec of {info.get('title', 'the API')} "
        f"{info.get('version', '')}* — the same spec the server publishes at `/api/openapi.json` (interactive docs at "
        "`/api/docs`) and `movie-genie openapi` prints; the web app's typed client is generated from it too.",
        "",
        str(info.get("description", "")),
        "",
    ]
    parts.append(curl_examples(spec))
    paths: Mapping[str, Any] = spec.get("paths", {})
    tags = [t["name"] for t in spec.get("tags", [])]
    tag_text = {t["name"]: t.get("description", "") for t in spec.get("tags", [])}
    operations: list[tuple[str, str, str, Mapping[str, Any]]] = []
    for path, item in paths.items():
        for method in _METHODS:
            if method in item:
                op = item[method]
                tag = (op.get("tags") or ["other"])[0]
                if tag not in tags:
                    tags.append(tag)
                operations.append((tag, path, method, op))

    parts += ["## Endpoints", "", "| method | path | what it does |", "| --- | --- | --- |"]
    for tag in tags:
        for t, path, method, op in operations:
            if t == tag:
                anchor = f"op-{op.get('operationId', method + path).lower().replace('_', '-')}"
                parts.append(f"| `{method.upper()}` | [`{path}`](#{anchor}) | {table_cell(op.get('summary', ''))} |")
    parts.append("")

    for tag in tags:
        ops = [(p, m, o) for t, p, m, o in operations if t == tag]
        if not ops:
            continue
        parts += [f"## {tag.capitalize()} {{#tag-{tag}}}", "", tag_text.get(tag, ""), ""]
        for path, method, op in ops:
            anchor = f"op-{op.get('operationId', method + path).lower().replace('_', '-')}"
            parts += [f"### `{method.upper()} {path}` {{#{anchor}}}", "", op.get("summary", ""), ""]
            if op.get("description"):
                parts += [op["description"], ""]
            params = op.get("parameters", [])
            if params:
                parts += ["| parameter | in | type | required | default | constraints | description |"]
                parts += ["| --- | --- | --- | --- | --- | --- | --- |"]
                for p in params:
                    schema = p.get("schema", {})
                    parts.append(
                        f"| `{p['name']}` | {p.get('in', '')} | {schema_type(schema)} | "
                        f"{'yes' if p.get('required') else 'no'} | {_default(schema)} | {_constraints(schema)} | "
                        f"{table_cell(p.get('description', schema.get('description', '')))} |"
                    )
                parts.append("")
            body = op.get("requestBody")
            if body:
                for media, content in body.get("content", {}).items():
                    parts += [f"**Request body** (`{media}`): {schema_type(content.get('schema', {}))}", ""]
            parts += ["| status | meaning | body |", "| --- | --- | --- |"]
            for status in sorted(op.get("responses", {})):
                response = op["responses"][status]
                bodies = [schema_type(c.get("schema", {})) for c in response.get("content", {}).values()]
                meaning = table_cell(response.get("description", ""))
                parts.append(f"| {status} | {meaning} | {', '.join(bodies) or '-'} |")
            parts.append("")

    schemas: Mapping[str, Any] = spec.get("components", {}).get("schemas", {})
    if schemas:
        parts += ["## Schemas", ""]
        for name in sorted(schemas):
            schema = schemas[name]
            parts += [f"### {name} {{#{_schema_anchor(name)}}}", "", table_cell(schema.get("description", "")), ""]
            props: Mapping[str, Any] = schema.get("properties", {})
            required = set(schema.get("required", []))
            if props:
                parts += ["| field | type | required | default | constraints | description |"]
                parts += ["| --- | --- | --- | --- | --- | --- |"]
                for field_name, prop in props.items():
                    parts.append(
                        f"| `{field_name}` | {schema_type(prop)} | {'yes' if field_name in required else 'no'} | "
                        f"{_default(prop)} | {_constraints(prop)} | {table_cell(prop.get('description', ''))} |"
                    )
                parts.append("")
            elif "enum" in schema or "type" in schema:
                parts += [f"Type: {schema_type(schema)}", ""]
    return "\n".join(parts)
