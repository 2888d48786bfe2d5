"""The example projects under a real gunicorn trust a LocalIssuer configured by environment.

What the e2e tests do with a hand-made JWKS server and hand-signed tokens,
done with the kit: the issuer serves its JWKS (or discovery) on loopback,
the example fetches it from another process, and every bad variant gets
401 ``invalid_token`` over real HTTP.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from jwt_guard_core.testing import LocalIssuer, TokenFactory
from tests.e2e.servers import AUDIENCE, ROOT, bearer, gunicorn, serving

EXAMPLES = {
    "django": (
        ROOT / "example_projects" / "django_api",
        gunicorn("orders_api.wsgi:application"),
        {"DJANGO_SETTINGS_MODULE": "orders_api.settings"},
    ),
    "flask": (ROOT / "example_projects" / "flask_api", gunicorn("app:create_app()"), {}),
}
BAD_VARIANTS = [
    "expired",
    "not_yet_valid",
    "wrong_audience",
    "wrong_issuer",
    "unknown_key",
    "signed_by_rotated_key",
    "alg_none",
    "tampered",
]


@pytest.fixture(scope="module")
def issuer() -> Iterator[LocalIssuer]:
    with LocalIssuer(audience=AUDIENCE) as local:
        yield local


@pytest.fixture(
    scope="module", params=["django-jwks", "django-discovery", "flask-jwks", "flask-discovery"]
)
def served(
    request: pytest.FixtureRequest, issuer: LocalIssuer, tmp_path_factory: Any
) -> Iterator[str]:
    example, keys = request.param.split("-")
    project, command, env = EXAMPLES[example]
    if keys == "jwks":
        env = {**env, "JWT_GUARD_ISSUER": issuer.url, "JWT_GUARD_JWKS_URL": issuer.jwks_url}
    else:
        env = {**env, "JWT_GUARD_DISCOVERY_URL": issuer.discovery_url}
    log_path = tmp_path_factory.mktemp("server") / f"{request.param}.log"
    with serving(command, project, env, log_path) as url:
        yield url


def test_the_example_warms_the_issuers_key_set(served: str, issuer: LocalIssuer) -> None:
    body = httpx.get(f"{served}/healthz").json()
    assert body["ok"] is True
    assert body["key_sets"][issuer.url]["kids"] == [issuer.kid]
    assert issuer.jwks_requests >= 1


def test_a_valid_token_reaches_the_view(served: str, issuer: LocalIssuer) -> None:
    tokens = issuer.tokens()
    response = httpx.get(
        f"{served}/api/me", headers=bearer(tokens.token("frank", scopes=["profile"]))
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["subject"], body["issuer"], body["scopes"]) == ("frank", issuer.url, ["profile"])


@pytest.mark.parametrize("variant", BAD_VARIANTS)
def test_every_bad_variant_is_401_invalid_token(
    served: str, issuer: LocalIssuer, variant: str
) -> None:
    tokens: TokenFactory = issuer.tokens()
    response = httpx.get(f"{served}/api/me", headers=bearer(getattr(tokens, variant)()))
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]
    assert response.json()["error"] == "invalid_token"
