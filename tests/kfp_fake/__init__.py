"""A stand-in KFP 2.17 API server derived rule by rule from the upstream source.

See ``server.py`` (routes, authorization, gateway model), ``rules.py`` (validation,
file parsing, listing), ``scheduler.py`` (ScheduledWorkflow ticks) and ``schema.py``
(swagger validation against ``tests/kfp_api``).
"""

from .server import Request, State, serve

__all__ = ["Request", "State", "serve"]
