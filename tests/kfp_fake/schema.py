"""Request validation against the vendored KFP 2.17.0 swagger (tests/kfp_api).

Every JSON body is validated with ``jsonschema`` against the operation's body schema,
with ``additionalProperties: false`` added to every object schema that lists its
properties, so a field the API does not define is a violation. Query parameters must
be declared by the operation. Fields the swagger documents as output-only are
violations too (the server ignores them, so sending them is a client bug).

What the real server does with the same mistakes (so the fake can tell which
violations the real server also refuses):

- Unknown JSON fields: refused. grpc-gateway unmarshals bodies with
  ``protojson.UnmarshalOptions{DiscardUnknown: false}``
  (upstream: backend/src/apiserver/common/utils.go:161-165, installed by
  backend/src/apiserver/main.go:405-407) -> InvalidArgument -> HTTP 400.
  protojson also accepts the lowerCamelCase JSON name of every field, so
  ``displayName`` is accepted by the real server; the fake records it as a violation
  (the swagger spells ``display_name``) but does not force a 400 for it.
- Unknown query parameters: ignored by grpc-gateway
  (grpc-gateway v2.28.0 runtime/query.go:119-125, "could just be an extra query
  parameter"). The fake records them as violations.
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema

SWAGGER_PATH = Path(__file__).resolve().parents[1] / "kfp_api" / "kfp_api_single_file.swagger.json"

# RFC 3339 with a mandatory zone, as protojson parses google.protobuf.Timestamp
# (a naive ``datetime.isoformat()`` without offset is refused by the real server).
_RFC3339 = r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$"


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


@cache
def swagger() -> dict[str, Any]:
    return json.loads(SWAGGER_PATH.read_text())


def _strict(schema: Any) -> Any:
    """A copy of a swagger schema that refuses unknown fields and accepts protojson spellings."""
    if isinstance(schema, list):
        return [_strict(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: _strict(v) for k, v in schema.items()}
    if "properties" in out and "additionalProperties" not in out:
        out["additionalProperties"] = False
    if out.get("type") == "string" and out.get("format") in ("int64", "uint64"):
        # protojson accepts a 64-bit integer as a JSON number or a decimal string.
        return {"anyOf": [{"type": "integer"}, {"type": "string", "pattern": r"^-?[0-9]+$"}]}
    if out.get("type") == "string" and out.get("format") == "date-time":
        out.pop("format")
        out["pattern"] = _RFC3339
    if out.get("type") == "string" and "enum" in out:
        # protojson accepts an enum by name or by number.
        return {"anyOf": [{"type": "string", "enum": out["enum"]}, {"type": "integer"}]}
    if out.get("type") == "integer" and out.get("format") == "int32":
        return {"anyOf": [{"type": "integer"}, {"type": "string", "pattern": r"^-?[0-9]+$"}]}
    return out


@cache
def _definitions() -> dict[str, Any]:
    return {name: _strict(d) for name, d in swagger()["definitions"].items()}


def _output_only(definition: dict[str, Any]) -> set[str]:
    """Properties the swagger documents as output-only (``readOnly`` or "Output..." text)."""
    found = set()
    for name, prop in definition.get("properties", {}).items():
        text = (prop.get("description") or prop.get("title") or "").lstrip()
        if prop.get("readOnly") or text.startswith("Output") or name == "error":
            found.add(name)
    return found


@dataclass(frozen=True)
class Operation:
    method: str
    template: str
    operation_id: str
    params: tuple[dict[str, Any], ...]
    regex: re.Pattern[str]

    def path_params(self, path: str) -> dict[str, str]:
        match = self.regex.match(path)
        return dict(match.groupdict()) if match else {}

    def query_params(self) -> dict[str, dict[str, Any]]:
        return {p["name"]: p for p in self.params if p["in"] == "query"}

    def body_schema(self) -> dict[str, Any] | None:
        for p in self.params:
            if p["in"] == "body":
                return p["schema"]
        return None


def _regex(template: str) -> re.Pattern[str]:
    out, pos = "", 0
    for m in re.finditer(r"\{([^}]+)\}", template):
        out += re.escape(template[pos : m.start()])
        out += f"(?P<{m.group(1).replace('.', '__')}>[^/:]+)"
        pos = m.end()
    out += re.escape(template[pos:])
    return re.compile("^" + out + "$")


@cache
def operations() -> tuple[Operation, ...]:
    ops = []
    for template, methods in swagger()["paths"].items():
        for method, op in methods.items():
            ops.append(
                Operation(
                    method.upper(),
                    template,
                    op.get("operationId", ""),
                    tuple(op.get("parameters", [])),
                    _regex(template),
                )
            )
    # Literal paths first (``/pipelines/upload`` before ``/pipelines/{pipeline_id}``).
    ops.sort(key=lambda o: o.template.count("{"))
    return tuple(ops)


def find_operation(method: str, path: str) -> Operation | None:
    for op in operations():
        if op.method == method and op.regex.match(path):
            return op
    return None


@dataclass
class Violation:
    message: str
    upstream_refuses: bool  # the real server would answer 400 as well


def _walk_output_only(instance: Any, schema: dict[str, Any], where: str, found: list[str]) -> None:
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        definition = swagger()["definitions"][name]
        if isinstance(instance, dict):
            for key in sorted(_output_only(definition) & set(instance)):
                found.append(f"{where}{key} is output-only ({name}.{key}); the server ignores it")
        _walk_output_only(instance, definition, where, found)
        return
    if isinstance(instance, dict):
        for key, prop in schema.get("properties", {}).items():
            if key in instance and isinstance(prop, dict):
                _walk_output_only(instance[key], prop, f"{where}{key}.", found)


def check_body(op: Operation, body: Any) -> list[Violation]:
    """Violations of one JSON body against the operation's swagger schema."""
    schema = op.body_schema()
    if schema is None:
        return [] if body in (None, {}) else [Violation(f"{op.operation_id} takes no body", False)]
    root = {"definitions": _definitions(), **_strict(schema)}
    validator = jsonschema.Draft4Validator(root)
    out: list[Violation] = []
    for error in sorted(validator.iter_errors(body), key=lambda e: list(e.absolute_path)):
        where = ".".join(str(p) for p in error.absolute_path) or "<body>"
        refuses = True
        if error.validator == "additionalProperties" and isinstance(error.instance, dict):
            known = {_camel(k) for k in error.schema.get("properties", {})}
            extra = set(error.instance) - set(error.schema.get("properties", {}))
            refuses = not extra <= known  # camelCase aliases are accepted by protojson
        out.append(Violation(f"{op.operation_id}: {where}: {error.message}", refuses))
    found: list[str] = []
    _walk_output_only(body, schema, "", found)
    out.extend(Violation(f"{op.operation_id}: {msg}", False) for msg in found)
    return out


