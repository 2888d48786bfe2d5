"""Access tokens as each provider writes them, with the profile parameters that accept them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tests.factories import NOW

T = int(NOW)
TID = "9188040d-6c67-4c5b-b112-36a304b66dad"
# A v2.0 access token's aud is the API's application (client) ID, not its api:// URI
# (Microsoft identity platform, "Access token claims reference").
ENTRA_API = "6e74172b-be56-4843-9ff4-e66a39bb12e3"


@dataclass(frozen=True)
class Shape:
    """A provider's profile parameters, one of its access tokens, and what it grants."""

    provider: str
    params: dict[str, str]
    claims: dict[str, Any]
    roles: frozenset[str] = frozenset()
    scopes: frozenset[str] = frozenset()
    header: dict[str, Any] = field(default_factory=dict)
    # Tokens of the same provider that are not access tokens, refused.
    others: tuple[dict[str, Any], ...] = ()


def _times(**claims: Any) -> dict[str, Any]:
    return {"iat": T - 60, "exp": T + 3540, **claims}


SHAPES = (
    Shape(
        "auth0",
        {"domain": "acme.eu.auth0.com", "audience": "https://api.acme.example"},
        _times(
            iss="https://acme.eu.auth0.com/",
            sub="auth0|64f0c0ffee",
            aud=["https://api.acme.example", "https://acme.eu.auth0.com/userinfo"],
            azp="Xq1spaClientId",
            scope="openid profile read:orders",
            permissions=["read:orders", "write:orders"],
        ),
        scopes=frozenset({"openid", "profile", "read:orders", "write:orders"}),
    ),
    Shape(
        "okta",
        {"issuer": "https://dev-1.okta.com/oauth2/default"},
        _times(
            ver=1,
            jti="AT.abc",
            iss="https://dev-1.okta.com/oauth2/default",
            aud="api://default",
            cid="0oa1spa",
            uid="00u1",
            scp=["openid", "orders.read"],
            sub="ann@example.com",
            groups=["Everyone", "admins"],
        ),
        roles=frozenset({"Everyone", "admins"}),
        scopes=frozenset({"openid", "orders.read"}),
    ),
    Shape(
        "keycloak",
        {"url": "https://kc.example", "realm": "main", "client_id": "web"},
        _times(
            iss="https://kc.example/realms/main",
            aud="account",
            sub="f0c1a2b3-0000-4000-8000-000000000001",
            typ="Bearer",
            azp="web",
            nonce="n-0S6_WzA2Mj",
            sid="s-1",
            scope="openid email profile",
            realm_access={"roles": ["offline_access", "admin"]},
            resource_access={"web": {"roles": ["editor"]}, "account": {"roles": ["view"]}},
        ),
        roles=frozenset({"offline_access", "admin", "editor"}),
        scopes=frozenset({"openid", "email", "profile"}),
        others=(
            {"typ": "Refresh", "aud": "https://kc.example/realms/main"},
            {"typ": "ID", "aud": "web", "at_hash": "x", "scope": None},
        ),
    ),
    Shape(
        "cognito",
        {"region": "eu-west-1", "user_pool_id": "eu-west-1_AbC", "client_id": "app1client"},
        _times(
            iss="https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC",
            sub="7f1c0ffe-0000-4000-8000-000000000002",
            client_id="app1client",
            token_use="access",
            scope="aws.cognito.signin.user.admin",
            username="ann",
            auth_time=T - 60,
            jti="j-1",
            **{"cognito:groups": ["admins"]},
        ),
        roles=frozenset({"admins"}),
        scopes=frozenset({"aws.cognito.signin.user.admin"}),
        others=(
            {"token_use": "id", "aud": "app1client", "client_id": None},
            {"client_id": "other-client"},
        ),
    ),
    Shape(
        "entra",
        {"tenant": "organizations", "audience": ENTRA_API, "tenants": TID},
        _times(
            iss=f"https://login.microsoftonline.com/{TID}/v2.0",
            tid=TID,
            aud=ENTRA_API,
            azp="spa-client",
            sub="AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bbtaQ",
            oid="00000000-0000-0000-66f3-3332eca7ea81",
            scp="orders.read orders.write",
            roles=["Admin"],
            ver="2.0",
        ),
        roles=frozenset({"Admin"}),
        scopes=frozenset({"orders.read", "orders.write"}),
        others=(
            {"iss": "https://login.microsoftonline.com/other-tenant/v2.0", "tid": "other-tenant"},
        ),
    ),
    Shape(
        "google",
        {"client_id": "1234.apps.googleusercontent.com"},
        _times(
            iss="https://accounts.google.com",
            aud="1234.apps.googleusercontent.com",
            azp="1234.apps.googleusercontent.com",
            sub="110169484474386276334",
            email="ann@example.com",
            email_verified=True,
            at_hash="HK6E_P6Dh8Y93mRNtsDB1Q",
        ),
    ),
    Shape(
        "firebase",
        {"project_id": "acme-app"},
        _times(
            iss="https://securetoken.google.com/acme-app",
            aud="acme-app",
            sub="uid-123",
            user_id="uid-123",
            auth_time=T - 60,
            firebase={"identities": {}, "sign_in_provider": "password"},
            roles={"admin": True, "editor": False},
        ),
        roles=frozenset({"admin"}),
    ),
    Shape(
        "zitadel",
        {"domain": "acme.zitadel.cloud", "project_id": "2345project", "client_ids": "client@acme"},
        _times(
            iss="https://acme.zitadel.cloud",
            aud=["2345project", "client@acme"],
            sub="2345user",
            client_id="client@acme",
            jti="j-2",
            **{"urn:zitadel:iam:org:project:roles": {"admin": {"2345org": "acme.zitadel.cloud"}}},
        ),
        roles=frozenset({"admin"}),
        others=(
            # Its ID token: the project id in aud too, minted for the client.
            {
                "aud": ["client@acme", "2345project"],
                "azp": "client@acme",
                "client_id": None,
                "jti": None,
                "at_hash": "HK6E_P6Dh8Y93mRNtsDB1Q",
            },
            # Another client's access token for the same project.
            {"client_id": "other@acme", "aud": ["2345project", "other@acme"]},
        ),
    ),
    Shape(
        "clerk",
        {"domain": "clerk.acme.example", "authorized_parties": "https://app.acme.example"},
        _times(
            iss="https://clerk.acme.example",
            azp="https://app.acme.example",
            sub="user_2abc",
            sid="sess_2abc",
            nbf=T - 70,
        ),
        others=({"azp": "https://evil.example"},),
    ),
    Shape(
        "supabase",
        {"project_ref": "abcdefghij"},
        _times(
            iss="https://abcdefghij.supabase.co/auth/v1",
            aud="authenticated",
            sub="8f1c0ffe-0000-4000-8000-000000000003",
            role="authenticated",
            email="ann@example.com",
            session_id="s-3",
            is_anonymous=False,
        ),
        roles=frozenset({"authenticated"}),
    ),
    Shape(
        "hydra",
        {"issuer": "https://hydra.acme.example", "audience": "orders-api"},
        _times(
            iss="https://hydra.acme.example/",
            aud=["orders-api"],
            client_id="cli",
            sub="ann",
            jti="j-3",
            scp=["orders.read"],
            ext={},
        ),
        scopes=frozenset({"orders.read"}),
    ),
)
