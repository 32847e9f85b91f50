"""kfops: one CLI for every step from a laptop to a Kubeflow cluster on AWS."""

__all__ = ["__version__"]
__version__ = "0.1.0"
