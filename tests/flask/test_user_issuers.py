"""The user loader is called only for issuers that map to local users (security review, finding 4).

``JWT_GUARD_ISSUERS`` holds our issuer and a partner's; the loader looks
users up by subject. A partner token with ``sub="admin"`` must not become
the local admin (OpenID Connect Core 5.7: a user is ``iss`` and ``sub``):
the loader is not called for it and ``current_user`` is ``None``.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest
from flask import Flask

from jwt_guard_core import ConfigurationError, VerifiedToken
from jwt_guard_flask import current_token, current_user, jwt_required, token_rejected
from tests.factories import ISSUER, KeyRing, claims, public_pem, sign
from tests.flask.conftest import MakeApp, bearer, expect_error

PARTNER = "https://partner.example"


def issuers(keyring: KeyRing) -> dict[str, Any]:
    return {
        ISSUER: {"PUBLIC_KEY": {"rsa-1": public_pem(keyring.rsa)}, "ALGORITHMS": ["RS256"]},
        PARTNER: {"PUBLIC_KEY": {"partner-1": public_pem(keyring.p256)}, "ALGORITHMS": ["ES256"]},
    }


def ours(keyring: KeyRing, **overrides: Any) -> str:
    return sign({"alg": "RS256", "kid": "rsa-1"}, claims(**overrides), keyring.rsa)


def partners(keyring: KeyRing, **overrides: Any) -> str:
    return sign(
        {"alg": "ES256", "kid": "partner-1"}, claims(iss=PARTNER, **overrides), keyring.p256
    )


@pytest.fixture
def build(make_app: MakeApp, keyring: KeyRing) -> Any:
    """``build(**config)``: two issuers, a loader by subject, ``/me`` answering who is who."""

    def _build(**config: Any) -> tuple[Flask, list[tuple[str | None, str | None]]]:
        app = make_app(
            JWT_GUARD_ALGORITHMS=["RS256", "ES256"],
            JWT_GUARD_ISSUER=None,
            JWT_GUARD_PUBLIC_KEY=None,
            JWT_GUARD_ISSUERS=issuers(keyring),
            **config,
        )
        guard = app.extensions["jwt_guard"]
        calls: list[tuple[str | None, str | None]] = []

        @guard.user_loader
        def load(token: VerifiedToken) -> Any:
            calls.append((token.issuer, token.subject))
            return {"admin": "local superuser admin"}.get(token.subject or "")

        @app.get("/me")
        @jwt_required
        def me() -> dict[str, Any]:
            return {"sub": current_token.subject, "user": current_user._get_current_object()}

        @app.get("/async-me")
        @jwt_required
        async def async_me() -> dict[str, Any]:
            return {"sub": current_token.subject, "user": current_user._get_current_object()}

        return app, calls

    return _build


@pytest.mark.parametrize("path", ["/me", "/async-me"])
def test_partner_sub_admin_is_not_the_local_admin_by_default(build, keyring, path):
    app, calls = build()
    response = app.test_client().get(path, headers=bearer(partners(keyring, sub="admin")))
    assert response.status_code == 200
    assert response.get_json() == {"sub": "admin", "user": None}
    assert calls == []


@pytest.mark.parametrize("path", ["/me", "/async-me"])
def test_only_issuers_in_user_issuers_reach_the_loader(build, keyring, path):
    app, calls = build(JWT_GUARD_USER_ISSUERS=[ISSUER])
    client = app.test_client()
    mine = client.get(path, headers=bearer(ours(keyring, sub="admin")))
    assert mine.get_json() == {"sub": "admin", "user": "local superuser admin"}
    theirs = client.get(path, headers=bearer(partners(keyring, sub="admin")))
    assert theirs.status_code == 200
    assert theirs.get_json() == {"sub": "admin", "user": None}
    assert calls == [(ISSUER, "admin")]


def test_a_mapped_issuer_with_no_such_user_is_still_refused(build, keyring):
    app, calls = build(JWT_GUARD_USER_ISSUERS=[ISSUER])
    reasons: list[str] = []

    def receiver(sender: Any, reason: str, **kwargs: Any) -> None:
        reasons.append(reason)

    with token_rejected.connected_to(receiver, app):
        response = app.test_client().get("/me", headers=bearer(ours(keyring, sub="ghost")))
    expect_error(response, 401, "invalid_token")
    assert reasons == ["user_not_found"]
    assert calls == [(ISSUER, "ghost")]


def test_several_mapped_issuers_reach_the_loader_with_their_issuer(build, keyring):
    app, calls = build(JWT_GUARD_USER_ISSUERS=f"{ISSUER}, {PARTNER}")
    client = app.test_client()
    client.get("/me", headers=bearer(ours(keyring, sub="admin")))
    client.get("/me", headers=bearer(partners(keyring, sub="admin")))
    assert calls == [(ISSUER, "admin"), (PARTNER, "admin")]


def test_one_issuer_maps_by_default(make_app: MakeApp, mint):
    app = make_app()
    seen: list[str | None] = []

    @app.extensions["jwt_guard"].user_loader
    def load(token: VerifiedToken) -> Any:
        seen.append(token.subject)
        return "someone"

    @app.get("/me")
    @jwt_required
    def me() -> dict[str, Any]:
        return {"user": current_user._get_current_object()}

    assert app.test_client().get("/me", headers=bearer(mint())).get_json() == {"user": "someone"}
    assert seen == ["user-1"]


def test_an_unknown_issuer_in_user_issuers_stops_init_app(make_app: MakeApp, keyring):
    with pytest.raises(ConfigurationError) as caught:
        make_app(
            JWT_GUARD_ISSUER=None,
            JWT_GUARD_PUBLIC_KEY=None,
            JWT_GUARD_ALGORITHMS=["RS256", "ES256"],
            JWT_GUARD_ISSUERS=issuers(keyring),
            JWT_GUARD_USER_ISSUERS=["https://typo.example"],
        )
    assert caught.value.setting == "JWT_GUARD_USER_ISSUERS"
    assert "https://typo.example" in str(caught.value)


def test_user_issuers_of_the_wrong_type_stops_init_app(make_app: MakeApp):
    with pytest.raises(ConfigurationError) as caught:
        make_app(JWT_GUARD_USER_ISSUERS=42)
    assert caught.value.setting == "JWT_GUARD_USER_ISSUERS"


def test_a_loader_no_token_can_reach_is_a_warning(
    make_app: MakeApp, keyring, caplog: pytest.LogCaptureFixture
):
    caplog.set_level(logging.WARNING, logger="jwt_guard.flask")
    app = make_app(
        JWT_GUARD_ISSUER=None,
        JWT_GUARD_PUBLIC_KEY=None,
        JWT_GUARD_ALGORITHMS=["RS256", "ES256"],
        JWT_GUARD_ISSUERS=issuers(keyring),
    )
    assert not [r for r in caplog.records if "USER_ISSUERS" in r.getMessage()]
    app.extensions["jwt_guard"].user_loader(lambda token: None)
    (record,) = [r for r in caplog.records if "USER_ISSUERS" in r.getMessage()]
    assert "the user loader is called for no token" in record.getMessage()


def test_no_warning_once_user_issuers_is_set(build, keyring, caplog: pytest.LogCaptureFixture):
    caplog.set_level(logging.WARNING, logger="jwt_guard.flask")
    build(JWT_GUARD_USER_ISSUERS=[ISSUER])
    assert not [r for r in caplog.records if "USER_ISSUERS" in r.getMessage()]
