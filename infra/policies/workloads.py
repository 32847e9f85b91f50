"""IRSA policies of the pods: pipeline tasks (``default-editor``) and KServe's model loader."""

from __future__ import annotations

from components.shared.names import LAYOUT
from infra.policies.documents import Policy, document
from infra.policies.store import StoreAccess, list_prefixes, object_arns, store_key_statements

#: Prefixes pipeline pods read and write (KFP's root, then the store layout).
PIPELINE_PREFIXES = (LAYOUT.pipelines, LAYOUT.data, LAYOUT.models, LAYOUT.metrics, LAYOUT.predictions)


def pipeline_pods(store: StoreAccess) -> Policy:
    """IRSA policy of ``default-editor``: read/write the pipeline prefixes of the store."""
    return document(
        list_prefixes("ListPipelinePrefixes", store, PIPELINE_PREFIXES),
        {
            "Sid": "ReadWritePipelineObjects",
            "Effect": "Allow",
            "Action": ["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload"],
            "Resource": object_arns(store, PIPELINE_PREFIXES),
        },
        *store_key_statements("UseStoreKeyThroughS3", store, write=True),
    )


def kserve_models(store: StoreAccess) -> Policy:
    """IRSA policy of KServe's ServiceAccount: read-only on the store's ``models/``."""
    return document(
        list_prefixes("ListModels", store, (LAYOUT.models,)),
        {
            "Sid": "ReadModels",
            "Effect": "Allow",
            "Action": "s3:GetObject",
            "Resource": object_arns(store, (LAYOUT.models,)),
        },
        *store_key_statements("ReadStoreKeyThroughS3", store, write=False),
    )
