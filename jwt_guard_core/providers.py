"""Provider profiles: the settings an identity provider's access tokens need, as presets.

A profile is only a preset of ordinary settings (DESIGN.md: "Provider
profiles are only presets of these settings"): :func:`provider_settings`
returns them as ``{SETTING: value}`` in the Django spelling (Flask prefixes
``JWT_GUARD_``), the ``PROVIDER`` setting fills in every one the
configuration does not give itself, and ``jwt-guard provider NAME --param
k=v`` prints them. Nothing here fetches anything.

Each profile states how the provider's access tokens look: issuer and
discovery, audience or authorized parties, algorithms, where roles and
scopes live. docs/providers.md has the table.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .errors import ConfigurationError

__all__ = ["PROFILES", "Profile", "provider_settings"]

_HOST = re.compile(r"[A-Za-z0-9][A-Za-z0-9.-]*(?::\d+)?")
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


@dataclass(frozen=True)
class Profile:
    """One provider: its parameters (required and optional) and how they expand."""

    required: tuple[str, ...]
    optional: tuple[str, ...]
    expand: Callable[[Mapping[str, str]], dict[str, Any]]
    doc: str


def _https(setting: str, value: str) -> str:
    if not value.startswith("https://") or "?" in value or "#" in value:
        raise ConfigurationError(setting, f"{value!r} is not an https URL without query")
    return value.rstrip("/")


def _host(setting: str, value: str) -> str:
    value = value.removeprefix("https://").rstrip("/")
    if _HOST.fullmatch(value) is None:
        raise ConfigurationError(setting, f"{value!r} is not a host name such as example.com")
    return value


def _name(setting: str, value: str) -> str:
    if _NAME.fullmatch(value) is None:
        raise ConfigurationError(setting, f"{value!r} is not a plain identifier")
    return value


def _list(name: str, value: str) -> list[str]:
    """A comma-separated parameter; at least one non-empty entry."""
    found = [v.strip() for v in value.split(",") if v.strip()]
    if not found:
        raise ConfigurationError(
            name, f"{value!r} names none; give one or more, separated by commas"
        )
    return found


def _auth0(p: Mapping[str, str]) -> dict[str, Any]:
    issuer = f"https://{_host('domain', p['domain'])}/"  # Auth0 writes the trailing slash
    return {
        "ALGORITHMS": ["RS256"],
        "OIDC_ISSUER": issuer,
        "AUDIENCE": p["audience"],
        # RBAC puts the API permissions in "permissions"; OAuth scopes in "scope".
        "SCOPES_CLAIM": [["scope"], ["permissions"]],
        # Auth0 adds roles only through an Action, under a namespaced claim.
        "ROLES_CLAIM": p.get("roles_claim", "roles"),
    }


def _okta(p: Mapping[str, str]) -> dict[str, Any]:
    return {
        "ALGORITHMS": ["RS256"],
        "OIDC_ISSUER": _https("issuer", p["issuer"]),
        "AUDIENCE": p.get("audience", "api://default"),
        "SCOPES_CLAIM": "scp",
        "ROLES_CLAIM": "groups",
    }


def _keycloak(p: Mapping[str, str]) -> dict[str, Any]:
    url = _https("url", p["url"])
    client = _name("client_id", p["client_id"])
    found: dict[str, Any] = {
        "ALGORITHMS": ["RS256"],
        "OIDC_ISSUER": f"{url}/realms/{_name('realm', p['realm'])}",
        "AUTHORIZED_PARTIES": [client],
        "ROLES_CLAIM": [["realm_access", "roles"], ["resource_access", client, "roles"]],
    }
    if "audience" in p:
        found["AUDIENCE"] = p["audience"]
    return found


def _cognito(p: Mapping[str, str]) -> dict[str, Any]:
    region = _name("region", p["region"])
    pool = _name("user_pool_id", p["user_pool_id"])
    return {
        "ALGORITHMS": ["RS256"],
        "OIDC_ISSUER": f"https://cognito-idp.{region}.amazonaws.com/{pool}",
        # Access tokens have no aud: client_id binds them to the app client.
        "AUTHORIZED_PARTIES": [_name("client_id", p["client_id"])],
        "REQUIRED_CLAIMS": ["token_use", "client_id"],
        "CLAIM_VALUES": {"token_use": "access"},
        "ROLES_CLAIM": "cognito:groups",
    }


def _entra(p: Mapping[str, str]) -> dict[str, Any]:
    tenant = _name("tenant", p["tenant"])
    found: dict[str, Any] = {
        "ALGORITHMS": ["RS256"],
        "AUDIENCE": p["audience"],
        "ROLES_CLAIM": "roles",
        "SCOPES_CLAIM": "scp",
    }
    base = "https://login.microsoftonline.com"
    if tenant in ("common", "organizations"):
        found["ISSUER"] = f"{base}/{{tid}}/v2.0"
        found["OIDC_ISSUER"] = f"{base}/{tenant}/v2.0"
        if "tenants" in p:
            found["TENANTS"] = [t.strip() for t in p["tenants"].split(",") if t.strip()]
    else:
        found["OIDC_ISSUER"] = f"{base}/{tenant}/v2.0"
    return found


def _google(p: Mapping[str, str]) -> dict[str, Any]:
    # Google's own tokens for your API are ID tokens (its access tokens are opaque).
    return {
        "ALGORITHMS": ["RS256"],
        "ISSUER": ["https://accounts.google.com", "accounts.google.com"],
        "JWKS_URL": "https://www.googleapis.com/oauth2/v3/certs",
        "AUDIENCE": p["client_id"],
    }


def _firebase(p: Mapping[str, str]) -> dict[str, Any]:
    project = _name("project_id", p["project_id"])
    return {
        "ALGORITHMS": ["RS256"],
        "ISSUER": f"https://securetoken.google.com/{project}",
        "JWKS_URL": (
            "https://www.googleapis.com/service_accounts/v1/jwk/"
            "securetoken@system.gserviceaccount.com"
        ),
        "AUDIENCE": project,
        # Custom claims set with the Admin SDK: {"roles": {"admin": true}}.
        "ROLES_BOOLEANS": True,
    }


def _zitadel(p: Mapping[str, str]) -> dict[str, Any]:
    return {
        "ALGORITHMS": ["RS256"],
        "OIDC_ISSUER": f"https://{_host('domain', p['domain'])}",
        "AUDIENCE": p["project_id"],
        # ID tokens can list the project id in aud too: the client ids
        # (client_id / azp) tell the API's callers apart and let the token
        # kind rule refuse ID tokens.
        "AUTHORIZED_PARTIES": _list("client_ids", p["client_ids"]),
        "ROLES_CLAIM": "urn:zitadel:iam:org:project:roles",
    }


def _clerk(p: Mapping[str, str]) -> dict[str, Any]:
    issuer = f"https://{_host('domain', p['domain'])}"
    parties = _list("authorized_parties", p["authorized_parties"])
    return {
        "ALGORITHMS": ["RS256"],
        "ISSUER": issuer,
        "JWKS_URL": f"{issuer}/.well-known/jwks.json",
        # Session tokens have no aud; azp is the origin of the page that asked.
        "AUTHORIZED_PARTIES": parties,
    }


def _supabase(p: Mapping[str, str]) -> dict[str, Any]:
    ref = _name("project_ref", p["project_ref"])
    issuer = f"https://{ref}.supabase.co/auth/v1"
    return {
        "ALGORITHMS": ["ES256", "RS256"],
        "ISSUER": issuer,
        "JWKS_URL": f"{issuer}/.well-known/jwks.json",
        "AUDIENCE": "authenticated",
        "ROLES_CLAIM": "role",
    }


def _hydra(p: Mapping[str, str]) -> dict[str, Any]:
    issuer = _https("issuer", p["issuer"])
    return {
        "ALGORITHMS": ["RS256"],
        "OIDC_ISSUER": issuer + "/",  # Hydra's issuer ends with a slash
        "AUDIENCE": p["audience"],
        "SCOPES_CLAIM": "scp",
    }


PROFILES: Mapping[str, Profile] = {
    "auth0": Profile(("domain", "audience"), ("roles_claim",), _auth0, "Auth0 API access tokens"),
    "okta": Profile(("issuer",), ("audience",), _okta, "Okta custom authorization server"),
    "keycloak": Profile(
        ("url", "realm", "client_id"), ("audience",), _keycloak, "Keycloak realm access tokens"
    ),
    "cognito": Profile(
        ("region", "user_pool_id", "client_id"), (), _cognito, "Amazon Cognito access tokens"
    ),
    "entra": Profile(
        ("tenant", "audience"), ("tenants",), _entra, "Microsoft Entra ID v2.0 access tokens"
    ),
    "google": Profile(("client_id",), (), _google, "Google ID tokens (Sign-In)"),
    "firebase": Profile(("project_id",), (), _firebase, "Firebase Authentication ID tokens"),
    "zitadel": Profile(
        ("domain", "project_id", "client_ids"), (), _zitadel, "ZITADEL access tokens (JWT)"
    ),
    "clerk": Profile(
        ("domain", "authorized_parties"), (), _clerk, "Clerk session tokens (Frontend API)"
    ),
    "supabase": Profile(("project_ref",), (), _supabase, "Supabase Auth (asymmetric keys)"),
    "hydra": Profile(("issuer", "audience"), (), _hydra, "Ory Hydra JWT access tokens"),
}


def provider_settings(name: str, /, **params: str) -> dict[str, Any]:
    """The settings of provider ``name`` with ``params``, as ``{SETTING: value}``.

    Raises :class:`~jwt_guard_core.ConfigurationError` (setting ``provider``)
    for an unknown provider, a missing or unknown parameter, or a bad value.
    """
    profile = PROFILES.get(name.lower() if isinstance(name, str) else "")
    if profile is None:
        raise ConfigurationError(
            "provider", f"{name!r} is not a known provider; known: {', '.join(PROFILES)}"
        )
    missing = [p for p in profile.required if not params.get(p)]
    unknown = sorted(set(params) - set(profile.required) - set(profile.optional))
    if missing or unknown:
        accepted = ", ".join((*profile.required, *profile.optional))
        problem = f"missing {', '.join(missing)}" if missing else f"unknown {', '.join(unknown)}"
        raise ConfigurationError("provider", f"{name}: {problem}; its parameters: {accepted}")
    if not all(isinstance(v, str) for v in params.values()):
        raise ConfigurationError("provider", f"{name}: parameters are strings")
    try:
        return profile.expand(params)
    except ConfigurationError as exc:
        raise ConfigurationError("provider", f"{name}: {exc}") from None
