"""KFP 2.17.0 API server rules that do not depend on the HTTP plumbing.

Every rule cites the upstream file and line at tag 2.17.0 (commit
4a3592cb2dd0a91a4652ab93893ec8beda1f3158); paths are relative to the repository root.
"""

from __future__ import annotations

import base64
import gzip
import io
import ipaddress
import json
import posixpath
import re
import tarfile
import zipfile
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote_plus, urlsplit

import yaml
from google.protobuf import json_format
from kfp.pipeline_spec import pipeline_spec_pb2

# --- errors -------------------------------------------------------------------------

# gRPC codes (google.golang.org/grpc/codes).
INVALID_ARGUMENT, NOT_FOUND, ALREADY_EXISTS, PERMISSION_DENIED = 3, 5, 6, 7
UNAUTHENTICATED, INTERNAL, ABORTED, UNIMPLEMENTED = 16, 13, 10, 12

# HTTPStatusFromCode (grpc-gateway v2.28.0 runtime/errors.go:36-76, the version in KFP's
# go.mod:29).
HTTP_STATUS = {
    0: 200,
    1: 499,
    2: 500,
    INVALID_ARGUMENT: 400,
    4: 504,
    NOT_FOUND: 404,
    ALREADY_EXISTS: 409,
    PERMISSION_DENIED: 403,
    UNAUTHENTICATED: 401,
    8: 429,
    9: 400,
    ABORTED: 409,
    11: 400,
    UNIMPLEMENTED: 501,
    INTERNAL: 500,
    14: 503,
    15: 500,
}


@dataclass
class ApiError(Exception):
    """util.UserError (backend/src/common/util/error.go).

    ``internal`` is the wrapped chain (errors.Wrap "outer: inner"); ``external`` is the
    user-facing message. The gateway body is google.rpc.Status: {code, message (the
    internal chain), details: [Status{code, external message}]} (UserError.GRPCStatus,
    error.go:295-309, converted by ToGRPCError, error.go:375-400, in the interceptor
    backend/src/apiserver/interceptor.go).
    """

    code: int
    external: str
    internal: str = ""
    chain: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.internal = self.internal or self.external

    def wrap(self, message: str) -> ApiError:
        self.chain.insert(0, message)
        return self

    @property
    def message(self) -> str:
        return ": ".join([*self.chain, self.internal])

    @property
    def status(self) -> int:
        return HTTP_STATUS.get(self.code, 500)

    def body(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "message": self.message,
            "details": [
                {
                    "@type": "type.googleapis.com/google.rpc.Status",
                    "code": self.code,
                    "message": self.external,
                }
            ],
        }


def invalid(message: str) -> ApiError:
    """util.NewInvalidInputError (error.go:183-186)."""
    return ApiError(INVALID_ARGUMENT, message, f"Invalid input error: {message}")


def already_exists(message: str) -> ApiError:
    """util.NewAlreadyExistError (error.go:195-198)."""
    return ApiError(ALREADY_EXISTS, message, f"Already exist error: {message}")


def not_found(kind: str, ident: str) -> ApiError:
    """util.NewResourceNotFoundError (error.go:167-173), as the stores return it."""
    message = f"{kind} {ident} not found"
    return ApiError(NOT_FOUND, message, f"ResourceNotFoundError: {message}")


def internal(message: str) -> ApiError:
    """util.NewInternalServerError (error.go:139-147): external message is fixed."""
    return ApiError(INTERNAL, "Internal Server Error", f"InternalServerError: {message}")


# --- lengths and names -----------------------------------------------------------------

# LengthSpecs (backend/src/apiserver/validation/length.go:37-69).
MAX_LENGTH = {
    ("Pipeline", "Name"): 128,
    ("Pipeline", "Namespace"): 63,
    ("PipelineVersion", "Name"): 127,
    ("Experiment", "Name"): 128,
    ("Experiment", "Namespace"): 63,
}


def check_length(model: str, field_name: str, value: str) -> None:
    """ValidateFieldLength (validation/length.go:91-104)."""
    limit = MAX_LENGTH[(model, field_name)]
    if len(value) > limit:
        raise invalid(f"{model}.{field_name} length cannot exceed {limit}")


# pipelineNamePattern (backend/src/apiserver/common/utils.go:35).
PIPELINE_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,127}$")


