"""Webhook notifications (e.g. a Slack incoming webhook): best effort, never blocking the work."""

from __future__ import annotations

import json
import sys
from typing import Any

WEBHOOK_TIMEOUT = (3.0, 10.0)  # connect, read


def notify(url: str, payload: dict[str, Any]) -> bool:
    """POST ``payload`` to a webhook (bounded retries, timeouts); a failure only warns."""
    if not url:
        return False
    import urllib3

    retry = urllib3.Retry(
        total=3, backoff_factor=0.5, status_forcelist=(429, 500, 502, 503, 504), allowed_methods=None
    )
    try:
        response = urllib3.request(
            "POST",
            url,
            body=json.dumps(payload).encode(),
            headers={"Content-Type": "application/json"},
            retries=retry,
            timeout=urllib3.Timeout(connect=WEBHOOK_TIMEOUT[0], read=WEBHOOK_TIMEOUT[1]),
        )
    except urllib3.exceptions.HTTPError as exc:
        print(f"warning: webhook not notified: {exc}", file=sys.stderr)
        return False
    if response.status >= 300:
        print(f"warning: webhook answered HTTP {response.status}", file=sys.stderr)
        return False
    return True
