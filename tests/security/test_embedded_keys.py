"""Embedded and referenced keys: jwk, jku, x5u, x5c are never used, never fetched.

RFC 8725 section 3.10 and the long line of "the token brought its own key"
bugs (CVE-2018-0114 for jwk, jku/x5u SSRF and key injection): a verifier
that takes a key, a key URL or a certificate chain from the token lets the
attacker sign with their own key. jwt-guard refuses any token that carries
one of these headers, before any key lookup or network access. The
attacker's key server here is a real HTTP server on 127.0.0.1; the tests
prove it never receives a request.
"""

from __future__ import annotations

import base64
import datetime
import logging
from collections.abc import Iterator

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from pytest_httpserver import HTTPServer

from jwt_guard_core import EmbeddedKey, TokenError, subscribe
from jwt_guard_core.keys import key_from_pem
from tests.factories import claims, public_pem, sign


@pytest.fixture(scope="module")
def attacker_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(65537, 2048)


@pytest.fixture(scope="module")
def attacker_jwk(attacker_key) -> dict[str, str]:
    return dict(key_from_pem(public_pem(attacker_key), kid="attacker").public_jwk or {})


@pytest.fixture(scope="module")
def attacker_cert(attacker_key) -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "issuer.example")])
    now = datetime.datetime.now(datetime.timezone.utc)
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(attacker_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(attacker_key, hashes.SHA256())
    )


@pytest.fixture(scope="module")
def key_server(attacker_jwk, attacker_cert) -> Iterator[HTTPServer]:
    """A real key server on 127.0.0.1 offering the attacker's JWKS and certificate.

    Its own instance, not the shared ``httpserver``, so its request log holds
    only what these tests (and the verifier, if it ever fetched) sent.
    """
    server = HTTPServer(host="127.0.0.1", port=0)
    server.start()
    server.expect_request("/jwks.json").respond_with_json({"keys": [attacker_jwk]})
    server.expect_request("/cert.pem").respond_with_data(
        attacker_cert.public_bytes(serialization.Encoding.PEM),
        content_type="application/x-pem-file",
    )
    try:
        yield server
    finally:
        server.clear()
        server.stop()


@pytest.fixture
def attacker_server(key_server: HTTPServer) -> HTTPServer:
    key_server.clear_log()
    return key_server


def _x5c(cert: x509.Certificate) -> list[str]:
    # RFC 7515 section 4.1.6: standard base64 (not base64url) DER.
    return [base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()]


def test_attacker_server_is_real_and_counts_requests(attacker_server):
    # The control for every "zero requests" assertion below.
    response = httpx.get(attacker_server.url_for("/jwks.json"))
    assert response.json()["keys"][0]["kid"] == "attacker"
    assert attacker_server.url_for("/").startswith("http://127.0.0.1:")
    assert len(attacker_server.log) == 1


def test_token_without_key_headers_is_accepted(make_verifier, keyring, rejects):
    token = sign({"alg": "RS256", "kid": "rsa-1"}, claims(), keyring.rsa)
    assert rejects.accepts(make_verifier(), token).kid == "rsa-1"


def test_embedded_attacker_jwk_is_rejected_with_embedded_key(
    make_verifier, attacker_key, attacker_jwk, rejects
):
    token = sign(
        {"alg": "RS256", "kid": "attacker", "jwk": attacker_jwk}, claims(sub="admin"), attacker_key
    )
    result = rejects(
        make_verifier(),
        token,
        EmbeddedKey,
        "embedded_key",
        level=logging.WARNING,
        alg="RS256",
        kid="attacker",
        material=[attacker_jwk["n"]],
    )
    assert "jwk" in result.error.detail


def test_embedded_jwk_using_the_trusted_kid_is_rejected_with_embedded_key(
    make_verifier, attacker_key, attacker_jwk, rejects
):
    token = sign({"alg": "RS256", "kid": "rsa-1", "jwk": attacker_jwk}, claims(), attacker_key)
    rejects(make_verifier(), token, EmbeddedKey, "embedded_key", level=logging.WARNING, kid="rsa-1")