def validate_pipeline_name(name: str) -> None:
    """ValidatePipelineName for the spec's pipelineInfo.name (common/utils.go:110-124)."""
    if not name:
        raise invalid("pipeline's name cannot be empty")
    if len(name) > 128:
        raise invalid("pipeline's name must contain no more than 128 characters")
    if not PIPELINE_NAME.match(name):
        raise invalid(
            "pipeline's name must contain only lowercase alphanumeric characters or '-' "
            "and must start with alphanumeric characters"
        )


def validate_tags(tags: dict[str, str] | None) -> None:
    """model.ValidateTags (backend/src/apiserver/model/pipeline_tags.go:37-56, limits :27-34)."""
    tags = tags or {}
    if len(tags) > 20:
        raise invalid(f"number of tags ({len(tags)}) exceeds maximum of 20 per entity")
    for key, value in tags.items():
        if key == "":
            raise invalid("tag key cannot be empty")
        if "." in key:
            raise invalid(f"tag key {key!r} must not contain '.' character")
        if len(key) > 63:
            raise invalid(f"tag key {key!r} exceeds maximum length of 63 characters")
        if len(value) > 63:
            raise invalid(f"tag value {value!r} for key {key!r} exceeds maximum length of 63 characters")


def build_pipeline_name(name: str, display_name: str, file_name: str) -> str:
    """buildPipelineName (backend/src/apiserver/server/pipeline_server.go:1320-1330)."""
    return name or display_name or file_name


# --- pipeline URLs --------------------------------------------------------------------

# defaultAllowedDomains (backend/src/apiserver/validation/pipeline_url.go:34-39).
DEFAULT_ALLOWED_DOMAINS = (
    "storage.googleapis.com",
    "s3.amazonaws.com",
    "github.com",
    "raw.githubusercontent.com",
)
# blockedCIDRs (pipeline_url.go:42-64).
BLOCKED_CIDRS = tuple(
    ipaddress.ip_network(c)
    for c in (
        "127.0.0.0/8",
        "::1/128",
        "10.0.0.0/8",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "fc00::/7",
        "169.254.0.0/16",
        "fe80::/10",
        "169.254.169.254/32",
        "fd00:ec2::254/128",
        "0.0.0.0/8",
        "::/128",
    )
)


def parse_request_uri(raw: str) -> bool:
    """Go url.ParseRequestURI: an absolute URI or an absolute path, no fragment handling."""
    if not raw:
        return False
    if raw.startswith("/"):
        return True
    parts = urlsplit(raw)
    return bool(parts.scheme) and re.match(r"^[A-Za-z][A-Za-z0-9+.-]*$", parts.scheme) is not None


def validate_pipeline_url(raw: str, allowed: tuple[str, ...], dns: dict[str, str]) -> None:
    """ValidatePipelineURL (backend/src/apiserver/validation/pipeline_url.go:114-156).

    ``dns`` maps host names to the address they resolve to (validateResolvedIPs,
    pipeline_url.go:169-184); a host missing from it fails resolution.
    """
    if not parse_request_uri(raw):
        raise invalid(f"invalid URL: parse {raw!r}: invalid URI for request")  # :122-125
    parts = urlsplit(raw)
    if parts.scheme != "https":  # :128-131 (PIPELINE_URL_ALLOW_HTTP defaults to false)
        raise invalid(f"URL scheme {parts.scheme!r} not allowed, use https")
    try:
        port = parts.port
    except ValueError:
        port = -1
    if port is not None and port != 443:  # :134-142
        raise invalid(f"HTTPS requires port 443, got {str(port)!r}")
    host = (parts.hostname or "").rstrip(".").lower()  # :145
    patterns = [re.compile("^" + re.escape(d).replace(r"\*", ".*") + "$") for d in allowed]  # :101-108
    if not any(p.match(host) for p in patterns):  # :146-148
        raise invalid(f"URL domain {host!r} not in allowlist")
    address = dns.get(host)
    if address is None:  # :173-176
        raise invalid(f"DNS resolution failed for {host!r}: no such host")
    ip = ipaddress.ip_address(address)
    if any(ip in net for net in BLOCKED_CIDRS if net.version == ip.version):  # :178-182
        raise invalid(f"URL resolves to blocked IP range: {address}")


