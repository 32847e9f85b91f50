"""Create the InferenceService, or replace the one kfops manages (with its ``resourceVersion``)."""

from __future__ import annotations

import copy
import json
from typing import Any

from components.shared.deadline import is_timeout
from components.shared.errors import KfopsError
from components.shared.names import MANAGED_BY_LABEL, PROJECT
from kfops import kserve
from kfops.serve.cluster import api_timeout
from kfops.serve.inference_service import ANNOTATION_PREFIX

REPLACE_ATTEMPTS = 3


def _api_failure(action: str, obj: dict[str, Any], exc: Exception) -> KfopsError:
    from kubernetes.client import ApiException

    target = f"InferenceService {obj['metadata']['namespace']}/{obj['metadata']['name']}"
    if isinstance(exc, KfopsError):
        return exc
    if not isinstance(exc, ApiException) and is_timeout(exc):
        return KfopsError(f"cannot {action} {target}: the Kubernetes API timed out (no answer in time)")
    if not isinstance(exc, ApiException):
        return KfopsError(
            f"cannot {action} {target}: the Kubernetes API did not answer ({type(exc).__name__})"
        )
    try:
        message = str(json.loads(exc.body or "{}").get("message", ""))
    except (ValueError, AttributeError):
        message = ""
    hint = ""
    if exc.status in (401, 403):
        hint = f"; this identity needs create/get/update on {kserve.PLURAL}.{kserve.GROUP} in the namespace"
    elif exc.status == 404 and action == "create":
        hint = f"; is KServe ({kserve.API_VERSION}) installed and does the namespace exist?"
    return KfopsError(
        f"Kubernetes refused to {action} {target} (HTTP {exc.status}): {message or exc.reason}{hint}"
    )


def apply(api_client: Any, obj: dict[str, Any]) -> str:
    """Create ``obj``; if it exists (409) and kfops manages it, replace it with its ``resourceVersion``.

    Returns:
        ``created`` or ``replaced``.

    Raises:
        KfopsError: Refused, unreachable, or the existing object is not managed by kfops.
    """
    from kubernetes import client as k8s

    api = k8s.CustomObjectsApi(api_client)
    namespace, name = obj["metadata"]["namespace"], obj["metadata"]["name"]
    where = (kserve.GROUP, kserve.VERSION, namespace, kserve.PLURAL)
    try:
        api.create_namespaced_custom_object(
            *where, copy.deepcopy(obj), _request_timeout=api_timeout(api_client)
        )
        return "created"
    except k8s.ApiException as exc:
        if exc.status != 409:
            raise _api_failure("create", obj, exc) from None
    except Exception as exc:
        raise _api_failure("create", obj, exc) from None
    for _ in range(REPLACE_ATTEMPTS):
        try:
            existing = api.get_namespaced_custom_object(
                *where, name, _request_timeout=api_timeout(api_client)
            )
        except Exception as exc:
            raise _api_failure("read", obj, exc) from None
        meta = existing.get("metadata", {})
        if (meta.get("labels") or {}).get(MANAGED_BY_LABEL) != PROJECT:
            raise KfopsError(
                f"InferenceService {namespace}/{name} exists and is not managed by kfops (no label "
                f"{MANAGED_BY_LABEL}={PROJECT}); pass another --name or remove it"
            )
        body = copy.deepcopy(obj)
        body["metadata"]["resourceVersion"] = meta["resourceVersion"]
        # Keep what others added; drop what kfops wrote for the previous version (it may lack a key now).
        ours = set(obj["metadata"]["labels"]) | {"app.kubernetes.io/version"}
        body["metadata"]["labels"] = {
            **{k: v for k, v in (meta.get("labels") or {}).items() if k not in ours},
            **obj["metadata"]["labels"],
        }
        annotations = meta.get("annotations") or {}
        theirs = {k: v for k, v in annotations.items() if not k.startswith(ANNOTATION_PREFIX)}
        body["metadata"]["annotations"] = {**theirs, **obj["metadata"]["annotations"]}
        try:
            api.replace_namespaced_custom_object(*where, name, body, _request_timeout=api_timeout(api_client))
            return "replaced"
        except k8s.ApiException as exc:
            if exc.status != 409:  # 409 here: changed since we read it; read again
                raise _api_failure("replace", obj, exc) from None
        except Exception as exc:
            raise _api_failure("replace", obj, exc) from None
    raise KfopsError(
        f"InferenceService {namespace}/{name} kept changing while being replaced "
        f"({REPLACE_ATTEMPTS} attempts); try again"
    )
