"""A timeout on every call of a ``kfp.Client`` (it passes ``_request_timeout=None``: wait forever)."""

from __future__ import annotations

from typing import Any


def impose_timeout(client: Any, timeout: tuple[float, float]) -> Any:
    """Give every REST call of ``client`` a ``(connect, read)`` timeout unless the call sets one.

    All of kfp.Client's generated APIs share one REST client, so patching it once covers them.
    """
    rest = client._pipelines_api.api_client.rest_client
    original = rest.request

    def request(*args: Any, _request_timeout: Any = None, **kwargs: Any) -> Any:
        return original(*args, _request_timeout=_request_timeout or timeout, **kwargs)

    rest.request = request
    return client