def _rename(instance: Any, schema: dict[str, Any]) -> Any:
    if "$ref" in schema:
        return _rename(instance, swagger()["definitions"][schema["$ref"].rsplit("/", 1)[-1]])
    props = schema.get("properties")
    if not isinstance(instance, dict) or not props:
        return instance
    aliases = {_camel(k): k for k in props}
    out = {}
    for key, value in instance.items():
        name = key if key in props else aliases.get(key, key)
        out[name] = _rename(value, props[name]) if name in props else value
    return out


def normalize(op: Operation, body: Any) -> Any:
    """Rename lowerCamelCase JSON names to proto names, as protojson accepts both."""
    schema = op.body_schema()
    return _rename(body, schema) if schema is not None else body


def check_query(op: Operation, query: dict[str, str]) -> list[Violation]:
    declared = op.query_params()
    out = []
    for name, value in query.items():
        param = declared.get(name)
        if param is None:
            out.append(Violation(f"{op.operation_id}: query parameter {name!r} is not defined", False))
            continue
        kind = param.get("type")
        if kind == "integer" and not re.fullmatch(r"-?[0-9]+", value):
            # grpc-gateway fails to parse the value into the int32 field: InvalidArgument.
            out.append(Violation(f"{op.operation_id}: {name}={value!r} is not an integer", True))
        if kind == "boolean" and value not in ("true", "false", "1", "0", "True", "False"):
            out.append(Violation(f"{op.operation_id}: {name}={value!r} is not a boolean", True))
        if "enum" in param and value not in param["enum"]:
            out.append(Violation(f"{op.operation_id}: {name}={value!r} not in {param['enum']}", True))
    return out


def strict_definition(name: str) -> dict[str, Any]:
    """The strict schema of one definition (for tests)."""
    return copy.deepcopy(_definitions()[name])
