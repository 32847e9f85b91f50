"""The one KFP v2beta1 API client of kfops: deploy, rollback, notify-failures and the retrain trigger.

It speaks what a KFP 2.17 API server accepts (``backend/src/apiserver`` at tag
``2.17.0``): specs go up only as multipart uploads (``/pipelines/upload`` and
``/pipelines/upload_version``, form field ``uploadfile``), never inline; in
multi-user mode every listing names the namespace; a recurring run's namespace
comes from its experiment. It is built on the generated ``kfp_server_api`` (the
REST layer ``kfp.Client`` uses) and adds what that lacks: timeouts, bounded
retries, paging to the end, creates that converge after a lost response, and an
authorized preflight before any write.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from components.kfp_api.calls import ApiError, AuthError, Calls, RetryPolicy

PAGE_SIZE = 100
MAX_PAGES = 1000  # a server that never stops paging is a bug, not a big namespace
SUPPORTED_MAJOR = 2  # kfp 2.17's client needs a 2.x backend
DEFAULT_POLICY = RetryPolicy()


def configured_policy() -> RetryPolicy:
    """:data:`DEFAULT_POLICY`, within ``KFOPS_NETWORK_TIMEOUT`` when that is set (one deadline per call)."""
    import os

    from components.shared.deadline import DEADLINE_ENV, network_deadline

    if not os.environ.get(DEADLINE_ENV, "").strip():
        return DEFAULT_POLICY
    deadline = network_deadline()
    return RetryPolicy(
        connect_timeout=min(DEFAULT_POLICY.connect_timeout, deadline / 4),
        read_timeout=min(DEFAULT_POLICY.read_timeout, deadline / 2),
        attempts=DEFAULT_POLICY.attempts,
        backoff=DEFAULT_POLICY.backoff,
        deadline=deadline,
    )


def name_filter(key: str, value: str) -> str:
    """A v2beta1 ``filter`` that matches ``key == value`` (protojson field names, as the server parses it)."""
    return json.dumps({"predicates": [{"key": key, "operation": "EQUALS", "string_value": value}]})


@dataclass(frozen=True)
class Server:
    """What the preflight learned about the server."""

    version: str
    multi_user: bool


class KfpApi:
    """Calls of the KFP v2beta1 REST API for one namespace.

    Args:
        host: Base URL of the API (``https://kubeflow.example.com/pipeline`` or
            ``http://ml-pipeline.kubeflow.svc.cluster.local:8888``).
        token: The bearer token, or a function returning it (re-read on every
            request, like a projected ServiceAccount token).
        namespace: The profile namespace (required by a multi-user server).
        policy: Timeouts and retries.
    """

    def __init__(
        self,
        host: str,
        token: str | Callable[[], str],
        namespace: str,
        *,
        policy: RetryPolicy | None = None,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        import kfp_server_api as api
        import urllib3

        self.host = host.rstrip("/")
        self.namespace = namespace
        self.calls = Calls(self.host, namespace, policy or configured_policy(), sleep=sleep or time.sleep)
        read_token = token if callable(token) else (lambda: token)

        class Config(api.Configuration):  # type: ignore[misc]
            """Reads the token on every request (a projected token rotates); none: no header."""

            def auth_settings(self) -> dict[str, Any]:
                current = read_token()
                if not current:
                    return {}
                return {"Bearer": {"type": "api_key", "in": "header", "key": "authorization",
                                   "value": f"Bearer {current}"}}  # fmt: skip

        config = Config(host=self.host)
        # Retries are ours; a redirect is the gateway's login page and must not be followed.
        config.retries = urllib3.Retry(total=0, redirect=0, raise_on_redirect=False, raise_on_status=False)
        client = api.ApiClient(config)
        self.pipelines = api.PipelineServiceApi(client)
        self.uploads = api.PipelineUploadServiceApi(client)
        self.experiments = api.ExperimentServiceApi(client)
        self.recurring = api.RecurringRunServiceApi(client)
        self.runs = api.RunServiceApi(client)
        self.health = api.HealthzServiceApi(client)

    # -- preflight ---------------------------------------------------------------

    def preflight(self) -> Server:
        """Check, before any write, that the server answers this token in this namespace.

        Reads the health endpoint (version, mode) and lists one pipeline of the
        namespace, both with the token: Kubeflow's gateway answers a bad token with
        401/403 or a login redirect, the API server a missing permission with 403.

        Raises:
            AuthError: The token or the namespace was refused.
            ApiError: Unreachable, not a KFP API, an unsupported version, or a
                multi-user server without a namespace.
        """
        # The generated health model drops tag_name (the server writes it by hand, main.go): read the JSON.
        response = self.calls.retried(
            "reach the KFP API", self.health.healthz_service_get_healthz, _preload_content=False
        )
        try:
            health = json.loads(response.data)
        except ValueError:
            health = None
        if not isinstance(health, dict) or not {"multi_user", "tag_name"} & set(health):
            kind = response.headers.get("Content-Type", "?")
            raise ApiError(f"{self.host} did not answer like a KFP API server (health check gave {kind})")
        version = str(health.get("tag_name") or "")
        major = version.lstrip("v").split(".")[0]
        if major.isdigit() and int(major) != SUPPORTED_MAJOR:
            raise ApiError(
                f"KFP backend {version} at {self.host} is not supported (kfp 2.17 needs a 2.x backend)"
            )
        multi_user = bool(health.get("multi_user", False))
        if multi_user and not self.namespace:
            raise ApiError(f"{self.host} is a multi-user KFP: give the profile namespace (--namespace)", 400)
        self.calls.retried(
            f"list pipelines in namespace {self.namespace or '(shared)'}",
            self.pipelines.pipeline_service_list_pipelines,
            namespace=self.namespace or None,
            page_size=1,
        )
        return Server(version or "unknown", multi_user)

    # -- listings ------------------------------------------------------------------

    def list_all(
        self, what: str, call: Callable[..., Any], field: str, *args: Any, **kwargs: Any
    ) -> list[Any]:
        """Every item of a paged listing, following ``next_page_token`` to the end."""
        return list(self._pages(what, call, field, *args, **kwargs))

    def _pages(
        self, what: str, call: Callable[..., Any], field: str, *args: Any, **kwargs: Any
    ) -> Iterator[Any]:
        token = ""
        for _ in range(MAX_PAGES):
            page = self.calls.retried(what, call, *args, page_size=PAGE_SIZE, page_token=token, **kwargs)
            yield from getattr(page, field) or []
            token = page.next_page_token or ""
            if not token:
                return
        raise ApiError(f"cannot {what}: the server returned more than {MAX_PAGES} pages")

    def find_pipeline(self, name: str) -> Any | None:
        """The namespace's pipeline whose unique ``name`` is ``name``, if any."""
        found = self.list_all(
            f"find pipeline {name}",
            self.pipelines.pipeline_service_list_pipelines,
            "pipelines",
            namespace=self.namespace or None,
            filter=name_filter("name", name),
        )
        return next((p for p in found if p.name == name), None)

    def versions(self, pipeline_id: str) -> list[Any]:
        """All versions of a pipeline, oldest first."""
        return self.list_all(
            f"list versions of pipeline {pipeline_id}",
            self.pipelines.pipeline_service_list_pipeline_versions,
            "pipeline_versions",
            pipeline_id,
            sort_by="created_at",
        )

    def find_version(self, pipeline_id: str, name: str) -> Any | None:
        """The pipeline's version whose unique ``name`` is ``name``, if any."""
        found = self.list_all(
            f"find version {name}",
            self.pipelines.pipeline_service_list_pipeline_versions,
            "pipeline_versions",
            pipeline_id,
            filter=name_filter("name", name),
        )
        return next((v for v in found if v.name == name), None)

    def get_version(self, pipeline_id: str, version_id: str) -> Any:
        """One pipeline version, with the spec as the server stored it."""
        return self.calls.retried(
            f"get version {version_id}",
            self.pipelines.pipeline_service_get_pipeline_version,
            pipeline_id,
            version_id,
        )

    def get_run(self, run_id: str) -> Any:
        """One run, with its state."""
        return self.calls.retried(f"get run {run_id}", self.runs.run_service_get_run, run_id)

    def find_experiment(self, name: str) -> Any | None:
        """The namespace's experiment named ``name``, if any."""
        found = self.list_all(
            f"find experiment {name}",
            self.experiments.experiment_service_list_experiments,
            "experiments",
            namespace=self.namespace or None,
            filter=name_filter("display_name", name),
        )
        return next((e for e in found if e.display_name == name), None)

    def recurring_runs(self, experiment_id: str | None = None) -> list[Any]:
        """The namespace's recurring runs (of one experiment when given)."""
        return self.list_all(
            "list recurring runs",
            self.recurring.recurring_run_service_list_recurring_runs,
            "recurring_runs",
            namespace=self.namespace or None,
            experiment_id=experiment_id or None,
        )

    def list_runs(self, **kwargs: Any) -> list[Any]:
        """The namespace's runs (``filter``/``sort_by``/``experiment_id`` passed through)."""
        return self.list_all(
            "list runs", self.runs.run_service_list_runs, "runs", namespace=self.namespace or None, **kwargs
        )

    # -- writes ----------------------------------------------------------------------

    def upload_pipeline(self, path: Path, name: str, description: str) -> tuple[Any, bool]:
        """Create pipeline ``name`` from a compiled file (its first version is named ``name`` too).

        Returns:
            ``(pipeline, created)``; ``created`` is ``False`` when it already existed.
        """
        return self.calls.create(
            f"upload pipeline {name}",
            lambda: self.calls.once(
                f"upload pipeline {name}",
                self.uploads.upload_pipeline,
                str(path),
                name=name,
                display_name=name,
                description=description,
                namespace=self.namespace or None,
            ),
            lambda: self.find_pipeline(name),
        )

    def upload_version(self, pipeline_id: str, path: Path, name: str, description: str) -> tuple[Any, bool]:
        """Add version ``name`` of a compiled file to a pipeline.

        Returns:
            ``(version, created)``; ``created`` is ``False`` when it already existed.
        """
        return self.calls.create(
            f"upload version {name}",
            lambda: self.calls.once(
                f"upload version {name}",
                self.uploads.upload_pipeline_version,
                str(path),
                name=name,
                display_name=name,
                description=description,
                pipelineid=pipeline_id,
            ),
            lambda: self.find_version(pipeline_id, name),
        )

    def delete_version(self, pipeline_id: str, version_id: str) -> None:
        """Delete a pipeline version (gone already counts as done)."""
        self._idempotent(
            f"delete version {version_id}",
            self.pipelines.pipeline_service_delete_pipeline_version,
            pipeline_id,
            version_id,
        )

    def experiment(self, name: str) -> Any:
        """The namespace's experiment ``name``, created when missing."""
        from kfp_server_api import V2beta1Experiment

        found = self.find_experiment(name)
        if found is not None:
            return found
        body = V2beta1Experiment(display_name=name, namespace=self.namespace or None)
        created, _ = self.calls.create(
            f"create experiment {name}",
            lambda: self.calls.once(
                f"create experiment {name}", self.experiments.experiment_service_create_experiment, body
            ),
            lambda: self.find_experiment(name),
        )
        return created

    def create_recurring_run(self, body: Any) -> Any:
        """Create a recurring run whose display name is unique in its experiment."""
        name = body.display_name

        def find() -> Any | None:
            return next(
                (
                    r
                    for r in self.recurring_runs(body.experiment_id)
                    if r.display_name == name and r.description == body.description
                ),
                None,
            )

        created, _ = self.calls.create(
            f"create recurring run {name}",
            lambda: self.calls.once(
                f"create recurring run {name}",
                self.recurring.recurring_run_service_create_recurring_run,
                body,
            ),
            find,
        )
        return created

    def delete_recurring_run(self, run_id: str) -> None:
        """Delete a recurring run (gone already counts as done)."""
        self._idempotent(
            f"delete recurring run {run_id}",
            self.recurring.recurring_run_service_delete_recurring_run,
            run_id,
        )

    def enable_recurring_run(self, run_id: str) -> None:
        """Enable a recurring run."""
        self.calls.retried(
            f"enable recurring run {run_id}",
            self.recurring.recurring_run_service_enable_recurring_run,
            run_id,
        )

    def disable_recurring_run(self, run_id: str) -> None:
        """Disable a recurring run."""
        self.calls.retried(
            f"disable recurring run {run_id}",
            self.recurring.recurring_run_service_disable_recurring_run,
            run_id,
        )

    def create_run(self, body: Any) -> Any:
        """Start a run whose display name is unique in its experiment."""
        name = body.display_name

        def find() -> Any | None:
            runs = self.list_runs(experiment_id=body.experiment_id, filter=name_filter("display_name", name))
            return next((r for r in runs if r.display_name == name), None)

        created, _ = self.calls.create(
            f"start run {name}",
            lambda: self.calls.once(f"start run {name}", self.runs.run_service_create_run, body),
            find,
        )
        return created

    def _idempotent(self, what: str, call: Callable[..., Any], *args: Any) -> None:
        try:
            self.calls.retried(what, call, *args)
        except ApiError as exc:
            if exc.status != 404:
                raise


def when(value: Any) -> datetime:
    """A timestamp of the API (``datetime`` from the generated models, or RFC 3339 text) in UTC."""
    from datetime import UTC

    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


__all__ = ["ApiError", "AuthError", "KfpApi", "RetryPolicy", "Server", "name_filter", "when"]
