"""The Kubernetes API ``kfops serve`` talks to: kubeconfig or in-cluster, within one deadline."""

from __future__ import annotations

import os
from typing import Any

from components.shared.deadline import Deadline, host_of, is_timeout
from components.shared.errors import KfopsError


def api_timeout(api_client: Any) -> tuple[float, float]:
    """(connect, read) seconds for the next Kubernetes API call: what the command's deadline leaves."""
    deadline = getattr(api_client, "kfops_deadline", None)
    if deadline is None:
        deadline = api_client.kfops_deadline = Deadline(
            f"the Kubernetes API at {host_of(api_client.configuration.host)}"
        )
    return deadline.timeout()


def _kubeconfig_file() -> str | None:
    # Read $KUBECONFIG at call time (the client reads it once, at import); it may list several files.
    return os.environ.get("KUBECONFIG") or None


def context_namespace(context: str = "") -> str:
    """The namespace of a kubeconfig context (the current one by default); "" if none."""
    try:
        from kubernetes import config

        contexts, active = config.list_kube_config_contexts(config_file=_kubeconfig_file())
        chosen = next((c for c in contexts if c["name"] == context), None) if context else active
        return str(((chosen or {}).get("context") or {}).get("namespace") or "")
    except Exception:  # no kubeconfig, or a malformed one: no default namespace
        return ""


def connect(context: str = "") -> Any:
    """A Kubernetes API client: kubeconfig (``context``), else in-cluster; checked by ``GET /version``.

    Raises:
        KfopsError: No usable configuration, or the API does not answer.
    """
    from kubernetes import client as k8s
    from kubernetes import config
    from kubernetes.config.config_exception import ConfigException

    configuration = k8s.Configuration()
    try:
        config.load_kube_config(
            config_file=_kubeconfig_file(),
            context=context or None,
            client_configuration=configuration,
            persist_config=False,
        )
    except (ConfigException, OSError, TypeError, KeyError) as exc:
        if context:
            raise KfopsError(f"cannot use kubeconfig context {context!r}: {exc}") from None
        try:
            config.load_incluster_config(client_configuration=configuration)
        except ConfigException:
            raise KfopsError(
                "no Kubernetes cluster configured: no usable kubeconfig ($KUBECONFIG or ~/.kube/config: "
                f"{exc}) and not running in a cluster"
            ) from None
    configuration.retries = False  # one attempt per call: the command's deadline bounds them all
    api_client = k8s.ApiClient(configuration)
    api_client.kfops_deadline = Deadline(f"the Kubernetes API at {host_of(configuration.host)}")
    try:
        # Only whether it answers: the body is not parsed (servers differ in which fields they fill).
        k8s.VersionApi(api_client).get_code(_request_timeout=api_timeout(api_client), _preload_content=False)
    except k8s.ApiException as exc:
        if exc.status in (401, 403):
            raise KfopsError(
                f"the Kubernetes API at {configuration.host} refused these credentials (HTTP {exc.status})"
            ) from None
        raise KfopsError(f"the Kubernetes API at {configuration.host} answered HTTP {exc.status}") from None
    except KfopsError:
        raise
    except Exception as exc:  # urllib3 connection errors and timeouts
        if is_timeout(exc):
            raise api_client.kfops_deadline.timed_out() from None
        raise KfopsError(
            f"cannot reach the Kubernetes API at {host_of(configuration.host)}: {type(exc).__name__}"
        ) from None
    return api_client
