"""A Django project whose ISSUING keys live on a PKCS#11 token (SoftHSM2): issue, verify, 503."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client

from jwt_guard_core import GuardConfig, StaticKeySet, Verifier
from jwt_guard_django.issuing import get_key_manager, get_token_issuer
from tests.factories import FakeClock
from tests.signing.softhsm import MODULE, NO_LOGIN_TOKEN, PIN_ENV, TOKEN, SoftHSM

pytestmark = pytest.mark.urls("tests.django.issuing_urls")

ISSUER_URL = "https://auth.example"
AUDIENCE = "https://api.example"


@pytest.fixture
def hsm_issuing(
    settings: Any, softhsm: SoftHSM, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Any:
    monkeypatch.setenv(PIN_ENV, softhsm.pin)

    def _set(**changes: Any) -> None:
        issuing = {
            "ISSUER": ISSUER_URL,
            "AUDIENCE": AUDIENCE,
            "PKCS11_MODULE": MODULE,
            "PKCS11_TOKEN_LABEL": TOKEN,
            "PKCS11_PIN_ENV": PIN_ENV,
            "PKCS11_PREFIX": f"django-{os.getpid()}-{tmp_path.name}"[:64],
            "PKCS11_LOCK_FILE": str(tmp_path / "hsm.lock"),
            **changes,
        }
        settings.JWT_GUARD = {**settings.JWT_GUARD, "ISSUING": issuing}

    _set()
    return _set


def test_tokens_signed_on_the_token_verify_with_the_served_jwks(
    hsm_issuing: Any, client: Client, clock: FakeClock
) -> None:
    token = get_token_issuer().issue_access_token("user-1")
    response = client.get("/.well-known/jwks.json")
    assert response.status_code == 200
    served = json.loads(response.content)
    assert all("d" not in jwk for jwk in served["keys"])
    config = GuardConfig(
        keys=StaticKeySet.from_jwks(served),
        algorithms=["ES256"],
        issuer=ISSUER_URL,
        audience=AUDIENCE,
        clock=clock,
    )
    assert Verifier(config).verify(token).subject == "user-1"
    assert get_key_manager()._signing_key().material is None  # the key stays on the token


def test_rotation_on_the_token_through_the_management_command(
    hsm_issuing: Any, client: Client
) -> None:
    before = get_key_manager().active_key().kid
    call_command("jwt_guard_rotate_keys", "--emergency", stdout=io.StringIO())
    assert get_key_manager().active_key().kid != before


def test_a_wrong_pin_answers_503_on_the_issuing_routes_never_500(
    hsm_issuing: Any, client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JWT_GUARD_TEST_WRONG_PIN", "not-the-pin")
    hsm_issuing(PKCS11_TOKEN_LABEL=NO_LOGIN_TOKEN, PKCS11_PIN_ENV="JWT_GUARD_TEST_WRONG_PIN")
    response = client.get("/.well-known/jwks.json")
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert response.json()["error"] == "temporarily_unavailable"


def test_a_pin_written_in_the_settings_is_a_system_check_error(hsm_issuing: Any) -> None:
    from jwt_guard_django.checks import check_settings

    hsm_issuing(PKCS11_PIN="1234")
    messages = check_settings()
    assert [m.id for m in messages] == ["jwt_guard.E011"]
    assert "PIN may not be written in the settings" in messages[0].msg
