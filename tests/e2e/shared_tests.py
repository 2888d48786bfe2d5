"""End-to-end tests that read the same for every example project.

Imported into each server test module, where pytest collects them with that
module's ``served`` fixture: the Django and the Flask example answer
``/healthz`` and ``/api/me`` with the same JSON.
"""

from __future__ import annotations

from typing import Any

import httpx

from jwt_guard_core.testing import LocalIssuer

from .servers import AUDIENCE, bearer


def test_healthz_reports_the_warmed_key_set(
    served: tuple[str, str], e2e_issuer: LocalIssuer
) -> None:
    base_url, issuer = served
    response = httpx.get(f"{base_url}/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["ok"] is True
    key_set = body["key_sets"][issuer]
    assert key_set["type"] == "remote"
    assert key_set["state"] == "ok"
    assert key_set["url"] == e2e_issuer.jwks_url
    assert key_set["kids"] == [e2e_issuer.kid]


def test_me_returns_the_verified_claims(served: tuple[str, str], token: Any) -> None:
    base_url, issuer = served
    response = httpx.get(f"{base_url}/api/me", headers=bearer(token(scope="profile")))
    assert response.status_code == 200
    body = response.json()
    assert body["subject"] == "customer-42"
    assert body["issuer"] == issuer
    assert body["scopes"] == ["profile"]
    assert body["claims"]["aud"] == AUDIENCE
    assert body["claims"]["sub"] == "customer-42"
