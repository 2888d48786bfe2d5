"""Opaque access tokens, verified by asking their issuer (RFC 7662, RFC 9701).

:class:`IntrospectionSource` turns a token that is not a JWT into the same
:class:`~jwt_guard_core.VerifiedToken` the JWT pipeline returns, with the
same errors and events; :func:`route` says which path a token takes. See
docs/introspection.md.

``route`` and the errors are imported eagerly (the verifier may need them on
every request); the source and the client authentication classes are loaded
on first use, so an application that never introspects never imports the
HTTP client.
"""

from typing import TYPE_CHECKING, Any

from .errors import IntrospectionUnavailable, TokenInactive
from .routing import OpaqueTokenSource, TokenForm, route

if TYPE_CHECKING:
    from .client_auth import ClientSecretBasic, ClientSecretPost, PrivateKeyJWT
    from .source import IntrospectionSource

__all__ = [
    "ClientSecretBasic",
    "ClientSecretPost",
    "IntrospectionSource",
    "IntrospectionUnavailable",
    "OpaqueTokenSource",
    "PrivateKeyJWT",
    "TokenForm",
    "TokenInactive",
    "route",
]

_LAZY = {
    "ClientSecretBasic": "client_auth",
    "ClientSecretPost": "client_auth",
    "PrivateKeyJWT": "client_auth",
    "IntrospectionSource": "source",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib import import_module

    return getattr(import_module(f"{__name__}.{module}"), name)
