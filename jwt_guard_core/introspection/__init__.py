"""Opaque access tokens, verified by asking their issuer (RFC 7662, RFC 9701).

:class:`IntrospectionSource` turns a token that is not a JWT into the same
:class:`~jwt_guard_core.VerifiedToken` the JWT pipeline returns, with the
same errors and events; :func:`route` says which path a token takes. See
docs/introspection.md.
"""

from .client_auth import ClientSecretBasic, ClientSecretPost, PrivateKeyJWT
from .errors import IntrospectionUnavailable, TokenInactive
from .routing import TokenForm, route
from .source import IntrospectionSource

__all__ = [
    "ClientSecretBasic",
    "ClientSecretPost",
    "IntrospectionSource",
    "IntrospectionUnavailable",
    "PrivateKeyJWT",
    "TokenForm",
    "TokenInactive",
    "route",
]
