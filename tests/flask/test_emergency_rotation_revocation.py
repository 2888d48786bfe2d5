"""``flask jwt-guard rotate --emergency`` denies the leaked key where the app verifies.

Security review, finding 1: the app's verifier holds the leaked public key
(``JWT_GUARD_JWKS`` copied from the JWKS, as any JWKS cache holds it within
its max-age), so a token the thief signs with ``iat`` after the emergency
would verify: the emergency epoch only refuses older tokens. With sessions
configured, the issuing side's key manager writes the removed kids into the
sessions' revocation store, which the app's verifier reads: the forged
token is refused at once, reason ``revoked``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from jwt_guard_core.signing import FileKeyStore
from jwt_guard_flask import token_rejected
from jwt_guard_flask.issuing import get_key_manager
from tests import leaks
from tests.factories import AUDIENCE, ISSUER, FakeClock

from .session_fixtures import PASSPHRASE, SessionsApp, key_dir, sessions_app

__all__ = ["key_dir", "sessions_app"]


def forge(key: Any, kid: str, iat: int) -> str:
    return leaks.forge(key, kid, iss=ISSUER, aud=AUDIENCE, iat=iat)


@pytest.mark.parametrize("backend", ["memory", "sqlite"])
def test_emergency_command_makes_a_token_forged_with_the_old_key_refused_at_once(
    sessions_app: SessionsApp, key_dir: Path, clock: FakeClock, tmp_path: Path, backend: str
) -> None:
    extra = {"SQLITE_PATH": str(tmp_path / "sessions.db")} if backend == "sqlite" else {}
    app = sessions_app(BACKEND=backend, **extra)
    ring = FileKeyStore(key_dir, passphrase=PASSPHRASE).load()
    assert ring.active is not None
    leaked, old_kid = ring.active.material.reveal(), ring.active.kid
    client = app.test_client()
    before = forge(leaked, old_kid, int(clock()))
    assert client.get("/api/me", headers={"Authorization": f"Bearer {before}"}).status_code == 200

    clock.advance(30)
    result = app.test_cli_runner().invoke(
        args=["jwt-guard", "rotate", "--emergency", "--reason", "key leaked"]
    )
    assert result.exit_code == 0, result.output

    reasons: list[str] = []

    def receiver(sender: Any, reason: str, **kwargs: Any) -> None:
        reasons.append(reason)

    forged = forge(leaked, old_kid, int(clock()))
    with token_rejected.connected_to(receiver, app):
        response = client.get("/api/me", headers={"Authorization": f"Bearer {forged}"})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="api", error="invalid_token"'
    assert reasons == ["revoked"]
    assert "are denied in the revocation store" in result.output
    assert get_key_manager(app).revocation is app.extensions["jwt_guard_sessions"].revocation