# --- pipeline files -------------------------------------------------------------------

MAX_FILE_LENGTH = 32 << 20  # common.MaxFileLength (backend/src/apiserver/common/const.go:67)


def read_pipeline_file(file_name: str, data: bytes, max_length: int = MAX_FILE_LENGTH) -> bytes:
    """ReadPipelineFile (backend/src/apiserver/server/util.go:154-178).

    The format comes from the *file name* (.yaml/.yml/.json) or, failing that, from the
    zip / gzip magic bytes; anything else is refused. No YAML parsing here.
    """
    if len(data) > max_length:  # loadFile (util.go:46-52)
        raise invalid(
            f"File size too large ({len(data)} bytes). Maximum supported size: {max_length}. Consider "
            "moving large embedded artifacts or notebooks or Python code into a container image or "
            "object store."
        )
    if file_name.endswith((".yaml", ".yml", ".json")):  # util.go:163-166 (isYamlFile, isJSONFile)
        return data
    if len(data) > 2 and data[:2] == b"PK":  # util.go:167-168, DecompressPipelineZip :121-152
        try:
            archive = zipfile.ZipFile(io.BytesIO(data))
        except zipfile.BadZipFile as exc:
            raise invalid("Error extracting pipeline from the zip file. Not a valid zip file") from exc
        names = archive.namelist()
        if not names:
            raise invalid("Error extracting pipeline from the zip file. Empty zip file")
        chosen = "pipeline.yaml" if "pipeline.yaml" in names else names[0]
        if not chosen.endswith((".yaml", ".yml")):
            raise invalid(
                "Error extracting pipeline from the zip file. Expecting a pipeline.yaml file inside "
                f"the zip. Got: {chosen}"
            )
        return archive.read(chosen)
    if len(data) > 2 and data[:2] == b"\x1f\x8b":  # util.go:169-170, DecompressPipelineTarball :76-119
        try:
            with tarfile.open(fileobj=io.BytesIO(gzip.decompress(data))) as tar:
                members = [m for m in tar.getmembers() if m.isfile()]
                member = next((m for m in members if m.name == "pipeline.yaml"), None)
                if member is None:
                    if not members or not members[0].name.endswith((".yaml", ".yml")):
                        got = members[0].name if members else ""
                        raise invalid(
                            "Error extracting pipeline from the tarball file. Expecting a pipeline.yaml "
                            f"file inside the tarball. Got: {got}"
                        )
                    member = members[0]
                handle = tar.extractfile(member)
                return handle.read() if handle else b""
        except (OSError, tarfile.TarError) as exc:
            raise invalid(
                "Error extracting pipeline from the tarball file. Not a valid tarball file"
            ) from exc
    raise invalid("Unexpected pipeline file format. Support .zip, .tar.gz, .json or YAML")  # util.go:171-172


@dataclass
class Template:
    """A parsed v2 template (template.V2Spec)."""

    spec: dict[str, Any]  # the PipelineSpec as protojson.Marshal writes it (lowerCamelCase)
    platform: dict[str, Any] | None

    @property
    def name(self) -> str:
        return str(self.spec.get("pipelineInfo", {}).get("name", ""))

    def api_struct(self) -> dict[str, Any]:
        """What GET/upload return as ``pipeline_spec``.

        The server stores V2Spec.Bytes() - the spec re-marshalled by protojson (so
        lowerCamelCase keys, defaults dropped) plus "\\n---\\n" and the platform spec
        (backend/src/apiserver/template/v2_template.go:267-296) - and converts it back
        with YamlStringToPipelineSpecStruct (backend/src/apiserver/server/api_util.go:169-215):
        the bare pipeline spec, or {"pipeline_spec": ..., "platform_spec": ...} when a
        platform spec is present.
        """
        if self.platform is None:
            return self.spec
        return {"pipeline_spec": self.spec, "platform_spec": self.platform}


def _is_pipeline_spec(doc: dict[str, Any]) -> bool:
    """isPipelineSpec (backend/src/apiserver/template/template.go:107-115)."""
    try:
        spec = json_format.ParseDict(doc, pipeline_spec_pb2.PipelineSpec())
    except (json_format.ParseError, TypeError, ValueError):
        return False
    return bool(spec.pipeline_info.name) and spec.HasField("root")


