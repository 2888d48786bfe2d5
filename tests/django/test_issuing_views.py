"""The JWKS and OpenID discovery routes of jwt_guard_django.urls."""

from __future__ import annotations

import json
import logging
import socket
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from jwt_guard_core import GuardConfig, StaticKeySet, Verifier
from jwt_guard_core.signing import FileKeyStore
from jwt_guard_django.issuing import get_key_manager, get_token_issuer
from tests.factories import FakeClock

from .issuing_fixtures import AUDIENCE, ISSUER_URL, PASSPHRASE, issuing, key_dir

__all__ = ["issuing", "key_dir"]

pytestmark = pytest.mark.urls("tests.django.issuing_urls")


def test_jwks_route_serves_the_manager_document_with_its_headers(
    issuing: Any, client: Client
) -> None:
    response = client.get("/.well-known/jwks.json")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/jwk-set+json"
    assert response["Cache-Control"] == "public, max-age=600"
    assert response["X-Content-Type-Options"] == "nosniff"
    document = json.loads(response.content)
    assert document == get_key_manager().jwks()
    (jwk,) = document["keys"]
    assert jwk["kid"] == get_key_manager().active_key().kid
    assert jwk["use"] == "sig"
    assert jwk["alg"] == "ES256"
    assert "d" not in jwk


def test_a_token_issued_here_verifies_with_the_served_jwks(
    issuing: Any, client: Client, clock: FakeClock
) -> None:
    token = get_token_issuer().issue_access_token("user-1")
    keys = StaticKeySet.from_jwks(json.loads(client.get("/.well-known/jwks.json").content))
    config = GuardConfig(
        keys=keys, algorithms=["ES256"], issuer=ISSUER_URL, audience=AUDIENCE, clock=clock
    )
    assert Verifier(config).verify(token).subject == "user-1"


def test_jwks_max_age_setting_reaches_cache_control(issuing: Any, client: Client) -> None:
    issuing(JWKS_MAX_AGE=60)
    assert client.get("/.well-known/jwks.json")["Cache-Control"] == "public, max-age=60"


def test_jwks_route_lists_the_retired_key_after_a_rotation(issuing: Any, client: Client) -> None:
    old = get_key_manager().active_key().kid
    new = get_key_manager().rotate().kid
    kids = [k["kid"] for k in json.loads(client.get("/.well-known/jwks.json").content)["keys"]]
    assert kids == [new, old]


def test_jwks_head_answers_without_a_body(issuing: Any, client: Client) -> None:
    response = client.head("/.well-known/jwks.json")
    assert response.status_code == 200
    assert response.content == b""


@pytest.mark.parametrize("path", ["/.well-known/jwks.json", "/.well-known/openid-configuration"])
def test_unsafe_methods_are_refused_with_405(issuing: Any, client: Client, path: str) -> None:
    response = client.post(path)
    assert response.status_code == 405
    assert response["Allow"] == "GET, HEAD"


def test_an_unreachable_key_store_is_503_with_retry_after(issuing: Any, client: Client) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    # Nothing listens on the port once the socket is closed.
    issuing(KEY_DIR=None, REDIS_URL=f"redis://127.0.0.1:{port}/0")
    response = client.get("/.well-known/jwks.json")
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert response["Cache-Control"] == "no-store"
    assert response.json()["error"] == "temporarily_unavailable"


def test_discovery_document_names_the_issuer_and_the_jwks_uri(issuing: Any, client: Client) -> None:
    response = client.get("/.well-known/openid-configuration", HTTP_HOST="evil.example")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response["Cache-Control"] == "public, max-age=600"
    assert response.json() == {
        "issuer": ISSUER_URL,
        "jwks_uri": f"{ISSUER_URL}/.well-known/jwks.json",
    }


def test_urls_are_named_in_the_jwt_guard_namespace() -> None:
    assert reverse("jwt_guard:jwks") == "/.well-known/jwks.json"
    assert reverse("jwt_guard:openid_configuration") == "/.well-known/openid-configuration"


def _assert_503(response: Any) -> None:
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert response["Cache-Control"] == "no-store"
    assert response["Content-Type"] == "application/json"
    assert response.json() == {
        "error": "temporarily_unavailable",
        "error_description": "Token verification is temporarily unavailable.",
    }


def _error_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [
        r for r in caplog.records if r.levelno == logging.ERROR and r.name == "jwt_guard.django"
    ]


ROUTES = ["/.well-known/jwks.json", "/.well-known/openid-configuration"]


@pytest.mark.parametrize("path", ROUTES)
def test_a_bad_issuing_setting_is_503_with_an_error_logged(
    issuing: Any, client: Client, caplog: pytest.LogCaptureFixture, path: str
) -> None:
    issuing(ISSUER=None)
    with caplog.at_level(logging.ERROR, logger="jwt_guard.django"):
        _assert_503(client.get(path))
    (record,) = _error_records(caplog)
    assert record.jwt_guard_event == "issuing_misconfigured"
    assert "JWT_GUARD['ISSUING']['ISSUER']" in record.getMessage()


@pytest.mark.parametrize("path", ROUTES)
def test_a_store_sealed_with_another_passphrase_is_503_with_an_error_logged(
    issuing: Any, client: Client, key_dir: Path, caplog: pytest.LogCaptureFixture, path: str
) -> None:
    # Valid settings (the system check passes) but the store refuses to open.
    FileKeyStore(key_dir, passphrase="another passphrase 0123456789abcdef")
    with caplog.at_level(logging.ERROR, logger="jwt_guard.django"):
        _assert_503(client.get(path))
    (record,) = _error_records(caplog)
    assert record.jwt_guard_event == "issuing_misconfigured"
    assert "JWT_GUARD['ISSUING']['PASSPHRASE_ENV']" in record.getMessage()
    assert PASSPHRASE not in record.getMessage()


def test_a_key_store_outage_is_logged_as_an_error(
    issuing: Any, client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    issuing(KEY_DIR=None, REDIS_URL=f"redis://127.0.0.1:{port}/0")
    with caplog.at_level(logging.ERROR, logger="jwt_guard.django"):
        _assert_503(client.get("/.well-known/jwks.json"))
    (record,) = _error_records(caplog)
    assert record.jwt_guard_event == "key_store_unavailable"
