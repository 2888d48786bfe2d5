"""``manage.py jwt_guard_rotate_keys --emergency`` denies the leaked key where the app verifies.

Security review, finding 1: a verifier still holding the leaked public key
(here a static ``VERIFYING_KEY`` copied from the JWKS, as any JWKS cache
holds it within its max-age) accepts a token the thief signs with
``iat`` after the emergency, since the emergency epoch only refuses older
tokens. With ``SESSIONS`` configured, the issuing side's key manager writes
the removed kids into the sessions' revocation store, which the app's
verifier reads: the forged token is refused at once, reason ``revoked``.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from jwt_guard_core.signing import FileKeyStore
from jwt_guard_django.issuing import get_key_manager
from tests import leaks
from tests.factories import AUDIENCE, ISSUER, FakeClock

from .session_fixtures import PASSPHRASE, guard_sessions, key_dir

__all__ = ["guard_sessions", "key_dir"]


def forge(key: Any, kid: str, iat: int) -> str:
    return leaks.forge(key, kid, iss=ISSUER, aud=AUDIENCE, iat=iat)


@pytest.mark.parametrize("backend", ["memory", "sqlite"])
def test_emergency_command_makes_a_token_forged_with_the_old_key_refused_at_once(
    client, guard_sessions, key_dir: Path, clock: FakeClock, rejected_reasons, tmp_path, backend
):
    extra = {"SQLITE_PATH": str(tmp_path / "sessions.db")} if backend == "sqlite" else {}
    guard_sessions(BACKEND=backend, **extra)
    ring = FileKeyStore(key_dir, passphrase=PASSPHRASE).load()
    assert ring.active is not None
    leaked, old_kid = ring.active.material.reveal(), ring.active.kid
    before = forge(leaked, old_kid, int(clock()))
    assert client.get("/api/me/", headers={"Authorization": f"Bearer {before}"}).status_code == 200

    clock.advance(30)
    call_command(
        "jwt_guard_rotate_keys", "--emergency", "--reason", "key leaked", stdout=io.StringIO()
    )

    response = client.get(
        "/api/me/", headers={"Authorization": "Bearer " + forge(leaked, old_kid, int(clock()))}
    )
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="api", error="invalid_token"'
    assert rejected_reasons == ["revoked"]


def test_emergency_command_says_the_removed_keys_are_denied(guard_sessions, key_dir: Path):
    guard_sessions()
    (old,) = [k.kid for k in get_key_manager().list_keys()]
    out = io.StringIO()
    call_command("jwt_guard_rotate_keys", "--emergency", stdout=out)
    (new,) = [k.kid for k in get_key_manager().list_keys()]
    text = out.getvalue()
    assert text.startswith(
        f"emergency rotation: {new} (ES256) is the only key; removed keys ({old})"
    )
    assert "are denied in the revocation store" in text