def _is_platform_spec(doc: dict[str, Any]) -> bool:
    """IsPlatformSpecWithKubernetesConfig (template/v2_template.go:428-440)."""
    try:
        platform = json_format.ParseDict(doc, pipeline_spec_pb2.PlatformSpec())
    except (json_format.ParseError, TypeError, ValueError):
        return False
    return "kubernetes" in platform.platforms


def parse_template(data: bytes) -> Template:
    """template.New for a v2 spec (template/template.go:154-164, v2_template.go:195-265).

    YAML with one pipeline spec document and optionally one Kubernetes platform spec
    document; protojson parsing of the PipelineSpec is strict (unknown fields refused).
    Argo (v1) workflows are out of scope for the fake and refused like an unknown format.
    """
    try:
        docs = [d for d in yaml.safe_load_all(data.decode()) if d is not None]
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise invalid(f"unable to decode yaml document: {exc}") from exc  # v2_template.go:206-208
    if not any(isinstance(d, dict) and _is_pipeline_spec(d) for d in docs):
        # inferTemplateFormat -> Unknown (template.go:62-73, 160-162)
        raise ApiError(
            INVALID_ARGUMENT,
            "unknown template format",
            "InvalidInputError: unknown template format: invalid pipeline spec",
        )
    spec: dict[str, Any] | None = None
    platform: dict[str, Any] | None = None
    for doc in docs:
        if not isinstance(doc, dict):
            continue
        if _is_pipeline_spec(doc):
            if spec is not None:  # v2_template.go:218-220
                raise invalid("multiple pipeline specs provided")
            message = json_format.ParseDict(doc, pipeline_spec_pb2.PipelineSpec())
            if message.schema_version != "2.1.0":  # v2_template.go:230-232
                raise invalid(
                    "KFP only supports schema version 2.1.0, but the pipeline spec has version "
                    f"{message.schema_version}"
                )
            # v2_template.go:236-239: regexp.MatchString without anchors (any a-z0-9 passes).
            if not re.search(
                r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*", message.pipeline_info.name
            ):
                raise invalid(
                    "invalid v2 pipeline spec: name should consist of lower case alphanumeric "
                    "characters, '-' or '.', and must start and end with an alphanumeric character"
                )
            spec = json_format.MessageToDict(message)  # protojson.Marshal (v2_template.go:271)
        elif _is_platform_spec(doc):
            if platform is not None:  # v2_template.go:246-248
                raise invalid("multiple platform specs provided")
            platform = json_format.MessageToDict(json_format.ParseDict(doc, pipeline_spec_pb2.PlatformSpec()))
    assert spec is not None
    return Template(spec, platform)


# --- listing ------------------------------------------------------------------------

DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE = 20, 200  # list_request_util.go:36-37, list/list.go:483-484

# APIToModelFieldMap per listable (backend/src/apiserver/model/*.go).
FIELDS = {
    # model/pipeline.go:78-86
    "pipelines": {
        "id": "pipeline_id",
        "pipeline_id": "pipeline_id",
        "name": "name",
        "display_name": "display_name",
        "created_at": "created_at",
        "description": "description",
        "namespace": "namespace",
    },
    # model/pipeline_version.go:78-89
    "pipeline_versions": {
        "id": "pipeline_version_id",
        "pipeline_version_id": "pipeline_version_id",
        "name": "name",
        "display_name": "display_name",
        "created_at": "created_at",
        "status": "status",
        "description": "description",
        "pipeline_spec": "pipeline_spec",
    },
    # model/experiment.go:54-64 ("name" and "display_name" are both the experiment name)
    "experiments": {
        "id": "experiment_id",
        "experiment_id": "experiment_id",
        "name": "display_name",
        "display_name": "display_name",
        "created_at": "created_at",
        "last_run_created_at": "last_run_created_at",
        "description": "description",
        "namespace": "namespace",
        "storage_state": "storage_state",
    },
    # model/job.go:217-225
    "jobs": {
        "id": "recurring_run_id",
        "recurring_run_id": "recurring_run_id",
        "name": "display_name",
        "display_name": "display_name",
        "created_at": "created_at",
        "updated_at": "updated_at",
        "description": "description",
    },
    # model/run.go:370-387
    "runs": {
        "run_id": "run_id",
        "id": "run_id",
        "display_name": "display_name",
        "name": "display_name",
        "created_at": "created_at",
        "finished_at": "finished_at",
        "description": "description",
        "scheduled_at": "scheduled_at",
        "storage_state": "storage_state",
        "status": "state",
        "namespace": "namespace",
        "experiment_id": "experiment_id",
        "state": "state",
        "recurring_run_id": "recurring_run_id",
    },
}
KEY_FIELD = {
    "pipelines": "pipeline_id",
    "pipeline_versions": "pipeline_version_id",
    "experiments": "experiment_id",
    "jobs": "recurring_run_id",
    "runs": "run_id",
}

