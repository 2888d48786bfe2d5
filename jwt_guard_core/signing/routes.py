"""The public routes as plain replies: the JWKS, OIDC discovery and RFC 9728 metadata.

Both adapters serve ``/.well-known/jwks.json`` and
``/.well-known/openid-configuration`` (and Django the metadata route,
:data:`PUBLIC_ROUTES`); what they answer (body, status, headers, a 503 when
the key store cannot serve, a 404 for metadata that is not there) is decided
here once, and an adapter only turns a :class:`RouteReply` into its response type.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..errors import ConfigurationError
from .errors import KeyStoreError
from .unavailable import issuing_unavailable_response

if TYPE_CHECKING:
    from ..resource_metadata import ProtectedResourceMetadata
    from ..sender import ResourcePolicy
    from .settings import Issuing

__all__ = [
    "PUBLIC_ROUTES",
    "RouteReply",
    "jwks_reply",
    "metadata_reply",
    "openid_configuration_reply",
    "public_reply",
]

#: The public routes by name, each path a regular expression from the site's root.
PUBLIC_ROUTES = {
    "jwks": r"\.well-known/jwks\.json",
    "openid_configuration": r"\.well-known/openid-configuration",
    # RFC 9728 section 3.1: the resource's path follows the well-known segment.
    "protected_resource_metadata": r"\.well-known/oauth-protected-resource(?:/.*)?",
}


@dataclass(frozen=True)
class RouteReply:
    """Status, headers (``Content-Type`` included) and body of one answer."""

    status: int
    headers: Mapping[str, str]
    body: bytes


def _unavailable(exc: ConfigurationError | KeyStoreError, logger: logging.Logger) -> RouteReply:
    reply = issuing_unavailable_response(exc, logger=logger)
    headers = {**reply.headers, "Content-Type": "application/json"}
    return RouteReply(reply.status, headers, json.dumps(reply.body).encode("utf-8"))


def jwks_reply(issuing: Callable[[], Issuing], *, logger: logging.Logger) -> RouteReply:
    """The public keys with the key manager's ``Cache-Control`` and the JWK Set media type.

    With ``ENCRYPTION_ALGORITHM`` the JWE decryption key's public half follows
    the signing keys, with ``use: "enc"``.
    """
    try:
        side = issuing()
        reply = side.keys.jwks_response()
        body = reply.body
        if side.encryption is not None:
            # The JWE decryption key's public half (use "enc"): what issuers encrypt to.
            document = json.loads(body)
            document["keys"] += side.encryption.jwks()["keys"]
            body = json.dumps(document, separators=(",", ":")).encode("utf-8")
    except (ConfigurationError, KeyStoreError) as exc:
        return _unavailable(exc, logger)
    return RouteReply(reply.status, dict(reply.headers), body)


def openid_configuration_reply(
    issuing: Callable[[], Issuing], *, logger: logging.Logger
) -> RouteReply:
    """``issuer`` and ``jwks_uri``: enough for ``RemoteJWKS.from_issuer``.

    ``jwks_uri`` comes from the settings (or the issuer URL), never from the
    request's ``Host`` header.
    """
    try:
        side = issuing()
    except (ConfigurationError, KeyStoreError) as exc:
        return _unavailable(exc, logger)
    document = side.issuer.openid_configuration(side.jwks_uri)
    headers = {
        "Content-Type": "application/json",
        "Cache-Control": side.keys.jwks_cache_control(),
        "X-Content-Type-Options": "nosniff",
    }
    return RouteReply(200, headers, json.dumps(document, separators=(",", ":")).encode("utf-8"))


def metadata_reply(metadata: ProtectedResourceMetadata | None, path: str) -> RouteReply | None:
    """The RFC 9728 document at its own path; ``None`` (a 404) elsewhere or without one."""
    if metadata is None or path != metadata.path:
        return None
    body = json.dumps(metadata.document()).encode("utf-8")
    return RouteReply(200, {"Content-Type": "application/json"}, body)


def public_reply(
    route: str,
    path: str,
    issuing: Callable[[], Issuing],
    resource: Callable[[], ResourcePolicy],
    *,
    logger: logging.Logger,
) -> RouteReply | None:
    """The answer of the :data:`PUBLIC_ROUTES` route ``route`` at ``path``; ``None``: a 404.

    ``issuing()`` builds the issuing side, ``resource()`` the policy holding the metadata.
    """
    if route == "jwks":
        return jwks_reply(issuing, logger=logger)
    if route == "openid_configuration":
        return openid_configuration_reply(issuing, logger=logger)
    if route == "protected_resource_metadata":
        return metadata_reply(resource().metadata, path)
    raise ValueError(f"{route!r} is not one of the public routes")
