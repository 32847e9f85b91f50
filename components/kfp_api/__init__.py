"""The one KFP v2beta1 API client (used by kfops and the retrain trigger image).

Only the images that call the KFP API copy this package (``EXTRA_INPUTS`` in
``components/images.py``), so editing it re-tags only those images.
"""

from components.kfp_api.calls import ApiError, AuthError, RetryPolicy
from components.kfp_api.client import KfpApi, Server, name_filter, when

__all__ = ["ApiError", "AuthError", "KfpApi", "RetryPolicy", "Server", "name_filter", "when"]
