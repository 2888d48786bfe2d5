"""DPoP (RFC 9449), certificate-bound tokens (RFC 8705) and RFC 9728 metadata through Django.

The middleware (sync and async), the decorators and the DRF class, with and
without the middleware. Every refusal asserts its reason (the security
event), the status and the exact ``WWW-Authenticate``.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured

from jwt_guard_core import ConfigurationError
from jwt_guard_core.sessions import StoreUnavailable
from tests.core.dpop_support import Client
from tests.factories import NOW, named
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

pytestmark = pytest.mark.urls("tests.django.dpop_urls")

HOST = "http://testserver"
PROOF_ERROR = f"{BEARER}, {challenge('DPoP', 'invalid_dpop_proof')}"


@pytest.fixture
def client_key(keyring: Any) -> Client:
    return Client(keyring.p256, "ES256")


@pytest.fixture
def allowed(configure: Any) -> None:
    configure(DPOP="allowed")


def _dpop(token: str, proof: str | None) -> dict[str, str]:
    headers = {"HTTP_AUTHORIZATION": f"DPoP {token}"}
    if proof is not None:
        headers["HTTP_DPOP"] = proof
    return headers


def _reason(events: list[Any]) -> str | None:
    found = [e for e in events if e.name in ("dpop_rejected", "certificate_binding_rejected")]
    return found[-1].reason if found else None


def _refused(response: Any, status: int, www: str | None) -> None:
    assert response.status_code == status
    if www is None:
        assert not response.has_header("WWW-Authenticate")
    else:
        assert response["WWW-Authenticate"] == www
    assert response["Content-Type"] == "application/json"


# -- DPoP off (the default): the behaviour change of RFC 9449 section 7.2


def test_with_dpop_off_a_bound_token_as_bearer_is_refused(
    client, make_token, client_key, recorded_events
):
    token = make_token(cnf={"jkt": client_key.jkt})
    response = client.get("/orders", HTTP_AUTHORIZATION=f"Bearer {token}")
    _refused(response, 401, challenge("Bearer", "invalid_token"))
    assert _reason(recorded_events) == "dpop_bound_token_as_bearer"


def test_with_dpop_off_the_dpop_scheme_is_refused(client, make_token, client_key, recorded_events):
    token = make_token(cnf={"jkt": client_key.jkt})
    response = client.get("/orders", **_dpop(token, client_key.proof(token, htu=f"{HOST}/orders")))
    _refused(response, 401, challenge("Bearer", "invalid_token"))
    assert _reason(recorded_events) == "dpop_not_enabled"


# -- DPoP allowed: middleware, sync and async


@pytest.mark.parametrize("path", ["/orders", "/required", "/bound-only"])
def test_a_bound_token_with_its_proof_is_accepted(client, allowed, make_token, client_key, path):
    token = make_token(cnf={"jkt": client_key.jkt})
    response = client.get(path, **_dpop(token, client_key.proof(token, htu=f"{HOST}{path}")))
    assert response.status_code == 200
    assert response.json() == {"sub": "user-1"}
    assert not response.has_header("DPoP-Nonce")


@pytest.mark.parametrize("path", ["/orders-async", "/bound-only-async"])
async def test_the_async_path_accepts_a_bound_token(
    async_client, allowed, make_token, client_key, path
):
    token = make_token(cnf={"jkt": client_key.jkt})
    proof = client_key.proof(token, htu=f"{HOST}{path}")
    response = await async_client.get(
        path, headers={"Authorization": f"DPoP {token}", "DPoP": proof}
    )
    assert response.status_code == 200
    assert response.json() == {"sub": "user-1"}


async def test_the_async_path_refuses_a_replayed_proof(
    async_client, allowed, make_token, client_key, recorded_events
):
    token = make_token(cnf={"jkt": client_key.jkt})
    headers = {
        "Authorization": f"DPoP {token}",
        "DPoP": client_key.proof(token, htu=f"{HOST}/orders-async"),
    }
    assert (await async_client.get("/orders-async", headers=headers)).status_code == 200
    response = await async_client.get("/orders-async", headers=headers)
    _refused(response, 401, PROOF_ERROR)
    assert _reason(recorded_events) == "dpop_replayed"


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ("replayed", "dpop_replayed"),
        ("missing", "dpop_proof_missing"),
        ("folded", "dpop_multiple_proofs"),
        ("garbage", "dpop_proof_malformed"),
        ("other_url", "dpop_htu_mismatch"),
        ("other_method", "dpop_htm_mismatch"),
        ("other_token", "dpop_ath_mismatch"),
        ("other_key", "dpop_jkt_mismatch"),
        ("stale", "dpop_iat_out_of_window"),
    ],
)
def test_a_bad_proof_is_refused_on_the_dpop_challenge(
    client, allowed, make_token, client_key, keyring, recorded_events, case, reason
):
    token = make_token(cnf={"jkt": client_key.jkt})
    url = f"{HOST}/orders"
    proof: str | None = client_key.proof(token, htu=url)
    if case == "replayed":
        assert client.get("/orders", **_dpop(token, proof)).status_code == 200
    elif case == "missing":
        proof = None
    elif case == "folded":
        # How WSGI and Django's ASGI handler pass two DPoP headers.
        proof = f"{proof},{client_key.proof(token, htu=url)}"
    elif case == "garbage":
        proof = "garbage"
    elif case == "other_url":
        proof = client_key.proof(token, htu=f"{HOST}/elsewhere")
    elif case == "other_method":
        proof = client_key.proof(token, htu=url, htm="POST")
    elif case == "other_token":
        proof = client_key.proof(make_token(), htu=url)
    elif case == "other_key":
        proof = Client(keyring.p384, "ES384").proof(token, htu=url)
    elif case == "stale":
        proof = client_key.proof(token, htu=url, iat=NOW - 600)
    response = client.get("/orders", **_dpop(token, proof))
    _refused(response, 401, PROOF_ERROR)
    assert _reason(recorded_events) == reason


def test_a_bearer_token_with_a_proof_is_refused(
    client, allowed, make_token, client_key, recorded_events
):
    token = make_token()
    response = client.get(
        "/orders",
        HTTP_AUTHORIZATION=f"Bearer {token}",
        HTTP_DPOP=client_key.proof(token, htu=f"{HOST}/orders"),
    )
    _refused(response, 401, f"{challenge('Bearer', 'invalid_token')}, {DPOP}")
    assert _reason(recorded_events) == "dpop_proof_with_bearer"


def test_no_token_on_a_decorated_view_gets_both_challenges(client, allowed):
    _refused(client.get("/required"), 401, f"{BEARER}, {DPOP}")


def test_malformed_dpop_credentials_are_a_400(client, allowed, recorded_events):
    response = client.get("/orders", HTTP_AUTHORIZATION="DPoP a b")
    _refused(response, 400, f"{challenge('Bearer', 'invalid_request')}, {DPOP}")
    assert named(recorded_events, "token_rejected")[-1].reason == "invalid_request"


# -- per route, globally required


def test_a_route_requiring_dpop_refuses_a_bearer_token(
    client, allowed, bearer, middleware_mode, recorded_events
):
    response = client.get("/bound-only", **{"HTTP_AUTHORIZATION": bearer()["Authorization"]})
    _refused(response, 401, challenge("DPoP", "invalid_token"))
    assert _reason(recorded_events) == "dpop_required"
    _refused(client.get("/bound-only"), 401, DPOP)


async def test_an_async_route_requiring_dpop_refuses_a_bearer_token(
    async_client, allowed, bearer, recorded_events
):
    response = await async_client.get("/bound-only-async", headers=bearer())
    _refused(response, 401, challenge("DPoP", "invalid_token"))
    assert _reason(recorded_events) == "dpop_required"


def test_a_route_requiring_dpop_while_dpop_is_off_is_a_configuration_error(client, bearer):
    with pytest.raises(ConfigurationError, match="requires DPoP"):
        client.get("/bound-only", headers=bearer())


def test_dpop_required_globally(client, configure, bearer, recorded_events):
    configure(DPOP="required")
    response = client.get("/orders", headers=bearer())
    _refused(response, 401, challenge("DPoP", "invalid_token"))
    assert _reason(recorded_events) == "dpop_required"
    _refused(client.get("/required"), 401, DPOP)


# -- DRF


def test_drf_accepts_a_bound_token_and_refuses_a_replay(
    client, allowed, make_token, client_key, middleware_mode, recorded_events
):
    token = make_token(cnf={"jkt": client_key.jkt})
    headers = _dpop(token, client_key.proof(token, htu=f"{HOST}/drf/orders"))
    assert client.get("/drf/orders", **headers).status_code == 200
    response = client.get("/drf/orders", **headers)
    _refused(response, 401, PROOF_ERROR)
    assert _reason(recorded_events) == "dpop_replayed"


def test_drf_requires_dpop_with_a_permission(
    client, allowed, make_token, bearer, client_key, middleware_mode, recorded_events
):
    token = make_token(cnf={"jkt": client_key.jkt})
    ok = client.get(
        "/drf/bound-only", **_dpop(token, client_key.proof(token, htu=f"{HOST}/drf/bound-only"))
    )
    assert ok.status_code == 200
    response = client.get("/drf/bound-only", headers=bearer())
    _refused(response, 401, challenge("DPoP", "invalid_token"))
    assert _reason(recorded_events) == "dpop_required"


def test_drf_without_a_token_names_both_schemes(client, allowed, middleware_mode):
    _refused(client.get("/drf/orders"), 401, f"{BEARER}, {DPOP}")


# -- nonces, replay store


def test_nonces_challenge_first_then_accept_and_hand_out_the_next(
    client, configure, make_token, client_key, recorded_events
):
    configure(DPOP="allowed", DPOP_NONCES=["n" * 32])
    token = make_token(cnf={"jkt": client_key.jkt})
    url = f"{HOST}/orders"
    first = client.get("/orders", **_dpop(token, client_key.proof(token, htu=url)))
    _refused(first, 401, f"{BEARER}, {challenge('DPoP', 'use_dpop_nonce')}")
    assert _reason(recorded_events) == "dpop_nonce_missing"
    nonce = first["DPoP-Nonce"]
    second = client.get("/orders", **_dpop(token, client_key.proof(token, htu=url, nonce=nonce)))
    assert second.status_code == 200
    assert second["DPoP-Nonce"] == nonce


async def test_nonces_over_asgi(async_client, configure, make_token, client_key):
    configure(DPOP="allowed", DPOP_NONCES=True)
    token = make_token(cnf={"jkt": client_key.jkt})
    url = f"{HOST}/orders-async"
    headers = {"Authorization": f"DPoP {token}", "DPoP": client_key.proof(token, htu=url)}
    first = await async_client.get("/orders-async", headers=headers)
    assert first.status_code == 401
    nonce = first["DPoP-Nonce"]
    headers["DPoP"] = client_key.proof(token, htu=url, nonce=nonce)
    second = await async_client.get("/orders-async", headers=headers)
    assert second.status_code == 200
    assert second["DPoP-Nonce"] == nonce


class DownStore:
    in_process = False

    def first_use(self, key: str, *, expires_at: float, now: float) -> bool:
        raise StoreUnavailable("down")


@pytest.mark.parametrize("path", ["/orders", "/drf/orders"])
def test_an_unavailable_replay_store_is_a_503(
    client, configure, make_token, client_key, recorded_events, path
):
    configure(DPOP="allowed", DPOP_REPLAY_STORE="tests.django.test_dpop.DownStore")
    token = make_token(cnf={"jkt": client_key.jkt})
    response = client.get(path, **_dpop(token, client_key.proof(token, htu=f"{HOST}{path}")))
    assert response.status_code == 503
    assert int(response["Retry-After"]) >= 1
    assert _reason(recorded_events) == "dpop_replay_unavailable"


async def test_an_unavailable_replay_store_is_a_503_over_asgi(
    async_client, configure, make_token, client_key
):
    configure(DPOP="allowed", DPOP_REPLAY_STORE=DownStore())
    token = make_token(cnf={"jkt": client_key.jkt})
    proof = client_key.proof(token, htu=f"{HOST}/orders-async")
    response = await async_client.get(
        "/orders-async", headers={"Authorization": f"DPoP {token}", "DPoP": proof}
    )
    assert response.status_code == 503


def test_the_sqlite_replay_store_catches_a_replay(
    client, configure, make_token, client_key, tmp_path
):
    configure(DPOP="allowed", DPOP_REPLAY_STORE=f"sqlite:///{tmp_path}/dpop.sqlite3")
    token = make_token(cnf={"jkt": client_key.jkt})
    headers = _dpop(token, client_key.proof(token, htu=f"{HOST}/orders"))
    assert client.get("/orders", **headers).status_code == 200
    assert client.get("/orders", **headers).status_code == 401


def test_forwarded_headers_named_in_the_settings_rebuild_the_url(
    client, configure, make_token, client_key
):
    configure(DPOP="allowed", DPOP_FORWARDED_HEADERS={"proto": "X-Forwarded-Proto"})
    token = make_token(cnf={"jkt": client_key.jkt})
    proof = client_key.proof(token, htu="https://testserver/orders")
    response = client.get("/orders", HTTP_X_FORWARDED_PROTO="https", **_dpop(token, proof))
    assert response.status_code == 200
    unnamed = client_key.proof(token, htu="https://testserver/orders")
    refused = client.get("/orders", HTTP_X_FORWARDED_HOST="evil.example", **_dpop(token, unnamed))
    assert refused.status_code == 401


# -- certificate-bound tokens


def test_a_certificate_bound_token_is_refused_without_mtls_settings(
    client, make_token, recorded_events
):
    token = make_token(cnf={"x5t#S256": CERT_THUMBPRINT})
    response = client.get(
        "/orders", HTTP_AUTHORIZATION=f"Bearer {token}", HTTP_X_SSL_CLIENT_CERT=CERT_HEADER
    )
    _refused(response, 401, challenge("Bearer", "invalid_token"))
    assert _reason(recorded_events) == "mtls_certificate_missing"


@pytest.mark.parametrize(
    ("cert", "reason"),
    [
        (CERT_HEADER, None),
        (OTHER_CERT_HEADER, "mtls_certificate_mismatch"),
        (None, "mtls_certificate_missing"),
        ("garbage", "mtls_header_malformed"),
    ],
)
@pytest.mark.parametrize("path", ["/orders", "/drf/orders"])
def test_a_certificate_bound_token_needs_its_certificate(
    client, configure, make_token, recorded_events, cert, reason, path
):
    configure(MTLS_CERTIFICATE_HEADER="X-SSL-Client-Cert")
    token = make_token(cnf={"x5t#S256": CERT_THUMBPRINT})
    extra = {"HTTP_X_SSL_CLIENT_CERT": cert} if cert is not None else {}
    response = client.get(path, HTTP_AUTHORIZATION=f"Bearer {token}", **extra)
    if reason is None:
        assert response.status_code == 200
        return
    _refused(response, 401, challenge("Bearer", "invalid_token"))
    assert _reason(recorded_events) == reason


# -- RFC 9728 metadata


def test_the_metadata_view_serves_the_document_and_challenges_name_it(
    client, configure, make_token
):
    configure(
        DPOP="allowed", MTLS_CERTIFICATE_HEADER="X-SSL-Client-Cert", RESOURCE_METADATA=METADATA
    )
    document = client.get("/.well-known/oauth-protected-resource")
    assert document.status_code == 200
    assert document.json() == {
        "resource": "https://api.example",
        "authorization_servers": ["https://issuer.example"],
        "bearer_methods_supported": ["header"],
        "tls_client_certificate_bound_access_tokens": True,
        "dpop_signing_alg_values_supported": [
            "ES256", "ES384", "EdDSA", "Ed25519", "PS256", "RS256"
        ],
        "dpop_bound_access_tokens_required": False,
    }  # fmt: skip
    metadata = f'resource_metadata="{METADATA_URL}"'
    expired = client.get("/orders", HTTP_AUTHORIZATION=f"Bearer {make_token(exp=1)}")
    _refused(expired, 401, f'{BEARER}, error="invalid_token", {metadata}, {DPOP}, {metadata}')
    _refused(client.get("/drf/orders"), 401, f"{BEARER}, {metadata}, {DPOP}, {metadata}")
    assert client.get("/.well-known/oauth-protected-resource/other").status_code == 404


def test_the_metadata_view_is_a_404_without_the_setting(client):
    assert client.get("/.well-known/oauth-protected-resource").status_code == 404


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("DPOP", "on"),
        ("DPOP_ALGORITHMS", ["HS256"]),
        ("RESOURCE_METADATA", {"resource": "http://api.example"}),
        ("MTLS_CERTIFICATE_FORMAT", "der"),
    ],
)
def test_a_bad_setting_is_improperly_configured_naming_the_key(
    client, configure, bearer, key, value
):
    configure(**{key: value}, MTLS_CERTIFICATE_HEADER="X-Cert")
    with pytest.raises(ImproperlyConfigured, match=rf"JWT_GUARD\['{key}'\]"):
        client.get("/orders", headers=bearer())


def test_manage_py_check_reports_a_bad_dpop_setting(configure):
    from jwt_guard_django.checks import check_settings

    configure(DPOP="on")
    messages = check_settings()
    assert [m.id for m in messages] == ["jwt_guard.E007"]
    assert "JWT_GUARD['DPOP']" in messages[0].msg
    configure(DPOP="allowed")
    assert [m.id for m in check_settings()] == ["jwt_guard.W009"]
    configure(DPOP="required", DPOP_REPLAY_STORE="redis://127.0.0.1:6379/0")
    assert check_settings() == []


def test_the_host_is_read_only_for_a_proof(client, allowed, bearer, make_token, client_key):
    # A bearer request never meets ALLOWED_HOSTS here (no CommonMiddleware),
    # as before DPoP; a DPoP request needs its URL, so a foreign Host is a 400.
    assert client.get("/orders", headers=bearer(), HTTP_HOST="other.example").status_code == 200
    token = make_token(cnf={"jkt": client_key.jkt})
    proof = client_key.proof(token, htu="http://other.example/orders")
    response = client.get("/orders", HTTP_HOST="other.example", **_dpop(token, proof))
    assert response.status_code == 400
