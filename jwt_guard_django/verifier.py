"""``JWT_GUARD`` to one shared core :class:`~jwt_guard_core.Verifier`, with its remote key sets
and their caches; rebuilt when ``JWT_GUARD`` changes (docs/django.md)."""

from __future__ import annotations

from .conf import served

#: The shared verifier for the current ``JWT_GUARD`` (``ImproperlyConfigured`` naming a key).
get_verifier = served.verifier
#: Drop the shared verifier (its HTTP clients closed); the next request builds a new one.
reset_verifier = served.reset_verifier
#: ``JWT_GUARD`` as a :class:`~jwt_guard_core.GuardConfig` (``ConfigurationError``: a key).
build_config = served.config
#: ``key_sources(verifier=None)``: the key source of each configured issuer (``None``: any).
key_sources = served.key_sources
#: ``warm(verifier=None)``: fetch every remote key set now; a failure is logged, not raised.
warm = served.warm
awarm = served.awarm
#: ``{"ok": bool, "key_sets": {issuer or "*": {...}}}``, for a health endpoint.
key_set_health = served.key_set_health
