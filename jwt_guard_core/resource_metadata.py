"""OAuth 2.0 Protected Resource Metadata (RFC 9728), built from settings.

The document served at ``/.well-known/oauth-protected-resource`` tells a
client which authorization servers issue tokens for this API, which scopes
exist and how tokens must be presented (bearer methods, DPoP algorithms,
certificate binding). Every ``WWW-Authenticate`` challenge can point to it
with ``resource_metadata="<url>"`` (RFC 9728 section 5.1).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from ._remote_policy import is_loopback_host
from .dpop.policy import DPoPPolicy
from .errors import ConfigurationError

__all__ = ["BEARER_METHODS", "WELL_KNOWN_PATH", "ProtectedResourceMetadata", "metadata_url"]

WELL_KNOWN_PATH = "/.well-known/oauth-protected-resource"
# RFC 9728 section 2: the RFC 6750 methods; a cookie is not one of them.
BEARER_METHODS = ("header", "body", "query")


def _url(setting: str, value: Any, *, identifier: bool = False) -> str:
    """An https URL (http only on loopback, for development); identifiers have no query."""
    if not isinstance(value, str):
        raise ConfigurationError(setting, f"{value!r} is not a URL string")
    parts = urlsplit(value)
    host = parts.hostname or ""
    local_http = parts.scheme == "http" and is_loopback_host(host)
    if not host or not (parts.scheme == "https" or local_http):
        raise ConfigurationError(setting, f"{value!r} is not an https URL")
    if parts.fragment or "#" in value:
        raise ConfigurationError(setting, f"{value!r} has a fragment")
    if identifier and parts.query:
        raise ConfigurationError(setting, f"{value!r} has a query; an identifier has none")
    return value


def metadata_url(resource: str) -> str:
    """Where the metadata of ``resource`` lives (RFC 9728 section 3.1).

    The well-known segment goes between the host and the path:
    ``https://api.example/v1`` has its metadata at
    ``https://api.example/.well-known/oauth-protected-resource/v1``.
    """
    parts = urlsplit(_url("resource", resource, identifier=True))
    path = parts.path.rstrip("/")
    return f"{parts.scheme}://{parts.netloc}{WELL_KNOWN_PATH}{path}"


def _strings(setting: str, values: Any) -> tuple[str, ...]:
    if isinstance(values, str):
        raise ConfigurationError(setting, f"give a list such as [{values!r}], not a string")
    result = tuple(values)
    if not all(isinstance(v, str) and v for v in result):
        raise ConfigurationError(setting, "every entry must be a non-empty string")
    return result


@dataclass(frozen=True, kw_only=True)
class ProtectedResourceMetadata:
    """The RFC 9728 document for one protected resource.

    Args:
        resource: this API's resource identifier, an https URL without
            query or fragment (usually the ``aud`` its tokens carry).
        authorization_servers: issuer identifiers of the servers whose
            tokens are accepted.
        jwks_uri: where this resource publishes its own keys (when it signs
            or issues), or ``None``.
        scopes_supported: the scopes this resource understands.
        bearer_methods_supported: of ``header``, ``body``, ``query``;
            jwt-guard reads ``header`` (cookies are not an RFC 6750 method).
        dpop_signing_alg_values_supported: proof algorithms, when DPoP is on.
        dpop_bound_access_tokens_required: DPoP mode ``required``.
        tls_client_certificate_bound_access_tokens: mTLS binding is supported.
        resource_name, resource_documentation, resource_policy_uri,
        resource_tos_uri: for people reading the document.
    """

    resource: str
    authorization_servers: Sequence[str] = ()
    jwks_uri: str | None = None
    scopes_supported: Sequence[str] = ()
    bearer_methods_supported: Sequence[str] = ("header",)
    dpop_signing_alg_values_supported: Sequence[str] = ()
    dpop_bound_access_tokens_required: bool = False
    tls_client_certificate_bound_access_tokens: bool = False
    resource_name: str | None = None
    resource_documentation: str | None = None
    resource_policy_uri: str | None = None
    resource_tos_uri: str | None = None
    _document: dict[str, Any] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        _url("resource", self.resource, identifier=True)
        servers = _strings("authorization_servers", self.authorization_servers)
        for server in servers:
            _url("authorization_servers", server, identifier=True)
        methods = _strings("bearer_methods_supported", self.bearer_methods_supported)
        unknown = sorted(set(methods) - set(BEARER_METHODS))
        if unknown:
            raise ConfigurationError(
                "bearer_methods_supported",
                f"{', '.join(unknown)} not among {', '.join(BEARER_METHODS)}",
            )
        dpop_algs = _strings(
            "dpop_signing_alg_values_supported", self.dpop_signing_alg_values_supported
        )
        if self.dpop_bound_access_tokens_required and not dpop_algs:
            raise ConfigurationError(
                "dpop_bound_access_tokens_required", "DPoP is required but no algorithm is listed"
            )
        document: dict[str, Any] = {"resource": self.resource}
        if servers:
            document["authorization_servers"] = list(servers)
        for name in (
            "jwks_uri",
            "resource_documentation",
            "resource_policy_uri",
            "resource_tos_uri",
        ):
            value = getattr(self, name)
            if value is not None:
                document[name] = _url(name, value)
        scopes = _strings("scopes_supported", self.scopes_supported)
        if scopes:
            document["scopes_supported"] = list(scopes)
        document["bearer_methods_supported"] = list(methods)
        if self.resource_name is not None:
            document["resource_name"] = str(self.resource_name)
        if self.tls_client_certificate_bound_access_tokens:
            document["tls_client_certificate_bound_access_tokens"] = True
        if dpop_algs:
            document["dpop_signing_alg_values_supported"] = list(dpop_algs)
            document["dpop_bound_access_tokens_required"] = bool(
                self.dpop_bound_access_tokens_required
            )
        object.__setattr__(self, "_document", document)

    @classmethod
    def for_policies(
        cls,
        *,
        resource: str,
        dpop: DPoPPolicy | None = None,
        mtls: bool = False,
        **fields: Any,
    ) -> ProtectedResourceMetadata:
        """The document of a resource using ``dpop`` (``None``: DPoP off) and mTLS binding.

        The DPoP fields and ``tls_client_certificate_bound_access_tokens``
        follow the policies, so the document cannot drift from what the
        resource enforces; ``fields`` are the other arguments.
        """
        if dpop is not None and dpop.mode != "off":
            fields["dpop_signing_alg_values_supported"] = tuple(dpop.algorithms)
            fields["dpop_bound_access_tokens_required"] = dpop.mode == "required"
        return cls(resource=resource, tls_client_certificate_bound_access_tokens=mtls, **fields)

    @property
    def url(self) -> str:
        """The URL this document is served at (see :func:`metadata_url`)."""
        return metadata_url(self.resource)

    @property
    def path(self) -> str:
        """The path to route to the document (``/.well-known/oauth-protected-resource...``)."""
        return urlsplit(self.url).path

    def document(self) -> dict[str, Any]:
        """The JSON object to serve (a fresh copy each call)."""
        return {k: list(v) if isinstance(v, list) else v for k, v in self._document.items()}
