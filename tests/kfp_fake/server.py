"""A stand-in KFP 2.17 API server (ml-pipeline) behind a model of Kubeflow's gateway.

Every rule cites upstream Kubeflow Pipelines at tag 2.17.0 (commit
4a3592cb2dd0a91a4652ab93893ec8beda1f3158) as ``# upstream: <file>:<line>``; the pure
rules live in ``rules.py``, the ScheduledWorkflow tick computation in ``scheduler.py``
and the swagger validation in ``schema.py``. Responses use protojson with proto field
names and without unpopulated fields (backend/src/apiserver/common/utils.go:153-167),
e.g. ``created_at`` as RFC 3339 and int64 values as strings.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

from . import rules, schema
from .rules import ApiError, invalid
from .scheduler import Schedule, parse_cron

V2 = "/apis/v2beta1"


def _ts(epoch: float) -> str:
    """google.protobuf.Timestamp in protojson (RFC 3339, UTC, 'Z')."""
    return datetime.fromtimestamp(int(epoch), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _epoch(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00")).timestamp()


def _prune(obj: dict[str, Any]) -> dict[str, Any]:
    """EmitUnpopulated: false (common/utils.go:159): drop empty strings, maps, lists, false."""
    return {k: v for k, v in obj.items() if v not in ("", None, {}, [], False)}


@dataclass
class Request:
    """One request as the fake received it."""

    method: str
    path: str
    query: dict[str, str]
    json: Any = None
    form: dict[str, Any] = field(default_factory=dict)  # multipart: field -> value; "filename" too
    headers: dict[str, str] = field(default_factory=dict)
    status: int = 0  # the status answered (0 while in flight, -1 when the response was dropped)
    user: str | None = None  # identity the gateway forwarded
    reached_server: bool = False  # passed faults and the gateway


@dataclass
class State:
    """What the fake server holds, how it is configured and how it misbehaves."""

    token: str = "good-token"
    namespaces: tuple[str, ...] = ("team-ml",)
    users: dict[str, tuple[str, set[str]]] = field(default_factory=dict)
    multi_user: bool = True
    gateway: str = "istio"  # "istio": Kubeflow's ingress (Istio + oauth2-proxy); "none": direct
    # oauth2-proxy api_routes: tokenless requests on these path prefixes get 401, not 302.
    # kubeflow/manifests common/oauth2-proxy/base/oauth2_proxy.cfg lists "/api/", "/apis/";
    # older set-ups (and this default) redirect every tokenless request to the login page.
    gateway_api_routes: tuple[str, ...] = ()
    login_path: str = "/oauth2/start"  # oauth2-proxy; Dex-only set-ups redirect to /dex/auth
    server_version: str = "2.17.0"
    commit_sha: str = "4a3592cb2dd0a91a4652ab93893ec8beda1f3158"
    pipeline_store: str = "database"
    require_namespace_for_pipelines: bool = False  # REQUIRE_NAMESPACE_FOR_PIPELINES
    pod_namespace: str = "kubeflow"  # POD_NAMESPACE (common/const.go:76)
    allowed_domains: tuple[str, ...] = rules.DEFAULT_ALLOWED_DOMAINS  # + PIPELINE_URL_ALLOWED_DOMAINS
    dns: dict[str, str] = field(default_factory=dict)  # host -> address; default a public address
    package_urls: dict[str, bytes] = field(default_factory=dict)  # "the internet" the server fetches
    strict_schema: bool = True  # answer 400 to every swagger violation, not only those upstream refuses
    pipelines: dict[str, dict[str, Any]] = field(default_factory=dict)
    versions: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    experiments: dict[str, dict[str, Any]] = field(default_factory=dict)
    recurring: dict[str, dict[str, Any]] = field(default_factory=dict)
    runs: dict[str, dict[str, Any]] = field(default_factory=dict)
    schedules: dict[str, Schedule] = field(default_factory=dict)  # recurring_run_id -> SWF
    log: list[Request] = field(default_factory=list)
    faults: list[int] = field(default_factory=list)
    fail_paths: dict[str, int] = field(default_factory=dict)
    delay: float = 0.0
    slow_paths: tuple[str, ...] = ()
    drop_after_commit: list[str] = field(default_factory=list)
    max_page_size: int = 2
    clock: Callable[[], float] = time.time
    controller_lag: float = 0.0
    fired: list[tuple[str, float]] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    lock: threading.RLock = field(default_factory=threading.RLock)

    def __post_init__(self) -> None:
        if not self.users:
            self.users = {self.token: ("user@example.com", set(self.namespaces))}

    def new_id(self) -> str:
        """Opaque UUIDs that sort in creation order (so equal created_at ties are stable)."""
        n = next(self.ids)
        return f"{n:08x}-0000-4000-8000-{n:012x}"

    def uploads(self) -> int:
        """Requests that reached the server and created a pipeline or a version (2xx)."""
        creating = ("/pipelines/upload", "/pipelines/upload_version", "/pipelines/create")
        return sum(
            1
            for r in self.log
            if r.method == "POST"
            and 200 <= r.status < 300
            and (
                r.path.endswith(creating)
                or (r.path.startswith(V2 + "/pipelines/") and r.path.endswith("/versions"))
            )
        )

    def writes(self) -> list[Request]:
        """Every non-GET request that reached the API server (past faults and the gateway)."""
        return [r for r in self.log if r.method != "GET" and r.reached_server]

    def sync(self, now: float) -> None:
        """Run the simulated ScheduledWorkflow controller up to ``now``."""
        with self.lock:
            for rid, sched in self.schedules.items():
                if rid not in self.recurring:
                    continue
                for tick in sched.due(now):
                    self.fired.append((rid, tick))
                    self._record_run(rid, tick)

    def _record_run(self, rid: str, tick: float) -> None:
        job = self.recurring[rid]
        run_id = self.new_id()
        index = sum(1 for r in self.runs.values() if r.get("recurring_run_id") == rid) + 1
        self.runs[run_id] = _prune(
            {
                "run_id": run_id,
                "display_name": f"{job['display_name']}-{index}",  # model of NextResourceName
                "experiment_id": job.get("experiment_id"),
                "recurring_run_id": rid,
                "pipeline_version_reference": job.get("pipeline_version_reference"),
                "runtime_config": job.get("runtime_config"),
                "created_at": _ts(tick),
                "scheduled_at": _ts(tick),
                "state": "PENDING",
                "storage_state": "AVAILABLE",
                "namespace": job.get("namespace"),
            }
        )


# --- the server -----------------------------------------------------------------------


class _Dropped(Exception):
    """The response is to be lost (drop_after_commit)."""


def make_handler(state: State) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:
            pass

        # -- plumbing ------------------------------------------------------------------

        def _send(
            self,
            req: Request,
            status: int,
            body: Any,
            content_type: str = "application/json",
            headers: dict[str, str] | None = None,
        ) -> None:
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            req.status = status
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(data)

        def _handle(self, method: str) -> None:
            url = urlparse(self.path)
            query = {k: v[0] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            ctype = self.headers.get("Content-Type", "")
            req = Request(method, url.path, query, headers={k.lower(): v for k, v in self.headers.items()})
            if raw and "json" in ctype:
                try:
                    req.json = json.loads(raw)
                except json.JSONDecodeError:
                    req.json = raw.decode(errors="replace")
            if ctype.startswith("multipart/form-data"):
                req.form = _parse_multipart(ctype, raw)
            with state.lock:
                state.log.append(req)
                fault = state.faults.pop(0) if state.faults else None
            if state.delay and (not state.slow_paths or url.path.startswith(state.slow_paths)):
                time.sleep(state.delay)
            fault = fault or state.fail_paths.get(url.path)
            if fault:
                return self._send(
                    req, fault, {"code": 14 if fault >= 500 else 3, "message": "injected fault"}
                )
            if self._gateway(req):
                return
            req.reached_server = True
            with state.lock:
                state.sync(state.clock() - state.controller_lag)
                try:
                    status, body, ctype_out = self._route(req, raw)
                except ApiError as err:
                    status, body, ctype_out = err.status, err.body(), "application/json"
                drop = next((s for s in state.drop_after_commit if url.path.endswith(s)), None)
                if drop is not None and 200 <= status < 300:
                    state.drop_after_commit.remove(drop)
                    req.status = -1
                    self.close_connection = True
                    with contextlib.suppress(OSError):
                        self.connection.shutdown(socket.SHUT_RDWR)
                    return None
            return self._send(req, status, body, ctype_out)

        def _gateway(self, req: Request) -> bool:
            """Kubeflow's ingress in front of ml-pipeline; answers here or returns False.

            A model of kubeflow/manifests (common/oauth2-proxy and common/istio): the
            istio-ingressgateway sends every request to oauth2-proxy (envoyExtAuthzHttp);
            without a session or bearer token oauth2-proxy redirects to the login page
            (302) - or answers 401 on its ``api_routes`` (oauth2_proxy.cfg lists "/api/",
            "/apis/"); a bearer JWT that Istio's RequestAuthentication cannot verify is
            refused by Envoy with 401 "Jwt verification fails"
            (common/oauth2-proxy/components/istio-m2m/requestauthentication.yaml,
            .../istio-external-auth/authorizationpolicy.istio-ingressgateway-require-jwt.yaml).
            A verified token reaches ml-pipeline with the user identity (kubeflow-userid).
            With gateway="none" the client talks to ml-pipeline directly: the API server
            itself authenticates the bearer token with a TokenReview or trusts the
            kubeflow-userid header (backend/src/apiserver/auth/authenticator_token_review.go,
            authenticator_http_headers.go), and only where it checks authorization.
            """
            auth = req.headers.get("authorization", "")
            token = auth[len("Bearer ") :] if auth.startswith("Bearer ") else None
            known = state.users.get(token) if token else None
            if state.gateway == "none":
                if known:
                    req.user = known[0]
                elif req.headers.get("kubeflow-userid"):
                    req.user = req.headers["kubeflow-userid"]
                return False
            if not auth:
                if any(req.path.startswith(p) for p in state.gateway_api_routes):
                    self._send(req, 401, b"Unauthorized\n", "text/plain; charset=utf-8")
                else:
                    location = f"{state.login_path}?rd={req.path}"
                    self._send(req, 302, b"", "text/html; charset=utf-8", {"Location": location})
                return True
            if known is None:
                self._send(req, 401, b"Jwt verification fails", "text/plain")
                return True
            req.user = known[0]
            return False

        # -- routing -------------------------------------------------------------------

        def _route(self, req: Request, raw: bytes) -> tuple[int, Any, str]:
            path = req.path
            # main.go:502-512: healthz and the multipart uploads are plain HTTP handlers.
            if path in ("/apis/v1beta1/healthz", V2 + "/healthz"):
                return 200, self._healthz(path.startswith(V2)), "application/json"
            op = schema.find_operation(req.method, path)
            if path in (V2 + "/pipelines/upload", V2 + "/pipelines/upload_version"):
                # gorilla mux HandleFunc with no method restriction (main.go:508-509).
                if op is not None:
                    self._violations(schema.check_query(op, req.query))
                if path.endswith("upload_version"):
                    return self._upload_version(req)
                return self._upload(req)
            if op is None:
                if any(o.regex.match(path) for o in schema.operations()):
                    # DefaultRoutingErrorHandler: 405 -> Unimplemented -> 501
                    # (grpc-gateway v2.28.0 runtime/errors.go:193-200).
                    raise ApiError(rules.UNIMPLEMENTED, "Method Not Allowed")
                raise ApiError(rules.NOT_FOUND, "Not Found")  # errors.go:200-201
            body: Any = None
            if op.body_schema() is not None:
                try:
                    body = json.loads(raw or b"{}")
                except json.JSONDecodeError as exc:
                    raise invalid(f"proto: syntax error: {exc}") from exc
            found = schema.check_query(op, req.query)
            if op.body_schema() is not None:
                found += schema.check_body(op, body)
            self._violations(found)
            body = schema.normalize(op, body)
            handler = getattr(self, "_op_" + op.operation_id.split("_", 1)[-1], None)
            if handler is None:
                raise ApiError(rules.UNIMPLEMENTED, f"fake: {op.operation_id} is not modelled")
            result = handler(req, op.path_params(path), body or {})
            return 200, result, "application/json"

        def _violations(self, found: list[schema.Violation]) -> None:
            if not found:
                return
            state.violations.extend(v.message for v in found)
            if state.strict_schema or any(v.upstream_refuses for v in found):
                raise invalid("; ".join(v.message for v in found))

        def _healthz(self, v2: bool) -> dict[str, Any]:
            """healthzResponse (main.go:465-491); v1beta1 passes pipeline_store "" (:504-506)."""
            body: dict[str, Any] = {
                "commit_sha": state.commit_sha,
                "tag_name": state.server_version,
                "multi_user": state.multi_user,
            }
            if v2:
                body["pipeline_store"] = state.pipeline_store  # omitempty (:469)
            return body

        # -- authorization -------------------------------------------------------------

        def _authorize(self, req: Request, namespace: str, verb: str, resource: str) -> None:
            """ResourceManager.IsAuthorized (backend/src/apiserver/resource/resource_manager.go:2308-2388).

            A SubjectAccessReview for the user; the fake's RBAC is ``State.users``.
            """
            if not state.multi_user:  # :2309-2312
                return
            if req.user is None:  # :2338-2340
                raise ApiError(
                    rules.UNAUTHENTICATED,
                    "Failed to check authorization. User identity is empty in the request header",
                    "Unauthenticated: Failed to check authorization. User identity is empty in "
                    "the request header: Request header error: there is no user identity header.",
                )
            allowed = next((ns for u, ns in state.users.values() if u == req.user), set())
            if namespace not in allowed:  # :2375-2385 -> PermissionDenied -> 403
                message = (
                    f"User '{req.user}' is not authorized with reason:  (request: &ResourceAttributes"
                    f"{{Namespace:{namespace},Verb:{verb},Group:pipelines.kubeflow.org,"
                    f"Version:v1beta1,Resource:{resource}}})"
                )
                raise ApiError(
                    rules.PERMISSION_DENIED, message, f"PermissionDenied: {message}: Unauthorized access"
                )

        def _can_access_pipeline(self, req: Request, namespace: str, verb: str) -> None:
            """canAccessPipeline (backend/src/apiserver/server/pipeline_server.go:1275-1315)."""
            if not state.multi_user:  # :1276-1279
                return
            if namespace in ("", "-"):  # IsEmptyNamespace (resource_manager.go:2448-2453)
                if verb in ("get", "list"):  # :1293-1296 shared pipelines are readable by all
                    return
                # :1297-1305 writes to shared pipelines are checked against POD_NAMESPACE
                self._authorize(req, state.pod_namespace, verb, "pipelines")
                return
            self._authorize(req, namespace, verb, "pipelines")  # :1307-1313

        def _ns(self, namespace: str) -> str:
            """ReplaceNamespace (resource_manager.go:2456-2462): "" in single-user mode."""
            return namespace if state.multi_user else ""

        def _require_ns(self, namespace: str) -> None:
            """ValidateNamespaceRequired (backend/src/apiserver/validation/namespace.go:25-30).

            Only with REQUIRE_NAMESPACE_FOR_PIPELINES=true, which defaults to false
            (backend/src/apiserver/common/config.go:82-84).
            """
            if state.multi_user and state.require_namespace_for_pipelines and namespace == "":
                raise invalid("Namespace is required for pipeline operations")

        # -- pipelines -----------------------------------------------------------------

        def _pipeline(self, pipeline_id: str) -> dict[str, Any]:
            if pipeline_id not in state.pipelines:
                raise rules.not_found("Pipeline", pipeline_id)
            return state.pipelines[pipeline_id]

        def _new_pipeline(
            self, name: str, display: str, description: str, namespace: str, tags: dict[str, str] | None
        ) -> dict[str, Any]:
            # Unique index (Name, Namespace) (backend/src/apiserver/model/pipeline.go:44,54);
            # duplicate -> AlreadyExists (backend/src/apiserver/storage/pipeline_store.go:676-679).
            if any(
                p["name"] == name and p.get("namespace", "") == namespace for p in state.pipelines.values()
            ):
                raise rules.already_exists(
                    f"Failed to create a new pipeline. The name {name} already "
                    f"exists. Please specify a new name"
                )
            pid = state.new_id()
            state.pipelines[pid] = _prune(
                {
                    "pipeline_id": pid,
                    "name": name,
                    "display_name": display or name,
                    "description": description,
                    "created_at": _ts(state.clock()),
                    "namespace": namespace,
                    "tags": tags,
                }
            )
            state.versions[pid] = []
            return state.pipelines[pid]

        def _new_version(
            self,
            pid: str,
            name: str,
            display: str,
            description: str,
            tmpl: rules.Template,
            tags: dict[str, str] | None,
            package_url: str = "",
        ) -> dict[str, Any]:
            # Unique index (PipelineId, Name) (model/pipeline_version.go:37,46); duplicate ->
            # AlreadyExists (storage/pipeline_store.go:964-967).
            if any(v["name"] == name for v in state.versions[pid]):
                raise rules.already_exists(
                    f"Failed to create a new pipeline version. The name {name} "
                    f"already exist. Specify a new name"
                )
            vid = state.new_id()
            version = _prune(
                {
                    "pipeline_id": pid,
                    "pipeline_version_id": vid,
                    "name": name,
                    "display_name": display or name,
                    "description": description,
                    "created_at": _ts(state.clock()),
                    "package_url": {"pipeline_url": package_url} if package_url else None,
                    "pipeline_spec": tmpl.api_struct(),  # toApiPipelineVersion (api_converter.go:547-562)
                    "tags": tags,
                }
            )
            state.versions[pid].append(version)
            return version

        def _template(self, data: bytes) -> rules.Template:
            """template.New + ValidatePipelineName of the spec name.

            upstream: backend/src/apiserver/resource/resource_manager.go:500-513 and :2155-2168
            """
            tmpl = rules.parse_template(data)
            rules.validate_pipeline_name(tmpl.name)
            return tmpl

        def _upload_error(self, status: int, message: str, details: str = "") -> tuple[int, Any, str]:
            """writeErrorToResponse (pipeline_upload_server.go:423-432): an apiv1beta1.Error."""
            return status, {"error_message": message, "error_details": details or message}, "application/json"

        def _upload(self, req: Request) -> tuple[int, Any, str]:
            """uploadPipeline (backend/src/apiserver/server/pipeline_upload_server.go:96-231)."""
            upload = req.form.get("uploadfile")
            if not isinstance(upload, dict):  # :103-108 r.FormFile
                return self._upload_error(400, "Failed to read pipeline from file")
            try:
                data = rules.read_pipeline_file(upload["filename"], upload["content"])  # :111-116
            except ApiError as err:
                return self._upload_error(400, "Failed to read a pipeline spec file", err.message)
            q = req.query
            namespace = q.get("namespace", "")
            try:
                rules.check_length("Pipeline", "Namespace", namespace)  # :118-122
                namespace = self._ns(namespace)  # :123
                self._require_ns(namespace)  # :124-128
            except ApiError as err:
                return 400, (err.internal + "\n").encode(), "text/plain; charset=utf-8"  # http.Error
            if state.multi_user and namespace:  # canUploadVersionedPipeline (:387-421): "" skips authz
                try:
                    self._authorize(req, namespace, "create", "pipelines")
                except ApiError as err:
                    # :133-138 any authorization failure is a 400 "Failed to create a pipeline"
                    return self._upload_error(400, "Failed to create a pipeline", err.message)
            name = rules.build_pipeline_name(
                q.get("name", ""), q.get("display_name", ""), upload["filename"]
            )  # :140-146
            display = q.get("display_name", "") or name
            tags = None
            if q.get("tags"):  # :156-165
                try:
                    tags = json.loads(q["tags"])
                    assert isinstance(tags, dict) and all(isinstance(v, str) for v in tags.values())
                except (json.JSONDecodeError, AssertionError):
                    return self._upload_error(
                        400,
                        "Failed to parse tags query parameter. Expected JSON object "
                        "with string keys and values",
                    )
            try:
                rules.check_length("Pipeline", "Name", name)  # :174-177
            except ApiError as err:
                return 400, (err.internal + "\n").encode(), "text/plain; charset=utf-8"
            try:
                # CreatePipelineAndPipelineVersion (resource_manager.go:474-560); the first
                # version has the pipeline's name, display name and description (:167-172).
                rules.validate_tags(tags)
                tmpl = self._template(data)
                pipeline = self._new_pipeline(name, display, q.get("description", ""), namespace, tags)
                try:
                    self._new_version(
                        pipeline["pipeline_id"], name, display, q.get("description", ""), tmpl, None
                    )
                except ApiError:
                    del state.pipelines[pipeline["pipeline_id"]]  # one DB transaction
                    raise
            except ApiError as err:
                if err.code == rules.ALREADY_EXISTS:  # :183-187
                    return self._upload_error(
                        409, "Failed to create a pipeline and a pipeline version", err.message
                    )
                if err.code == rules.INVALID_ARGUMENT:  # :188-192
                    return self._upload_error(400, err.external, err.message)
                return self._upload_error(
                    500, "Failed to create a pipeline and a pipeline version", err.message
                )
            return 200, pipeline, "application/json"  # toApiPipeline, UseProtoNames (:206-219)

        def _upload_version(self, req: Request) -> tuple[int, Any, str]:
            """uploadPipelineVersion (pipeline_upload_server.go:248-385)."""
            fail = "Failed to create a pipeline version"
            upload = req.form.get("uploadfile")
            if not isinstance(upload, dict):  # :254-259
                return self._upload_error(400, fail)
            try:
                data = rules.read_pipeline_file(upload["filename"], upload["content"])  # :262-267
            except ApiError as err:
                return self._upload_error(400, fail, err.message)
            q = req.query
            pid = q.get("pipelineid", "")
            if not pid:  # :268-273
                return self._upload_error(400, fail)
            name = rules.build_pipeline_name(
                q.get("name", ""), q.get("display_name", ""), upload["filename"]
            )  # :275-282
            display = q.get("display_name", "") or name
            try:
                rules.check_length("PipelineVersion", "Name", name)  # :285-288
            except ApiError as err:
                return 400, (err.internal + "\n").encode(), "text/plain; charset=utf-8"
            if pid not in state.pipelines:  # FetchNamespaceFromPipelineId (:290-295)
                return self._upload_error(400, fail, rules.not_found("Pipeline", pid).message)
            namespace = state.pipelines[pid].get("namespace", "")
            try:
                self._require_ns(namespace)  # :297-301
            except ApiError as err:
                return 400, (err.internal + "\n").encode(), "text/plain; charset=utf-8"
            if state.multi_user and namespace:  # :303-312 (a shared pipeline skips authz, :401-403)
                try:
                    self._authorize(req, namespace, "create", "pipelines")
                except ApiError as err:
                    return self._upload_error(400, fail, err.message)
            tags = None
            if q.get("tags"):  # :316-323
                try:
                    tags = json.loads(q["tags"])
                    assert isinstance(tags, dict)
                except (json.JSONDecodeError, AssertionError):
                    return self._upload_error(
                        400,
                        "Failed to parse tags query parameter. Expected JSON object "
                        "with string keys and values",
                    )
            try:  # CreatePipelineVersion (resource_manager.go:2128-2197)
                tmpl = self._template(data)
                rules.validate_tags(tags)
                version = self._new_version(pid, name, display, q.get("description", ""), tmpl, tags)
            except ApiError as err:
                if err.code == rules.ALREADY_EXISTS:  # :338-342
                    return self._upload_error(409, fail, err.message)
                if err.code == rules.INVALID_ARGUMENT:  # :343-347
                    return self._upload_error(400, err.external, err.message)
                return self._upload_error(500, fail, err.message)
            return 200, version, "application/json"  # toApiPipelineVersion (:353-375)

        def _fetch(self, url: str) -> bytes:
            """The download in createPipelineAndPipelineVersion / createPipelineVersion.

            upstream: pipeline_server.go:201-223 and :793-814; "the internet" is
            ``State.package_urls``.
            """
            try:
                rules.validate_pipeline_url(url, state.allowed_domains, self._dns(url))
            except ApiError as err:
                raise invalid("Pipeline URL validation failed") from err  # :206-209, :798-801
            if url not in state.package_urls:  # :221-223
                raise invalid(f"error fetching pipeline spec from {url} - request returned 404 Not Found")
            return state.package_urls[url]

        def _dns(self, url: str) -> dict[str, str]:
            host = (urlparse(url).hostname or "").rstrip(".").lower()
            return {host: state.dns.get(host, "198.51.100.7"), **state.dns}

        def _op_CreatePipelineAndVersion(self, req: Request, _: dict[str, str], body: dict[str, Any]) -> Any:
            """CreatePipelineAndVersion (pipeline_server.go:740-763, :164-237)."""
            p = body.get("pipeline") or {}
            # toModelPipeline (api_converter.go:193-242): name falls back to display_name.
            name = p.get("name") or p.get("display_name", "")
            display = p.get("display_name") or name
            for fld, value in (("Name", name), ("Namespace", p.get("namespace", ""))):
                try:
                    rules.check_length("Pipeline", fld, value)
                except ApiError as err:  # ValidateModel failure is an InternalServerError (:233-238)
                    raise rules.internal(
                        f"Failed to convert API pipeline to model pipeline: {err.message}"
                    ) from err
            pv = body.get("pipeline_version") or {}
            # Only the package URL and tags of pipeline_version are used (:753); its name,
            # display name and pipeline_spec are ignored - the version is named like the pipeline (:190-198).
            url = (pv.get("package_url") or {}).get("pipeline_url", "")
            try:
                name = rules.build_pipeline_name(name, display, rules.posix_base(url))  # :166-171
                display = display or name
                namespace = self._ns(p.get("namespace", ""))  # :173
                self._require_ns(namespace)  # :174-177
                self._can_access_pipeline(req, namespace, "create")  # :180-188
                if not rules.parse_request_uri(url):  # :201-204
                    raise invalid(f"invalid pipeline spec URL: {url}")
                data = rules.read_pipeline_file(rules.posix_base(url), self._fetch(url))  # :211-228
                rules.validate_tags(p.get("tags"))  # resource_manager.go:475-480
                rules.validate_tags(pv.get("tags"))
                tmpl = self._template(data)
                pipeline = self._new_pipeline(
                    name, display, p.get("description", ""), namespace, p.get("tags")
                )
                try:
                    self._new_version(
                        pipeline["pipeline_id"],
                        name,
                        display,
                        p.get("description", ""),
                        tmpl,
                        pv.get("tags"),
                        url,
                    )
                except ApiError:
                    del state.pipelines[pipeline["pipeline_id"]]
                    raise
            except ApiError as err:
                raise err.wrap("Failed to create a pipeline") from None  # :754-756
            return pipeline

        def _op_CreatePipeline(self, req: Request, _: dict[str, str], body: dict[str, Any]) -> Any:
            """CreatePipeline: a pipeline without a version (pipeline_server.go:269-290, :138-160)."""
            name = body.get("name") or body.get("display_name", "")
            try:
                namespace = self._ns(body.get("namespace", ""))
                self._require_ns(namespace)
                if not name:
                    raise invalid("name is required")  # :145-147
                self._can_access_pipeline(req, namespace, "create")
                rules.validate_tags(body.get("tags"))
                return self._new_pipeline(
                    name,
                    body.get("display_name") or name,
                    body.get("description", ""),
                    namespace,
                    body.get("tags"),
                )
            except ApiError as err:
                raise err.wrap("Failed to create a pipeline due to server error") from None

        def _op_GetPipeline(self, req: Request, params: dict[str, str], _: Any) -> Any:
            """GetPipeline (pipeline_server.go:353-363, :315-328)."""
            pipeline = self._pipeline(params["pipeline_id"])
            self._can_access_pipeline(req, pipeline.get("namespace", ""), "get")
            return pipeline

        def _op_GetPipelineByName(self, req: Request, params: dict[str, str], _: Any) -> Any:
            """GetPipelineByName (pipeline_server.go:413-426, :367-392)."""
            namespace = self._ns(req.query.get("namespace", ""))
            self._require_ns(namespace)
            self._can_access_pipeline(req, namespace, "get")
            for p in state.pipelines.values():
                if p["name"] == params["name"] and p.get("namespace", "") == namespace:
                    return p
            raise rules.not_found("Pipeline", params["name"])

        def _op_ListPipelines(self, req: Request, _: dict[str, str], __: Any) -> Any:
            """ListPipelines (pipeline_server.go:510-540, listPipelines :430-460).

            Multi-user: without ``namespace`` only *shared* pipelines (namespace "") are
            listed, without authorization (:1293-1296); a namespace needs "list" RBAC.
            """
            q = req.query
            predicates, tags = self._tag_filters(q.get("filter", ""))  # :524-527
            namespace = self._ns(q.get("namespace", ""))
            self._require_ns(namespace)
            self._can_access_pipeline(req, namespace, "list")  # :436-442
            items = [
                p
                for p in state.pipelines.values()
                if p.get("namespace", "") == namespace
                and all((p.get("tags") or {}).get(k) == v for k, v in tags.items())
            ]
            return self._page(items, "pipelines", "pipelines", q, predicates)

        def _tag_filters(self, raw: str) -> tuple[list[rules.Predicate], dict[str, str]]:
            """extractTagFiltersFromFilterSpec (pipeline_server.go:550-600)."""
            predicates = rules.parse_filter(raw)
            tags = {}
            for p in [p for p in predicates if p.key.startswith("tags.")]:
                if p.operation != "EQUALS":  # :572-574
                    raise invalid(f"only EQUALS operation is supported for tag filtering, got {p.operation}")
                if not isinstance(p.value, str):  # :575-578
                    raise invalid(f"tag filter value must be a string for key {p.key!r}")
                tags[p.key.removeprefix("tags.")] = p.value
            return [p for p in predicates if not p.key.startswith("tags.")], tags

        def _op_ListPipelineVersions(self, req: Request, params: dict[str, str], _: Any) -> Any:
            """ListPipelineVersions (pipeline_server.go:1037-1071, :974-995)."""
            predicates, tags = self._tag_filters(req.query.get("filter", ""))
            pid = params["pipeline_id"]
            pipeline = self._pipeline(pid)  # FetchNamespaceFromPipelineId (:981-984)
            self._can_access_pipeline(req, pipeline.get("namespace", ""), "list")  # :985-991
            items = [
                v
                for v in state.versions[pid]
                if all((v.get("tags") or {}).get(k) == w for k, w in tags.items())
            ]
            return self._page(items, "pipeline_versions", "pipeline_versions", req.query, predicates)

        def _op_CreatePipelineVersion(
            self, req: Request, params: dict[str, str], body: dict[str, Any]
        ) -> Any:
            """CreatePipelineVersion (pipeline_server.go:885-924, createPipelineVersion :767-832)."""
            pid = params["pipeline_id"]
            # Fail fast (:890-899): note the body's own pipeline_id is required too.
            if not body:
                raise invalid("Failed to create a pipeline version. Pipeline version is nil")
            if body.get("package_url") is None:
                raise invalid("Failed to create a pipeline version. Package URL is nil")
            url = body["package_url"].get("pipeline_url", "")
            if not url:
                raise invalid("Failed to create a pipeline version. Package URL is empty")
            if not pid or not body.get("pipeline_id"):
                raise invalid("Failed to create a pipeline version. Parent pipeline id is empty")
            name = body.get("name") or body.get("display_name", "")  # toModelPipelineVersion (:417-425)
            display = body.get("display_name") or name
            try:
                rules.check_length("PipelineVersion", "Name", name)
            except ApiError as err:  # ValidateModel -> InternalServerError (api_converter.go:442-447)
                raise rules.internal(
                    f"Failed to convert API pipeline version to model pipeline version: {err.message}"
                ) from err
            try:
                if not name:  # :778-780
                    raise invalid("name is required")
                pipeline = self._pipeline(pid)
                self._can_access_pipeline(req, pipeline.get("namespace", ""), "create")  # :783-789
                if not rules.parse_request_uri(url):  # :793-796
                    raise invalid(
                        f"Failed to create a pipeline version due to invalid pipeline spec URI. "
                        f"PipelineSpecURI: {url}. Please specify a valid URL"
                    )
                data = rules.read_pipeline_file(rules.posix_base(url), self._fetch(url))  # :798-821
                tmpl = self._template(data)
                rules.validate_tags(body.get("tags"))
                version = self._new_version(
                    pid, name, display, body.get("description", ""), tmpl, body.get("tags"), url
                )
            except ApiError as err:
                raise err.wrap("Failed to create a pipeline version. Check error stack") from None  # :915-918
            return version

        def _op_GetPipelineVersion(self, req: Request, params: dict[str, str], _: Any) -> Any:
            """GetPipelineVersion (pipeline_server.go:960-970, :928-938)."""
            for versions in state.versions.values():
                for v in versions:
                    if v["pipeline_version_id"] == params["pipeline_version_id"]:
                        self._can_access_pipeline(
                            req, state.pipelines[v["pipeline_id"]].get("namespace", ""), "get"
                        )
                        return v
            raise rules.not_found("PipelineVersion", params["pipeline_version_id"])

        def _op_DeletePipelineVersion(self, req: Request, params: dict[str, str], _: Any) -> Any:
            """DeletePipelineVersion (pipeline_server.go:1128-1152, :1075-1094)."""
            vid = params["pipeline_version_id"]
            for pid, versions in state.versions.items():
                for v in versions:
                    if v["pipeline_version_id"] == vid:
                        self._can_access_pipeline(req, state.pipelines[pid].get("namespace", ""), "delete")
                        versions.remove(v)
                        return {}
            raise rules.not_found("PipelineVersion", vid)

        # -- listing -------------------------------------------------------------------

        def _page(
            self,
            items: list[dict[str, Any]],
            kind: str,
            out_field: str,
            q: dict[str, str],
            predicates: list[rules.Predicate],
        ) -> dict[str, Any]:
            """validatedListOptions + the store's paging (list_request_util.go:175-214).

            The fake caps page_size at State.max_page_size (upstream: 200, default 20).
            """
            fields = rules.FIELDS[kind]
            size = min(rules.page_size(q.get("page_size")), state.max_page_size)
            token = q.get("page_token", "")
            rules.validate_predicate_keys(predicates, fields)
            sort_field, desc = rules.parse_sort_by(q.get("sort_by", ""), fields)
            offset = 0
            if token:
                saved = rules.decode_token(token)  # list.NewOptionsFromToken (list/list.go:212-226)
                if (q.get("sort_by") or q.get("filter")) and (
                    saved.get("sort") != [sort_field, desc] or saved.get("filter") != q.get("filter", "")
                ):  # list_request_util.go:201-211
                    raise invalid(
                        "page token does not match the supplied sort by and/or filtering criteria. "
                        "Either specify the same criteria or leave the latter empty "
                        "if page token is specified"
                    )
                sort_field, desc = saved["sort"]
                predicates = rules.parse_filter(saved.get("filter", ""))
                predicates = [p for p in predicates if not p.key.startswith("tags.")]
                offset = int(saved["offset"])
            found = [i for i in items if rules.matches(i, predicates, fields)]
            key = rules.KEY_FIELD[kind]
            found.sort(key=lambda i: (str(i.get(sort_field, "")), i[key]), reverse=desc)
            page = found[offset : offset + size]
            body: dict[str, Any] = {out_field: page, "total_size": len(found)}
            if offset + size < len(found):
                body["next_page_token"] = rules.encode_token(
                    {"offset": offset + size, "sort": [sort_field, desc], "filter": q.get("filter", "")}
                )
            return _prune(body)

        # -- experiments ---------------------------------------------------------------

        def _experiment(self, eid: str) -> dict[str, Any]:
            if eid not in state.experiments:
                raise rules.not_found("Experiment", eid)
            return state.experiments[eid]

        def _can_access_experiment(self, req: Request, namespace: str, verb: str) -> None:
            """canAccessExperiment (backend/src/apiserver/server/experiment_server.go:341-368)."""
            if not state.multi_user:
                return
            if namespace in ("", "-"):  # :356-358
                raise invalid("An experiment cannot have an empty namespace in multi-user mode")
            self._authorize(req, namespace, verb, "experiments")

        def _op_CreateExperiment(self, req: Request, _: dict[str, str], body: dict[str, Any]) -> Any:
            """CreateExperiment (experiment_server.go:141-167, :98-111)."""
            name = body.get("display_name", "")
            if not name:  # toModelExperiment (api_converter.go:90-92): an InternalServerError
                raise rules.internal(
                    "Failed to convert API experiment to model experiment: "
                    "Experiment must have a non-empty name"
                )
            namespace = self._ns(body.get("namespace", ""))
            try:
                self._can_access_experiment(req, namespace, "create")
                # Unique (Name, Namespace) (model/experiment.go:20,25; storage/experiment_store.go:261-263)
                if any(
                    e["display_name"] == name and e.get("namespace", "") == namespace
                    for e in state.experiments.values()
                ):
                    raise rules.already_exists(
                        f"Failed to create a new experiment. The name {name} already "
                        f"exists. Please specify a new name"
                    )
            except ApiError as err:
                raise err.wrap("Failed to create a experiment") from None
            eid = state.new_id()
            state.experiments[eid] = _prune(
                {
                    "experiment_id": eid,
                    "display_name": name,
                    "description": body.get("description", ""),
                    "created_at": _ts(state.clock()),
                    "namespace": namespace,
                    "storage_state": "AVAILABLE",
                }
            )
            # toApiExperiment always sets last_run_created_at (api_converter.go:165).
            state.experiments[eid]["last_run_created_at"] = _ts(0)
            return state.experiments[eid]

        def _op_GetExperiment(self, req: Request, params: dict[str, str], _: Any) -> Any:
            experiment = self._experiment(params["experiment_id"])
            self._can_access_experiment(req, experiment.get("namespace", ""), "get")  # :169-175
            return experiment

        def _op_ListExperiments(self, req: Request, _: dict[str, str], __: Any) -> Any:
            """ListExperiments (experiment_server.go:279-300, :215-234): namespace required in multi-user."""
            q = req.query
            predicates = rules.parse_filter(q.get("filter", ""))
            namespace = self._ns(q.get("namespace", ""))
            self._can_access_experiment(req, namespace, "list")
            items = [e for e in state.experiments.values() if e.get("namespace", "") == namespace]
            return self._page(items, "experiments", "experiments", q, predicates)

        def _op_DeleteExperiment(self, req: Request, params: dict[str, str], _: Any) -> Any:
            experiment = self._experiment(params["experiment_id"])
            self._can_access_experiment(req, experiment.get("namespace", ""), "delete")  # :302-308
            del state.experiments[params["experiment_id"]]
            return {}

        def _experiment_namespace_pair(self, experiment_id: str, namespace: str) -> tuple[str, str]:
            """GetValidExperimentNamespacePair (resource_manager.go:2490-2518)."""
            if state.multi_user and not experiment_id:  # :2491-2493
                raise invalid("Experiment id can not be empty in multi-user mode")
            if not experiment_id:
                raise invalid("fake: the default experiment is not modelled; pass experiment_id")
            ns = self._experiment(experiment_id).get("namespace", "")  # :2495-2498
            if namespace and namespace != ns:  # :2499-2501
                raise invalid(
                    f"Experiment {experiment_id} belongs to namespace '{ns}' instead of '{namespace}'"
                )
            return experiment_id, ns

        def _pipeline_ref(self, body: dict[str, Any]) -> dict[str, Any] | None:
            """Which pipeline a run/recurring run uses (CreateJob, resource_manager.go:1303-1373)."""
            ref = body.get("pipeline_version_reference") or {}
            if ref.get("pipeline_version_id"):
                for versions in state.versions.values():
                    if any(v["pipeline_version_id"] == ref["pipeline_version_id"] for v in versions):
                        return ref
                # fetchTemplateFromPipelineSpec fails; CreateJob wraps it in an
                # InternalServerError (resource_manager.go:1309-1311) -> HTTP 500.
                raise rules.internal(
                    "Failed to create a recurring run with an invalid pipeline "
                    "spec manifest: Failed to fetch a "
                    f"template due to error retrieving pipeline version: "
                    f"PipelineVersion {ref['pipeline_version_id']} not found"
                )
            if body.get("pipeline_spec"):
                return None
            if ref.get("pipeline_id"):  # GetPipelineLatestTemplate (:1332-1335): NotFound stays 404
                pipeline = self._pipeline(ref["pipeline_id"])
                if not state.versions[pipeline["pipeline_id"]]:
                    raise rules.not_found("PipelineVersion", "latest")
                return ref
            # errors.New("Cannot create a job with an empty pipeline ID") (:1326-1327) -> Internal
            raise ApiError(rules.INTERNAL, "Internal error: Cannot create a job with an empty pipeline ID")

        # -- recurring runs ------------------------------------------------------------

        def _can_access_job(self, req: Request, namespace: str, verb: str) -> None:
            """canAccessJob (backend/src/apiserver/server/job_server.go:424-459)."""
            if not state.multi_user:
                return
            if namespace in ("", "-"):  # :447-449
                raise invalid("a recurring run cannot have an empty namespace in multi-user mode")
            self._authorize(req, namespace, verb, "jobs")

        def _job(self, rid: str) -> dict[str, Any]:
            if rid not in state.recurring:
                raise rules.not_found("RecurringRun", rid)
            return state.recurring[rid]

        def _op_CreateRecurringRun(self, req: Request, _: dict[str, str], body: dict[str, Any]) -> Any:
            """CreateRecurringRun (job_server.go:320-343): toModelJob, then createJob (:97-121)."""
            try:
                # toModelJob (api_converter.go:2022-2098)
                if not body.get("display_name"):  # :2041-2044 (an InternalServerError)
                    raise rules.internal(
                        "Failed to convert a API recurring run to its internal representation: "
                        "Recurring run's name cannot be empty"
                    )
                mode = body.get("mode", "MODE_UNSPECIFIED")
                # toModelJobEnabled (:2145-2171): MODE_UNSPECIFIED (the default) means *disabled*.
                enabled = mode in ("ENABLE", 1)
                max_concurrency = int(body.get("max_concurrency") or 0)
                if max_concurrency > 10 or max_concurrency < 1:  # :2084-2086
                    raise invalid(
                        "Max concurrency of a recurring run must be at least 1 and at most 10. "
                        f"Received {max_concurrency}"
                    )
                trigger = body.get("trigger") or {}
                cron = trigger.get("cron_schedule")
                periodic = trigger.get("periodic_schedule")
                if cron and periodic:
                    # Trigger.trigger is a proto oneof (backend/api/v2beta1/recurring_run.proto):
                    # protojson refuses the body -> InvalidArgument.
                    raise invalid(
                        'proto: (line 1:1): error parsing "trigger", oneof '
                        "v2beta1.Trigger.trigger is already set"
                    )
                if cron is not None:
                    try:
                        parse_cron(cron.get("cron", ""))  # :2087-2092
                    except ValueError as exc:
                        raise invalid(
                            "Schedule cron is not a supported "
                            "format(https://godoc.org/github.com/robfig/cron). "
                            f"Error: {exc}"
                        ) from exc
                if periodic is not None and int(periodic.get("interval_second") or 0) < 1:  # :2093-2098
                    raise invalid(
                        f"Found invalid period schedule interval {periodic.get('interval_second', 0)}. "
                        "Set at interval to least 1 second"
                    )
                # createJob (job_server.go:97-121)
                experiment_id, namespace = self._experiment_namespace_pair(
                    body.get("experiment_id", ""), body.get("namespace", "")
                )  # :102-105
                if state.multi_user and not namespace:  # :106-108
                    raise invalid("Recurring run cannot have an empty namespace in multi-user mode")
                self._can_access_job(req, namespace, "create")  # :111-119
                ref = self._pipeline_ref(body)
            except ApiError as err:
                raise err.wrap("Failed to create a recurring run") from None  # :329-332
            rid = state.new_id()
            now = state.clock()
            sched_src = cron or periodic or {}
            state.schedules[rid] = Schedule(
                created=now,
                cron=cron.get("cron") if cron else None,
                interval=int(periodic["interval_second"]) if periodic else None,
                start=_epoch(sched_src["start_time"]) if sched_src.get("start_time") else None,
                end=_epoch(sched_src["end_time"]) if sched_src.get("end_time") else None,
                no_catchup=bool(body.get("no_catchup")),
                enabled=enabled,
            )
            state.recurring[rid] = _prune(
                {
                    "recurring_run_id": rid,
                    "display_name": body["display_name"],
                    "description": body.get("description", ""),
                    "pipeline_version_reference": ref,
                    "pipeline_spec": body.get("pipeline_spec"),
                    "runtime_config": body.get("runtime_config"),
                    "service_account": body.get("service_account", ""),
                    "max_concurrency": str(max_concurrency),
                    "trigger": trigger,
                    "mode": "ENABLE" if enabled else "DISABLE",
                    "created_at": _ts(now),
                    "updated_at": _ts(now),
                    "status": "ENABLED" if enabled else "DISABLED",
                    "no_catchup": bool(body.get("no_catchup")),
                    "namespace": namespace,
                    "experiment_id": experiment_id,
                }
            )
            return state.recurring[rid]

        def _op_GetRecurringRun(self, req: Request, params: dict[str, str], _: Any) -> Any:
            job = self._job(params["recurring_run_id"])
            self._can_access_job(req, job.get("namespace", ""), "get")  # job_server.go:156-162
            return job

        def _op_ListRecurringRuns(self, req: Request, _: dict[str, str], __: Any) -> Any:
            """ListRecurringRuns (job_server.go:362-385, listJobs :181-215).

            Multi-user: ``namespace`` or ``experiment_id`` is required (the experiment's
            namespace replaces the given one, :183-189); otherwise 400 (:447-449).
            """
            q = req.query
            predicates = rules.parse_filter(q.get("filter", ""))
            items = self._in_scope(req, state.recurring.values(), self._can_access_job)
            # The proto field itself is named recurringRuns (backend/api/v2beta1/recurring_run.proto:201).
            return self._page(items, "jobs", "recurringRuns", q, predicates)

        def _set_mode(self, req: Request, rid: str, enable: bool) -> Any:
            """enableJob / disableJob (job_server.go:269-275, :312-318).

            ChangeJobMode (resource_manager.go:1421-1455)."""
            job = self._job(rid)
            self._can_access_job(req, job.get("namespace", ""), "enable" if enable else "disable")
            state.schedules[rid].enabled = enable
            job.update(
                mode="ENABLE" if enable else "DISABLE",
                status="ENABLED" if enable else "DISABLED",
                updated_at=_ts(state.clock()),
            )
            return {}

        def _op_EnableRecurringRun(self, req: Request, params: dict[str, str], _: Any) -> Any:
            return self._set_mode(req, params["recurring_run_id"], True)

        def _op_DisableRecurringRun(self, req: Request, params: dict[str, str], _: Any) -> Any:
            return self._set_mode(req, params["recurring_run_id"], False)

        def _op_DeleteRecurringRun(self, req: Request, params: dict[str, str], _: Any) -> Any:
            rid = params["recurring_run_id"]
            job = self._job(rid)
            self._can_access_job(req, job.get("namespace", ""), "delete")  # job_server.go:289-296
            del state.recurring[rid]
            state.schedules.pop(rid, None)
            return {}

        # -- runs ----------------------------------------------------------------------

        def _can_access_run(self, req: Request, namespace: str, verb: str) -> None:
            """canAccessRun (backend/src/apiserver/server/run_server.go:647-682)."""
            if not state.multi_user:
                return
            if namespace in ("", "-"):  # :670-672
                raise invalid("A run cannot have an empty namespace in multi-user mode")
            self._authorize(req, namespace, verb, "runs")

        def _op_CreateRun(self, req: Request, _: dict[str, str], body: dict[str, Any]) -> Any:
            """CreateRun (run_server.go:514-541, createRun :138-161)."""
            try:
                if not body.get("display_name"):  # :140-142
                    raise invalid("The run name is empty. Please specify a valid name")
                experiment_id, namespace = self._experiment_namespace_pair(
                    body.get("experiment_id", "") or req.query.get("experiment_id", ""), ""
                )
                if state.multi_user and not namespace:  # :147-149
                    raise invalid("A run cannot have an empty namespace in multi-user mode")
                self._can_access_run(req, namespace, "create")
                ref = self._pipeline_ref(body)
            except ApiError as err:
                raise err.wrap("Failed to create a new run") from None
            rid = state.new_id()
            state.runs[rid] = _prune(
                {
                    "run_id": rid,
                    "display_name": body["display_name"],
                    "description": body.get("description", ""),
                    "experiment_id": experiment_id,
                    "pipeline_version_reference": ref,
                    "pipeline_spec": body.get("pipeline_spec"),
                    "runtime_config": body.get("runtime_config"),
                    "service_account": body.get("service_account", ""),
                    "created_at": _ts(state.clock()),
                    "scheduled_at": _ts(state.clock()),
                    "state": "PENDING",
                    "storage_state": "AVAILABLE",
                    "namespace": namespace,
                }
            )
            return state.runs[rid]

        def _op_GetRun(self, req: Request, params: dict[str, str], _: Any) -> Any:
            if params["run_id"] not in state.runs:
                raise rules.not_found("Run", params["run_id"])
            run = state.runs[params["run_id"]]
            self._can_access_run(req, run.get("namespace", ""), "get")
            return run

        def _op_ListRuns(self, req: Request, _: dict[str, str], __: Any) -> Any:
            """ListRuns (run_server.go:560-573, listRuns :217-251): like recurring runs."""
            q = req.query
            predicates = rules.parse_filter(q.get("filter", ""))
            items = self._in_scope(req, state.runs.values(), self._can_access_run)
            return self._page(items, "runs", "runs", q, predicates)

        def _in_scope(
            self, req: Request, items: Any, can_access: Callable[[Request, str, str], None]
        ) -> list[dict[str, Any]]:
            """Runs or recurring runs of the requested experiment, else of the namespace.

            The experiment's namespace replaces the given one (job_server.go:183-189,
            run_server.go:217-251), and listing it is authorized first.
            """
            namespace = self._ns(req.query.get("namespace", ""))
            experiment_id = req.query.get("experiment_id", "")
            if experiment_id:
                namespace = self._experiment(experiment_id).get("namespace", "")
            can_access(req, namespace, "list")
            if experiment_id:
                return [i for i in items if i.get("experiment_id") == experiment_id]
            return [i for i in items if i.get("namespace", "") == namespace]

        def do_GET(self) -> None:
            self._handle("GET")

        def do_POST(self) -> None:
            self._handle("POST")

        def do_DELETE(self) -> None:
            self._handle("DELETE")

        def do_PATCH(self) -> None:
            self._handle("PATCH")

    return Handler


def _parse_multipart(content_type: str, raw: bytes) -> dict[str, Any]:
    """Multipart form fields; a part with a filename becomes {"filename", "content"}."""
    message = BytesParser(policy=HTTP).parsebytes(
        f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode() + raw
    )
    form: dict[str, Any] = {}
    if not message.is_multipart():
        return form
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not name:
            continue
        filename = part.get_filename()
        payload = part.get_payload(decode=True)
        content = payload if isinstance(payload, bytes) else b""
        form[str(name)] = (
            {"filename": filename, "content": content} if filename else content.decode(errors="replace")
        )
    return form


@contextmanager
def serve(state: State | None = None) -> Iterator[tuple[str, State]]:
    """Run the fake KFP API on a random loopback port; yields (host URL, state)."""
    state = state or State()

    class Server(ThreadingHTTPServer):
        def handle_error(self, request: Any, client_address: Any) -> None:
            # A client that timed out and hung up (a delay fault outliving its test) is expected;
            # socketserver would print a traceback to stderr, possibly during a later test.
            pass

    server = Server(("127.0.0.1", 0), make_handler(state))
    server.daemon_threads = True
    # shutdown() waits for serve_forever to poll (0.5 s by default), once per test that starts a
    # fake: a short interval keeps that wait out of the suite and the mutation runs.
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", state
    finally:
        server.shutdown()
        server.server_close()