def test_embedded_jwk_is_refused_even_when_it_is_the_trusted_key(make_verifier, keyring, rejects):
    # Never used means never consulted: no "compare with the configured key"
    # logic that a later change could turn into "trust it".
    trusted = dict(key_from_pem(public_pem(keyring.rsa), kid="rsa-1").public_jwk or {})
    token = sign({"alg": "RS256", "kid": "rsa-1", "jwk": trusted}, claims(), keyring.rsa)
    rejects(make_verifier(), token, EmbeddedKey, "embedded_key", level=logging.WARNING)


@pytest.mark.parametrize("kid", ["attacker", "rsa-1"])
def test_jku_pointing_at_the_attackers_jwks_is_rejected_and_never_fetched(
    make_verifier, attacker_key, attacker_server, rejects, kid
):
    jku = attacker_server.url_for("/jwks.json")
    token = sign({"alg": "RS256", "kid": kid, "jku": jku}, claims(sub="admin"), attacker_key)
    result = rejects(
        make_verifier(), token, EmbeddedKey, "embedded_key", level=logging.WARNING, kid=kid
    )
    assert attacker_server.log == []
    assert jku not in str(result.error)


def test_jku_on_a_genuinely_signed_token_is_still_refused_and_never_fetched(
    make_verifier, keyring, attacker_server, rejects
):
    token = sign(
        {"alg": "RS256", "kid": "rsa-1", "jku": attacker_server.url_for("/jwks.json")},
        claims(),
        keyring.rsa,
    )
    rejects(make_verifier(), token, EmbeddedKey, "embedded_key", level=logging.WARNING)
    assert attacker_server.log == []


def test_x5u_pointing_at_the_attackers_certificate_is_rejected_and_never_fetched(
    make_verifier, attacker_key, attacker_server, rejects
):
    token = sign(
        {"alg": "RS256", "kid": "attacker", "x5u": attacker_server.url_for("/cert.pem")},
        claims(sub="admin"),
        attacker_key,
    )
    result = rejects(
        make_verifier(), token, EmbeddedKey, "embedded_key", level=logging.WARNING, alg="RS256"
    )
    assert "x5u" in result.error.detail
    assert attacker_server.log == []


def test_x5c_with_the_attackers_certificate_is_rejected_with_embedded_key(
    make_verifier, attacker_key, attacker_cert, rejects
):
    chain = _x5c(attacker_cert)
    token = sign({"alg": "RS256", "x5c": chain}, claims(sub="admin"), attacker_key)
    result = rejects(
        make_verifier(),
        token,
        EmbeddedKey,
        "embedded_key",
        level=logging.WARNING,
        material=[chain[0]],
    )
    assert "x5c" in result.error.detail


def test_all_key_headers_together_are_rejected_and_nothing_is_fetched(
    make_verifier, attacker_key, attacker_jwk, attacker_cert, attacker_server, rejects
):
    header = {
        "alg": "RS256",
        "kid": "attacker",
        "jwk": attacker_jwk,
        "jku": attacker_server.url_for("/jwks.json"),
        "x5u": attacker_server.url_for("/cert.pem"),
        "x5c": _x5c(attacker_cert),
    }
    rejects(
        make_verifier(),
        sign(header, claims(), attacker_key),
        EmbeddedKey,
        "embedded_key",
        level=logging.WARNING,
    )
    assert attacker_server.log == []


@pytest.mark.parametrize("name", ["jwk", "jku", "x5u", "x5c"])
@pytest.mark.parametrize("value", [None, "", {}, []])
def test_key_header_with_any_value_is_rejected_with_embedded_key(
    make_verifier, keyring, rejects, name, value
):
    token = sign({"alg": "RS256", "kid": "rsa-1", name: value}, claims(), keyring.rsa)
    rejects(make_verifier(), token, EmbeddedKey, "embedded_key", level=logging.WARNING)


def test_embedded_key_rejection_reaches_subscribed_hooks(make_verifier, attacker_key, attacker_jwk):
    seen = []
    unsubscribe = subscribe(seen.append)
    try:
        token = sign(
            {"alg": "RS256", "kid": "attacker", "jwk": attacker_jwk}, claims(), attacker_key
        )
        with pytest.raises(TokenError):
            make_verifier().verify(token)
    finally:
        unsubscribe()
    assert [(e.name, e.reason, e.level) for e in seen] == [
        ("token_rejected", "embedded_key", logging.WARNING)
    ]
    assert seen[0].fields["alg"] == "RS256"
    assert seen[0].fields["kid"] == "attacker"