# Predicate.Operation (backend/api/v2beta1/filter.proto:84-114).
OPERATIONS = {
    "OPERATION_UNSPECIFIED": 0,
    "EQUALS": 1,
    "NOT_EQUALS": 2,
    "GREATER_THAN": 3,
    "GREATER_THAN_EQUALS": 5,
    "LESS_THAN": 6,
    "LESS_THAN_EQUALS": 7,
    "IN": 8,
    "IS_SUBSTRING": 9,
}
_VALUE_KEYS = {
    "int_value": "intValue",
    "long_value": "longValue",
    "string_value": "stringValue",
    "timestamp_value": "timestampValue",
    "int_values": "intValues",
    "long_values": "longValues",
    "string_values": "stringValues",
}


@dataclass(frozen=True)
class Predicate:
    operation: str
    key: str  # the API key as given
    value: Any


def parse_filter(encoded: str) -> list[Predicate]:
    """parseAPIFilter + filter.New (list_request_util.go:139-170, filter/filter.go).

    The gateway has already URL-decoded the query parameter once; the server decodes it
    again with url.QueryUnescape (list_request_util.go:143), so a literal '+' in a value
    becomes a space and a stray '%' is an error. JSON is parsed with protojson into
    v2beta1.Filter (:157): unknown fields refused, proto and JSON names both accepted,
    the enum by name or number, one value per predicate (oneof).
    """
    if not encoded:
        return []
    if re.search(r"%(?![0-9A-Fa-f]{2})", encoded):
        raise invalid(f"failed to parse valid filter from {encoded!r}: invalid URL escape")
    decoded = unquote_plus(encoded)
    try:
        raw = json.loads(decoded)
    except json.JSONDecodeError as exc:
        raise invalid(f"failed to parse valid filter from {encoded!r}: {exc}") from exc
    if not isinstance(raw, dict) or set(raw) - {"predicates"}:
        raise invalid(f"failed to parse valid filter from {encoded!r}: unknown field")
    out = []
    for p in raw.get("predicates") or []:
        if not isinstance(p, dict):
            raise invalid(f"failed to parse valid filter from {encoded!r}")
        allowed = {"operation", "key", *_VALUE_KEYS, *_VALUE_KEYS.values()}
        if set(p) - allowed:
            unknown = sorted(set(p) - allowed)[0]
            raise invalid(f"failed to parse valid filter from {encoded!r}: unknown field {unknown!r}")
        values = [k for k in p if k not in ("operation", "key")]
        if len(values) > 1:  # protojson: oneof value set twice
            raise invalid(f"failed to parse valid filter from {encoded!r}: oneof value is already set")
        op = p.get("operation", 0)
        names = {v: k for k, v in OPERATIONS.items()}
        if isinstance(op, int) and not isinstance(op, bool):
            op = names.get(op, op)  # protojson keeps unknown enum numbers
        if op not in OPERATIONS and not isinstance(op, int):
            raise invalid(
                f"failed to parse valid filter from {encoded!r}: invalid value for enum field operation"
            )
        if op in ("OPERATION_UNSPECIFIED", 0) or isinstance(op, int):
            # toOperation has no case for it: UnknownApiVersionError (filter/filter.go:506-527)
            raise invalid(f"Error using Filter.Predicate.Operation with {op}")
        value: Any = None
        if values:
            value_key = values[0]
            value = p[value_key]
            if value_key in (
                "int_values",
                "intValues",
                "long_values",
                "longValues",
                "string_values",
                "stringValues",
            ):
                value = list((value or {}).get("values", []))
        key = p.get("key", "")
        if not key:  # filter/filter.go:496-498
            raise invalid(f"Predicate key cannot be empty for operation {op} and value {value}")
        pred = Predicate(op, key, value)
        _check_predicate(pred)
        out.append(pred)
    return out


