"""DPoP (RFC 9449) and certificate-bound tokens (RFC 8705) through the Flask adapter.

Every refusal asserts its reason (the ``token_rejected`` signal), the status
and the exact ``WWW-Authenticate``.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest
from flask import Flask

from jwt_guard_core import ConfigurationError
from jwt_guard_core.sessions import StoreUnavailable
from jwt_guard_flask import current_token, jwt_required
from tests.core.dpop_support import Client
from tests.factories import NOW
from tests.flask.conftest import MakeApp
from tests.redis_server import redis_client, redis_server  # noqa: F401 - fixtures
from tests.sender_support import (
    BEARER,
    CERT_HEADER,
    CERT_THUMBPRINT,
    DPOP,
    METADATA,
    METADATA_URL,
    OTHER_CERT_HEADER,
    challenge,
)

URL = "http://localhost/orders"


@pytest.fixture
def client_key(keyring: Any) -> Client:
    return Client(keyring.p256, "ES256")


def _build(make_app: MakeApp, **config: Any) -> Flask:
    app = make_app(**config)

    @app.route("/orders", methods=["GET", "POST"])
    @jwt_required
    def orders() -> dict[str, Any]:
        return {"sub": current_token.subject}

    @app.get("/async")
    @jwt_required
    async def async_orders() -> dict[str, Any]:
        return {"sub": current_token.subject}

    @app.get("/bound-only")
    @jwt_required(dpop="required")
    def bound_only() -> dict[str, Any]:
        return {"sub": current_token.subject}

    @app.get("/optional")
    @jwt_required(optional=True)
    def optional() -> dict[str, Any]:
        return {"sub": current_token.subject if current_token else None}

    return app


def _dpop(token: str, proof: str | list[str]) -> list[tuple[str, str]]:
    proofs = [proof] if isinstance(proof, str) else proof
    return [("Authorization", f"DPoP {token}"), *(("DPoP", p) for p in proofs)]


def _refused(response: Any, rejected: list[str], reason: str, status: int, www: str) -> None:
    assert response.status_code == status
    assert response.headers["WWW-Authenticate"] == www
    assert rejected[-1] == reason
    assert "error" in response.get_json()


# -- DPoP off (the default)


def test_with_dpop_off_a_bound_token_sent_as_bearer_is_refused(
    make_app, mint, client_key, rejected
):
    app = _build(make_app)
    token = mint(cnf={"jkt": client_key.jkt})
    response = app.test_client().get("/orders", headers={"Authorization": f"Bearer {token}"})
    _refused(
        response, rejected, "dpop_bound_token_as_bearer", 401, challenge("Bearer", "invalid_token")
    )


def test_with_dpop_off_the_dpop_scheme_is_refused(make_app, mint, client_key, rejected):
    app = _build(make_app)
    token = mint(cnf={"jkt": client_key.jkt})
    response = app.test_client().get(
        "/orders", headers=_dpop(token, client_key.proof(token, htu=URL))
    )
    _refused(response, rejected, "dpop_not_enabled", 401, challenge("Bearer", "invalid_token"))


def test_with_dpop_off_bearer_tokens_work_as_before(make_app, mint):
    app = _build(make_app)
    response = app.test_client().get("/orders", headers={"Authorization": f"Bearer {mint()}"})
    assert response.status_code == 200
    assert "DPoP-Nonce" not in response.headers


# -- DPoP allowed


@pytest.fixture
def allowed(make_app: MakeApp) -> Flask:
    return _build(make_app, JWT_GUARD_DPOP="allowed")


@pytest.mark.parametrize("path", ["/orders", "/async", "/bound-only"])
def test_a_bound_token_with_a_valid_proof_is_accepted(allowed, mint, client_key, path):
    token = mint(cnf={"jkt": client_key.jkt})
    proof = client_key.proof(token, htu=f"http://localhost{path}")
    response = allowed.test_client().get(path, headers=_dpop(token, proof))
    assert response.status_code == 200
    assert response.get_json() == {"sub": "user-1"}


def test_a_proof_for_a_post_is_checked_against_the_method(allowed, mint, client_key, rejected):
    token = mint(cnf={"jkt": client_key.jkt})
    ok = allowed.test_client().post(
        "/orders?draft=1", headers=_dpop(token, client_key.proof(token, htm="POST", htu=URL))
    )
    assert ok.status_code == 200
    response = allowed.test_client().post(
        "/orders", headers=_dpop(token, client_key.proof(token, htm="GET", htu=URL))
    )
    _refused(
        response,
        rejected,
        "dpop_htm_mismatch",
        401,
        f"{BEARER}, {challenge('DPoP', 'invalid_dpop_proof')}",
    )


def test_bearer_tokens_still_work_when_dpop_is_allowed(allowed, mint):
    response = allowed.test_client().get("/orders", headers={"Authorization": f"Bearer {mint()}"})
    assert response.status_code == 200


def test_no_token_gets_both_challenges(allowed):
    response = allowed.test_client().get("/orders")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == f"{BEARER}, {DPOP}"


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ("replayed", "dpop_replayed"),
        ("missing", "dpop_proof_missing"),
        ("two", "dpop_multiple_proofs"),
        ("garbage", "dpop_proof_malformed"),
        ("other_url", "dpop_htu_mismatch"),
        ("other_token", "dpop_ath_mismatch"),
        ("other_key", "dpop_jkt_mismatch"),
        ("stale", "dpop_iat_out_of_window"),
    ],
)
def test_a_bad_proof_is_refused_on_the_dpop_challenge(
    allowed, mint, client_key, keyring, rejected, case, reason
):
    token = mint(cnf={"jkt": client_key.jkt})
    proof = client_key.proof(token, htu=URL)
    http = allowed.test_client()
    proofs: list[str] = [proof]
    if case == "replayed":
        assert http.get("/orders", headers=_dpop(token, proof)).status_code == 200
    elif case == "missing":
        proofs = []
    elif case == "two":
        proofs = [proof, client_key.proof(token, htu=URL)]
    elif case == "garbage":
        proofs = ["not a jws at all"]
    elif case == "other_url":
        proofs = [client_key.proof(token, htu="http://localhost/elsewhere")]
    elif case == "other_token":
        proofs = [client_key.proof(mint(), htu=URL)]
    elif case == "other_key":
        proofs = [Client(keyring.p384, "ES384").proof(token, htu=URL)]
    elif case == "stale":
        proofs = [client_key.proof(token, htu=URL, iat=NOW - 600)]
    response = http.get("/orders", headers=_dpop(token, proofs))
    _refused(
        response, rejected, reason, 401, f"{BEARER}, {challenge('DPoP', 'invalid_dpop_proof')}"
    )


def test_a_bearer_token_with_a_proof_is_refused(allowed, mint, client_key, rejected):
    token = mint()
    response = allowed.test_client().get(
        "/orders",
        headers={"Authorization": f"Bearer {token}", "DPoP": client_key.proof(token, htu=URL)},
    )
    _refused(
        response,
        rejected,
        "dpop_proof_with_bearer",
        401,
        f"{challenge('Bearer', 'invalid_token')}, {DPOP}",
    )


def test_an_unbound_token_under_the_dpop_scheme_is_refused(allowed, mint, client_key, rejected):
    token = mint()
    response = allowed.test_client().get("/orders", headers=_dpop(token, client_key.proof(token)))
    _refused(
        response,
        rejected,
        "dpop_token_not_bound",
        401,
        f"{BEARER}, {challenge('DPoP', 'invalid_token')}",
    )


def test_malformed_dpop_credentials_are_a_400(allowed, rejected):
    response = allowed.test_client().get("/orders", headers={"Authorization": "DPoP a b"})
    _refused(
        response,
        rejected,
        "invalid_request",
        400,
        f"{challenge('Bearer', 'invalid_request')}, {DPOP}",
    )


def test_a_bound_cookie_token_is_refused(make_app, mint, client_key, rejected):
    app = _build(make_app, JWT_GUARD_DPOP="allowed", JWT_GUARD_TOKEN_LOCATION=["cookie"])
    http = app.test_client()
    http.set_cookie("access_token", mint(cnf={"jkt": client_key.jkt}))
    response = http.get("/orders")
    _refused(
        response,
        rejected,
        "dpop_bound_token_as_bearer",
        401,
        f"{challenge('Bearer', 'invalid_token')}, {DPOP}",
    )


# -- per route and globally required


def test_a_route_requiring_dpop_refuses_a_bearer_token(allowed, mint, rejected):
    response = allowed.test_client().get(
        "/bound-only", headers={"Authorization": f"Bearer {mint()}"}
    )
    _refused(response, rejected, "dpop_required", 401, challenge("DPoP", "invalid_token"))


def test_a_route_requiring_dpop_challenges_only_dpop_without_a_token(allowed):
    response = allowed.test_client().get("/bound-only")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == DPOP


def test_a_route_requiring_dpop_while_dpop_is_off_is_a_configuration_error(make_app, mint):
    app = _build(make_app)
    with pytest.raises(ConfigurationError, match="requires DPoP"):
        app.test_client().get("/bound-only", headers={"Authorization": f"Bearer {mint()}"})


def test_dpop_required_globally_refuses_bearer_tokens(make_app, mint, rejected):
    app = _build(make_app, JWT_GUARD_DPOP="required")
    response = app.test_client().get("/orders", headers={"Authorization": f"Bearer {mint()}"})
    _refused(response, rejected, "dpop_required", 401, challenge("DPoP", "invalid_token"))
    assert app.test_client().get("/orders").headers["WWW-Authenticate"] == DPOP
    optional = app.test_client().get("/optional")
    assert optional.status_code == 200


# -- nonces, replay store


def test_nonces_challenge_first_then_accept_and_hand_out_the_next(
    make_app, mint, client_key, rejected
):
    app = _build(make_app, JWT_GUARD_DPOP="allowed", JWT_GUARD_DPOP_NONCES=[b"n" * 32])
    http = app.test_client()
    token = mint(cnf={"jkt": client_key.jkt})
    first = http.get("/orders", headers=_dpop(token, client_key.proof(token, htu=URL)))
    _refused(
        first,
        rejected,
        "dpop_nonce_missing",
        401,
        f"{BEARER}, {challenge('DPoP', 'use_dpop_nonce')}",
    )
    nonce = first.headers["DPoP-Nonce"]
    second = http.get(
        "/orders", headers=_dpop(token, client_key.proof(token, htu=URL, nonce=nonce))
    )
    assert second.status_code == 200
    assert second.headers["DPoP-Nonce"] == nonce


class _DownStore:
    in_process = True

    def first_use(self, key: str, *, expires_at: float, now: float) -> bool:
        raise StoreUnavailable("down")


def test_an_unavailable_replay_store_is_a_503(make_app, mint, client_key, rejected):
    app = _build(make_app, JWT_GUARD_DPOP="allowed", JWT_GUARD_DPOP_REPLAY_STORE=_DownStore())
    token = mint(cnf={"jkt": client_key.jkt})
    response = app.test_client().get(
        "/orders", headers=_dpop(token, client_key.proof(token, htu=URL))
    )
    assert response.status_code == 503
    assert int(response.headers["Retry-After"]) >= 1
    assert "WWW-Authenticate" not in response.headers
    assert rejected[-1] == "dpop_replay_unavailable"


def test_the_forwarded_headers_named_in_the_settings_rebuild_the_url(make_app, mint, client_key):
    app = _build(
        make_app,
        JWT_GUARD_DPOP="allowed",
        JWT_GUARD_DPOP_FORWARDED_HEADERS={"proto": "X-Forwarded-Proto", "host": "X-Forwarded-Host"},
    )
    token = mint(cnf={"jkt": client_key.jkt})
    proof = client_key.proof(token, htu="https://api.example/orders")
    headers = [
        *_dpop(token, proof),
        ("X-Forwarded-Proto", "https"),
        ("X-Forwarded-Host", "api.example"),
    ]
    assert app.test_client().get("/orders", headers=headers).status_code == 200


# -- certificate-bound tokens


def test_a_certificate_bound_token_is_refused_when_mtls_is_not_configured(make_app, mint, rejected):
    app = _build(make_app)
    token = mint(cnf={"x5t#S256": CERT_THUMBPRINT})
    response = app.test_client().get(
        "/orders", headers={"Authorization": f"Bearer {token}", "X-SSL-Client-Cert": CERT_HEADER}
    )
    _refused(
        response, rejected, "mtls_certificate_missing", 401, challenge("Bearer", "invalid_token")
    )


@pytest.mark.parametrize(
    ("cert", "status", "reason"),
    [
        (CERT_HEADER, 200, None),
        (OTHER_CERT_HEADER, 401, "mtls_certificate_mismatch"),
        (None, 401, "mtls_certificate_missing"),
        ("garbage", 401, "mtls_header_malformed"),
    ],
)
def test_a_certificate_bound_token_needs_its_certificate(
    make_app, mint, rejected, cert, status, reason
):
    app = _build(make_app, JWT_GUARD_MTLS_CERTIFICATE_HEADER="X-SSL-Client-Cert")
    token = mint(cnf={"x5t#S256": CERT_THUMBPRINT})
    headers = {"Authorization": f"Bearer {token}"}
    if cert is not None:
        headers["X-SSL-Client-Cert"] = cert
    response = app.test_client().get("/orders", headers=headers)
    if reason is None:
        assert response.status_code == 200
        return
    _refused(response, rejected, reason, status, challenge("Bearer", "invalid_token"))


# -- RFC 9728 metadata


def test_the_metadata_route_serves_the_document_and_every_challenge_names_it(make_app, mint):
    app = _build(make_app, JWT_GUARD_DPOP="allowed", JWT_GUARD_RESOURCE_METADATA=METADATA)
    http = app.test_client()
    document = http.get("/.well-known/oauth-protected-resource")
    assert document.status_code == 200
    assert document.get_json() == {
        "resource": "https://api.example",
        "authorization_servers": ["https://issuer.example"],
        "bearer_methods_supported": ["header"],
        "dpop_signing_alg_values_supported": [
            "ES256", "ES384", "EdDSA", "Ed25519", "PS256", "RS256"
        ],
        "dpop_bound_access_tokens_required": False,
    }  # fmt: skip
    metadata = f'resource_metadata="{METADATA_URL}"'
    refused = http.get("/orders", headers={"Authorization": f"Bearer {mint(exp=1)}"})
    assert refused.headers["WWW-Authenticate"] == (
        f'{BEARER}, error="invalid_token", {metadata}, {DPOP}, {metadata}'
    )
    assert http.get("/orders").headers["WWW-Authenticate"] == (
        f"{BEARER}, {metadata}, {DPOP}, {metadata}"
    )


def test_no_metadata_route_without_the_setting(make_app):
    app = _build(make_app)
    assert app.test_client().get("/.well-known/oauth-protected-resource").status_code == 404


@pytest.mark.parametrize(
    ("key", "value", "named"),
    [
        ("JWT_GUARD_DPOP", "on", "JWT_GUARD_DPOP"),
        ("JWT_GUARD_DPOP_ALGORITHMS", ["HS256"], "JWT_GUARD_DPOP_ALGORITHMS"),
        (
            "JWT_GUARD_RESOURCE_METADATA",
            {"resource": "http://api.example"},
            "JWT_GUARD_RESOURCE_METADATA",
        ),
        ("JWT_GUARD_MTLS_CERTIFICATE_HEADER", "bad header", "JWT_GUARD_MTLS_CERTIFICATE_HEADER"),
    ],
)
def test_a_bad_setting_fails_init_app_naming_the_key(make_app, key, value, named):
    with pytest.raises(ConfigurationError) as info:
        make_app(**{key: value})
    assert info.value.setting.startswith(named)


def test_a_redis_replay_store_shared_by_two_apps_catches_a_replay(
    make_app,
    mint,
    client_key,
    redis_client,  # noqa: F811 - the fixture
    rejected,
):
    # Two apps stand for two workers: the proof spent on one is refused by the other.
    url = redis_client.connection_pool.connection_kwargs
    store = f"redis://{url['host']}:{url['port']}/0"
    first, second = (
        _build(make_app, JWT_GUARD_DPOP="allowed", JWT_GUARD_DPOP_REPLAY_STORE=store)
        for _ in range(2)
    )
    token = mint(cnf={"jkt": client_key.jkt})
    headers = _dpop(token, client_key.proof(token, htu=URL))
    assert first.test_client().get("/orders", headers=headers).status_code == 200
    response = second.test_client().get("/orders", headers=headers)
    _refused(
        response,
        rejected,
        "dpop_replayed",
        401,
        f"{BEARER}, {challenge('DPoP', 'invalid_dpop_proof')}",
    )


def test_init_app_warns_about_a_per_process_replay_store(make_app, caplog, tmp_path):
    with caplog.at_level(logging.WARNING, logger="jwt_guard.flask"):
        make_app(JWT_GUARD_DPOP="allowed")
    assert any("in-memory DPoP replay store" in r.getMessage() for r in caplog.records)
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="jwt_guard.flask"):
        make_app(
            JWT_GUARD_DPOP="allowed",
            JWT_GUARD_DPOP_REPLAY_STORE=f"sqlite:///{tmp_path}/replay.sqlite3",
        )
    assert caplog.records == []
