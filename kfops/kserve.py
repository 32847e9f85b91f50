"""KServe facts shared by ``kfops serve`` and ``infra/`` (plain constants: no Pulumi, no client).

The ServiceAccount name is defined here once: ``infra/config.py`` uses it as the
default of ``kfops:kserveServiceAccount`` and ``infra/kubernetes_objects.py`` as the
default of ``ProfileValues``, so the account Pulumi annotates with the read-only
IRSA role (``models/`` only) is the one ``kfops serve`` names in
``spec.predictor.serviceAccountName``.
"""

from __future__ import annotations

#: ServiceAccount (in each profile namespace) KServe's storage initializer loads models with.
SERVICE_ACCOUNT = "kserve-models"

GROUP = "serving.kserve.io"
VERSION = "v1beta1"
API_VERSION = f"{GROUP}/{VERSION}"
KIND = "InferenceService"
PLURAL = "inferenceservices"

#: Top-level packages whose classes KServe's sklearn server can unpickle (its image holds
#: scikit-learn and what scikit-learn needs).
SKLEARN_RUNTIME_PACKAGES = ("sklearn", "numpy", "scipy")

#: KServe's sklearn server loads the one file with one of these extensions in ``storageUri``.
SKLEARN_MODEL_EXTENSIONS = (".joblib", ".pkl", ".pickle")