def _check_predicate(p: Predicate) -> None:
    """checkPredicate (filter/filter.go:377-401)."""
    if p.operation == "IN" and not isinstance(p.value, list):
        raise invalid(f"cannot use IN operator with scalar type {type(p.value).__name__}")
    if p.operation in (
        "EQUALS",
        "NOT_EQUALS",
        "GREATER_THAN",
        "GREATER_THAN_EQUALS",
        "LESS_THAN",
        "LESS_THAN_EQUALS",
    ) and isinstance(p.value, list):
        raise invalid(f"cannot use scalar operator {p.operation} on array type")
    if p.operation == "IS_SUBSTRING" and not isinstance(p.value, str):
        raise invalid(f"cannot use non string value type with operator {p.operation}")


def matches(item: dict[str, Any], predicates: list[Predicate], fields: dict[str, str]) -> bool:
    for p in predicates:
        if p.key not in fields:  # filter.ReplaceKeys (filter/filter.go:221)
            raise invalid(f"no support for filtering on unrecognized field {p.key!r}")
        have = item.get(fields[p.key], "")
        ok = {
            "EQUALS": lambda a, b: a == b,
            "NOT_EQUALS": lambda a, b: a != b,
            "GREATER_THAN": lambda a, b: a > b,
            "GREATER_THAN_EQUALS": lambda a, b: a >= b,
            "LESS_THAN": lambda a, b: a < b,
            "LESS_THAN_EQUALS": lambda a, b: a <= b,
            "IN": lambda a, b: a in b,
            "IS_SUBSTRING": lambda a, b: str(b) in str(a),
        }[p.operation]
        try:
            if not ok(have, p.value):
                return False
        except TypeError:
            return False
    return True


def validate_predicate_keys(predicates: list[Predicate], fields: dict[str, str]) -> None:
    for p in predicates:
        if p.key not in fields:  # filter.ReplaceKeys (filter/filter.go:221)
            raise invalid(f"no support for filtering on unrecognized field {p.key!r}")


def parse_sort_by(sort_by: str, fields: dict[str, str]) -> tuple[str, bool]:
    """list.NewOptions sorting (backend/src/apiserver/list/list.go:242-266).

    Case-insensitive "field", "field asc" or "field desc"; default created_at ascending.
    """
    words = sort_by.lower().split()
    if len(words) > 2 or (len(words) == 2 and words[1] not in ("asc", "desc")):
        raise invalid(
            f'Received invalid sort by format {sort_by!r}. Supported format: "field_name", '
            '"field_name desc", or "field_name asc"'
        )
    if words and words[0] not in fields:
        raise invalid(f"Invalid sorting field: {words[0]!r}")
    return (fields[words[0]] if words else "created_at"), (len(words) == 2 and words[1] == "desc")


def page_size(raw: str | None) -> int:
    """validatePageSize (list/list.go:489-500): negative refused, 0 -> 20, capped at 200."""
    size = int(raw or 0)
    if size < 0:
        raise invalid(f"The page size should be greater than 0. Got {size}")
    return DEFAULT_PAGE_SIZE if size == 0 else min(size, MAX_PAGE_SIZE)


def encode_token(payload: dict[str, Any]) -> str:
    """token.marshal: base64 of JSON (list/list.go:176-183); opaque to clients."""
    return base64.b64encode(json.dumps(payload, sort_keys=True).encode()).decode()


def decode_token(token: str) -> dict[str, Any]:
    """token.unmarshal (list/list.go:114-126): bad base64 or JSON -> InvalidArgument."""
    try:
        payload = json.loads(base64.b64decode(token, validate=True))
    except (ValueError, json.JSONDecodeError) as exc:
        raise ApiError(
            INVALID_ARGUMENT, "Invalid page token", f"InvalidInputError: Invalid page token: {exc}"
        ) from exc
    if not isinstance(payload, dict) or "offset" not in payload:
        raise ApiError(INVALID_ARGUMENT, "Invalid page token", "InvalidInputError: Invalid page token")
    return payload


def posix_base(url: str) -> str:
    """path.Base of the URL string, as pipeline_server.go:166 and :816 compute the file name."""
    return posixpath.basename(url.rstrip("/")) or "."
