"""KServe facts of ``kfops serve`` (plain constants: no Pulumi, no client).

The ServiceAccount name is defined once, in ``components/shared/names.py``:
``infra/config.py`` uses it as the default of ``kfops:kserveServiceAccount`` and
``infra/kubernetes_objects.py`` as the default of ``ProfileValues``, so the account
Pulumi annotates with the read-only IRSA role (``models/`` only) is the one
``kfops serve`` names in ``spec.predictor.serviceAccountName`` (``SERVICE_ACCOUNT``).
"""

from __future__ import annotations

from components.shared.names import KSERVE_SERVICE_ACCOUNT

#: ServiceAccount (in each profile namespace) KServe's storage initializer loads models with
#: (`components.shared.names`, which infra/ annotates with the IRSA role).
SERVICE_ACCOUNT = KSERVE_SERVICE_ACCOUNT

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
