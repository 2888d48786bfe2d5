"""JWE with ``KEYS: "ISSUING"``: Django decrypts with its key store's key and publishes it.

``JWT_GUARD["ISSUING"]["ENCRYPTION_ALGORITHM"]`` keeps a decryption key in
the (encrypted) key store; the JWKS route lists its public half with
``use: "enc"`` next to the signing key, and ``JWT_GUARD["JWE"]`` with
``KEYS: "ISSUING"`` decrypts with it. A rotation publishes the new key at
once and the old one keeps decrypting for the overlap window.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import Client

from jwt_guard_core.jwe import encrypt_nested
from jwt_guard_django.checks import check_settings
from jwt_guard_django.issuing import get_issuing, get_token_issuer
from jwt_guard_django.verifier import get_verifier
from tests.factories import FakeClock

from .issuing_fixtures import AUDIENCE, ISSUER_URL, issuing, key_dir

__all__ = ["issuing", "key_dir"]

pytestmark = pytest.mark.urls("tests.django.jwe_issuing_urls")

ALG, ENC = "ECDH-ES+A256KW", "A256GCM"
JWE = {"KEYS": "ISSUING", "ALGORITHMS": [ALG], "ENCRYPTION": [ENC]}


@pytest.fixture
def decrypting(settings: Any, issuing: Any, clock: FakeClock) -> Any:
    issuing(ENCRYPTION_ALGORITHM=ALG)
    settings.JWT_GUARD = {
        "ALGORITHMS": ["ES256"],
        "ISSUER": ISSUER_URL,
        "AUDIENCE": AUDIENCE,
        "KEY_SOURCE": "ISSUING",
        "CLOCK": clock,
        "ISSUING": settings.JWT_GUARD["ISSUING"],
        "JWE": JWE,
    }
    return settings


def _served(client: Client) -> list[dict[str, Any]]:
    response = client.get("/.well-known/jwks.json")
    assert response.status_code == 200
    return list(json.loads(response.content)["keys"])


def _encrypted_to(jwk: dict[str, Any]) -> str:
    return encrypt_nested(get_token_issuer().issue_access_token("user-1"), jwk, ALG, ENC)


def _get(client: Client, token: str) -> Any:
    return client.get("/plain/", headers={"Authorization": f"Bearer {token}"})


def test_the_jwks_route_publishes_the_decryption_key_with_use_enc(
    decrypting: Any, client: Client
) -> None:
    signing, encryption = _served(client)
    assert (signing["use"], signing["alg"]) == ("sig", "ES256")
    assert (encryption["use"], encryption["alg"], encryption["crv"]) == ("enc", ALG, "P-256")
    assert "d" not in encryption
    assert encryption["kid"] == get_issuing().encryption.list_keys()[0].kid  # type: ignore[union-attr]


def test_a_token_encrypted_to_the_published_key_is_accepted(
    decrypting: Any, client: Client, rejected_reasons: list[str]
) -> None:
    enc_jwk = _served(client)[1]
    response = _get(client, _encrypted_to(enc_jwk))
    assert response.status_code == 200
    assert response.json()["sub"] == "user-1"
    plain = _get(client, get_token_issuer().issue_access_token("user-1"))
    assert plain.status_code == 401
    assert rejected_reasons == ["encryption_required"]


def test_the_old_key_still_decrypts_after_a_rotation(
    decrypting: Any, client: Client, clock: FakeClock, rejected_reasons: list[str]
) -> None:
    old = _served(client)[1]
    encryption = get_issuing().encryption
    assert encryption is not None
    encryption.rotate()
    new = _served(client)[1]
    assert new["kid"] != old["kid"]
    assert [k["use"] for k in _served(client)] == ["sig", "enc"]  # only the new key is offered
    assert _get(client, _encrypted_to(new)).status_code == 200
    assert _get(client, _encrypted_to(old)).status_code == 200  # the overlap window
    clock.advance(encryption.retention)
    encryption.maybe_rotate()
    refused = _get(client, _encrypted_to(old))
    assert refused.status_code == 401
    assert refused["WWW-Authenticate"] == 'Bearer realm="api", error="invalid_token"'
    assert rejected_reasons == ["unknown_kid"]


def test_building_the_verifier_opens_no_store(decrypting: Any, key_dir: Any) -> None:
    get_verifier()
    assert check_settings() == []
    assert not (key_dir / "encryption").exists()


def test_issuing_without_an_encryption_algorithm_names_the_jwe_keys(
    decrypting: Any, issuing: Any, settings: Any
) -> None:
    issuing(ENCRYPTION_ALGORITHM=None)
    settings.JWT_GUARD = {**settings.JWT_GUARD, "JWE": JWE}
    with pytest.raises(ImproperlyConfigured, match=r"JWT_GUARD\['JWE'\]\['KEYS'\]"):
        get_verifier()
    messages = check_settings()
    assert [m.id for m in messages] == ["jwt_guard.E017"]
    assert "ENCRYPTION_ALGORITHM" in messages[0].hint


def test_an_unsupported_encryption_algorithm_names_the_issuing_key(
    decrypting: Any, issuing: Any
) -> None:
    issuing(ENCRYPTION_ALGORITHM="RSA1_5")
    messages = check_settings()
    # The issuing side names its key; the verifier cannot decrypt the allowlisted alg either.
    assert [m.id for m in messages] == ["jwt_guard.E007", "jwt_guard.E011"]
    assert "JWT_GUARD['ISSUING']['ENCRYPTION_ALGORITHM']" in messages[1].msg
    assert "RSA1_5" in messages[1].msg
