"""Reusable Kubeflow Pipelines components, one folder and one image each.

Every component has the same shape: ``core`` (pure, typed; no kfp, no boto3) ->
``io`` (reads and writes local paths or ``s3://`` URIs) -> ``__main__`` (CLI) ->
``component`` (the KFP wrapper, which only declares inputs, outputs and image).
"""
