"""ISSUING pointed at a PKCS#11 token (SoftHSM2): the settings build a store on the token."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pytest

from jwt_guard_core import ConfigurationError
from jwt_guard_core.signing import IssuingSettings
from tests.signing.conftest import AUDIENCE, ISSUER, verifier_from_jwks
from tests.signing.softhsm import MODULE, NO_LOGIN_TOKEN, PIN_ENV, TOKEN, SoftHSM


@pytest.fixture
def hsm_settings(
    softhsm: SoftHSM, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> dict[str, Any]:
    monkeypatch.setenv(PIN_ENV, softhsm.pin)
    return {
        "ISSUER": ISSUER,
        "AUDIENCE": AUDIENCE,
        "PKCS11_MODULE": MODULE,
        "PKCS11_TOKEN_LABEL": TOKEN,
        "PKCS11_PIN_ENV": PIN_ENV,
        "PKCS11_PREFIX": f"settings-{os.getpid()}-{tmp_path.name}"[:64],
        "PKCS11_LOCK_FILE": str(tmp_path / "hsm.lock"),
    }


def test_issuing_on_a_token_signs_tokens_that_verify_and_holds_no_key_material(
    hsm_settings: dict[str, Any],
) -> None:
    settings = IssuingSettings.from_mapping(hsm_settings)
    settings.check_store()
    issuing = settings.open()
    token = issuing.issuer.issue_access_token("user-1")
    assert verifier_from_jwks(issuing.keys, time.time).verify(token).subject == "user-1"
    # The key that signed is held on the token: no private key material here.
    assert issuing.keys._signing_key().material is None
    issuing.keys.rotate()
    second = issuing.issuer.issue_access_token("user-2")
    assert verifier_from_jwks(issuing.keys, time.time).verify(second).subject == "user-2"


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"PKCS11_PIN": "1234"}, "PKCS11_PIN"),
        ({"KEY_DIR": "/tmp/keys"}, "pkcs11_module"),
        ({"PKCS11_MODULE": "libsofthsm2.so"}, "pkcs11_module"),
        ({"PKCS11_TOKEN_LABEL": None}, "pkcs11_token_label"),
        ({"PKCS11_PIN_ENV": "JWT_GUARD_TEST_UNSET_PIN"}, "pkcs11_pin_env"),
    ],
)
def test_bad_token_settings_are_named_at_start_up(
    hsm_settings: dict[str, Any], changes: dict[str, Any], named: str
) -> None:
    values = {**hsm_settings, **changes}
    values = {k: v for k, v in values.items() if v is not None}
    with pytest.raises(ConfigurationError) as caught:
        IssuingSettings.from_mapping(values).check_store()
    assert caught.value.setting == named


def test_a_wrong_pin_is_a_configuration_error_when_the_store_opens(
    hsm_settings: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JWT_GUARD_TEST_WRONG_PIN", "not-the-pin")
    values = {
        **hsm_settings,
        "PKCS11_TOKEN_LABEL": NO_LOGIN_TOKEN,
        "PKCS11_PIN_ENV": "JWT_GUARD_TEST_WRONG_PIN",
    }
    with pytest.raises(ConfigurationError) as caught:
        IssuingSettings.from_mapping(values).open()
    assert "pin" in caught.value.setting
