"""``JWT_GUARD`` to one shared :class:`~jwt_guard_core.sender.ResourcePolicy`.

DPoP, certificate binding, RFC 9728 metadata and the challenges of every
refusal; the DPoP replay store and nonce secrets are kept for the process.
"""

from __future__ import annotations

from .conf import served

#: The resource policy of the current ``JWT_GUARD`` (``ImproperlyConfigured`` naming a key).
get_resource = served.resource
