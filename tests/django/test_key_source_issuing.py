"""``KEY_SOURCE = "ISSUING"``: Django verifies the tokens its own issuing side signs, in process.

The verifier asks the shared ``KeyManager`` (``JWT_GUARD["ISSUING"]``) for
keys, with no request to the JWKS route; the store is opened on the first
token, a rotation is seen by the next request, and a start-up check never
opens the store. tests/e2e/test_django_self_issuing.py runs the same under
a one-worker gunicorn.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import Client

from jwt_guard_django.checks import check_settings
from jwt_guard_django.issuing import get_key_manager, get_token_issuer, reset_issuing
from jwt_guard_django.verifier import build_config, get_verifier, key_set_health, reset_verifier
from tests.factories import FakeClock

from .issuing_fixtures import AUDIENCE, ISSUER_URL, issuing, key_dir

__all__ = ["issuing", "key_dir"]


@pytest.fixture
def self_verifying(settings: Any, issuing: Any, clock: FakeClock) -> Any:
    """Verify with the issuing side's keys: ISSUER/AUDIENCE are the issued tokens'."""
    settings.JWT_GUARD = {
        "ALGORITHMS": ["ES256"],
        "ISSUER": ISSUER_URL,
        "AUDIENCE": AUDIENCE,
        "KEY_SOURCE": "ISSUING",
        "CLOCK": clock,
        "ISSUING": settings.JWT_GUARD["ISSUING"],
    }
    return settings


def _get(client: Client, token: str | None = None) -> Any:
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    return client.get("/required/", **headers)


def test_a_token_issued_here_is_verified_with_the_key_manager(
    self_verifying: Any, client: Client
) -> None:
    token = get_token_issuer().issue_access_token("user-1", scopes=["orders:read"])
    response = _get(client, token)
    assert response.status_code == 200
    assert response.json()["sub"] == "user-1"
    refused = _get(client)
    assert refused.status_code == 401
    assert refused["WWW-Authenticate"] == 'Bearer realm="api"'


async def test_the_async_path_verifies_with_the_key_manager(
    self_verifying: Any, async_client: Any
) -> None:
    from asgiref.sync import sync_to_async

    token = await sync_to_async(get_token_issuer().issue_access_token)("user-2")
    response = await async_client.get(
        "/required-async/", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 200
    assert response.json()["sub"] == "user-2"


def test_a_rotation_is_seen_without_rebuilding_the_verifier(
    self_verifying: Any, client: Client
) -> None:
    before = get_token_issuer().issue_access_token("user-1")
    assert _get(client, before).status_code == 200
    get_key_manager().rotate()
    after = get_token_issuer().issue_access_token("user-1")
    assert after.split(".")[0] != before.split(".")[0]  # another kid in the header
    assert _get(client, after).status_code == 200
    assert _get(client, before).status_code == 200  # the retired key is still published
    get_key_manager().emergency_rotate(reason="test")
    assert _get(client, before).status_code == 401
    assert _get(client, get_token_issuer().issue_access_token("user-1")).status_code == 200


def test_a_token_from_another_signer_is_refused(
    self_verifying: Any, client: Client, make_token: Any
) -> None:
    response = _get(client, make_token(iss=ISSUER_URL, aud=AUDIENCE))
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="api", error="invalid_token"'


def test_the_check_passes_without_opening_the_key_store(self_verifying: Any, key_dir: Any) -> None:
    assert [m.id for m in check_settings()] == []
    build_config()
    assert not key_dir.exists()  # nothing was created or read


def test_a_store_that_cannot_be_opened_answers_503(
    self_verifying: Any, client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = get_token_issuer().issue_access_token("user-1")  # the store exists now
    reset_issuing()
    monkeypatch.setenv("JWT_GUARD_KEY_PASSPHRASE", "another passphrase 0123456789")
    response = _get(client, token)
    assert response.status_code == 503
    assert int(response["Retry-After"]) > 0


def test_without_issuing_the_setting_is_an_error_naming_it(
    self_verifying: Any, configure: Any
) -> None:
    configure(ISSUING=None)
    messages = check_settings()
    assert [m.id for m in messages] == ["jwt_guard.E007"]
    assert "JWT_GUARD['KEY_SOURCE']" in messages[0].msg
    assert "issuing side" in messages[0].msg


def test_an_unknown_source_name_is_refused(self_verifying: Any, configure: Any) -> None:
    configure(KEY_SOURCE="jwks")
    messages = check_settings()
    assert [m.id for m in messages] == ["jwt_guard.E007"]
    assert "'jwks' is not a key source name; use 'ISSUING'" in messages[0].msg


def test_it_is_one_key_source_among_the_others(self_verifying: Any, configure: Any) -> None:
    configure(JWKS_URL="https://auth.example/.well-known/jwks.json")
    reset_verifier()
    with pytest.raises(ImproperlyConfigured, match="give one key source"):
        get_verifier()


def test_health_names_the_issuing_source(self_verifying: Any) -> None:
    assert key_set_health() == {"ok": True, "key_sets": {ISSUER_URL: {"type": "IssuingKeys"}}}


def test_one_issuer_entry_may_use_the_issuing_keys(
    self_verifying: Any, configure: Any, client: Client, make_token: Any, keyring: Any
) -> None:
    from tests.factories import ISSUER, public_pem

    configure(
        ISSUER=None,
        KEY_SOURCE=None,
        ISSUERS={
            ISSUER_URL: {"KEY_SOURCE": "ISSUING", "ALGORITHMS": ["ES256"]},
            ISSUER: {"VERIFYING_KEY": {"rsa-1": public_pem(keyring.rsa).decode()},
                     "ALGORITHMS": ["RS256"]},
        },
    )  # fmt: skip
    assert [m.id for m in check_settings()] == []
    own = get_token_issuer().issue_access_token("user-1")
    assert _get(client, own).json()["sub"] == "user-1"
    assert _get(client, make_token(aud=AUDIENCE)).status_code == 200
