"""The signing side's emergency rotation reaches every verifier through revocation.

A verifier that still has the old key cached (a JWKS fetched before the
emergency) would accept a token signed by the leaked key; the epoch makes
it refuse every token issued before the rotation, whether the verifier
reads the epoch from the KeyManager or only shares the revocation store.
"""

from __future__ import annotations

import json

import pytest

from jwt_guard_core import GuardConfig, StaticKeySet, TokenRevoked, Verifier
from jwt_guard_core.encoding import b64url_decode
from jwt_guard_core.errors import StateUnavailable
from jwt_guard_core.sessions import (
    MemorySessionStore,
    RefreshTokenService,
    RevocationService,
    SQLiteSessionStore,
)
from jwt_guard_core.signing import FileKeyStore, KeyManager, TokenIssuer

ISSUER = "https://auth.example"
AUDIENCE = "https://api.example"


@pytest.fixture
def manager(tmp_path, clock):
    store = FileKeyStore(tmp_path / "keys", passphrase="correct horse battery staple 42")
    return KeyManager(store, clock=clock)


@pytest.fixture
def issuer(manager):
    return TokenIssuer(manager, issuer=ISSUER, audience=AUDIENCE)


def _verifier(keys, revocation, clock):
    return Verifier(
        GuardConfig(
            algorithms=["ES256"],
            keys=keys,
            issuer=ISSUER,
            audience=AUDIENCE,
            expected_type="at+jwt",
            revocation=revocation,
            clock=clock,
        )
    )


def test_emergency_rotation_revokes_old_tokens_at_a_verifier_reading_the_key_manager(
    manager, issuer, clock
):
    cached = StaticKeySet.from_jwks(manager.jwks())
    revocation = RevocationService(
        MemorySessionStore(), emergency_epoch_source=manager, clock=clock
    )
    verifier = _verifier(cached, revocation, clock)
    old = issuer.issue_access_token("user-1")
    assert verifier.verify(old).subject == "user-1"

    clock.advance(30)
    manager.emergency_rotate(reason="key leaked")
    # The cached JWKS still holds the leaked key: only the epoch stops it.
    with pytest.raises(TokenRevoked) as caught:
        verifier.verify(old)
    assert caught.value.reason == "revoked"
    assert revocation.check(verifier_claims(old)) == "emergency_epoch"

    clock.advance(1)
    new = issuer.issue_access_token("user-1")
    fresh = _verifier(StaticKeySet.from_jwks(manager.jwks()), revocation, clock)
    assert fresh.verify(new).subject == "user-1"


def test_emergency_epoch_recorded_in_the_shared_store_reaches_a_verifier_sharing_only_it(
    manager, issuer, clock, tmp_path
):
    # The signing service and an API share only the SQLite file.
    signing_side = RevocationService(SQLiteSessionStore(tmp_path / "shared.db"), clock=clock)
    api_store = SQLiteSessionStore(tmp_path / "shared.db")
    api_verifier = _verifier(
        StaticKeySet.from_jwks(manager.jwks()), RevocationService(api_store, clock=clock), clock
    )
    old = issuer.issue_access_token("user-1")
    assert api_verifier.verify(old).subject == "user-1"

    clock.advance(30)
    manager.emergency_rotate()
    assert manager.emergency_epoch is not None
    assert signing_side.set_emergency_epoch(manager.emergency_epoch) == manager.emergency_epoch
    with pytest.raises(TokenRevoked):
        api_verifier.verify(old)
    signing_side.store.close()
    api_store.close()


def test_refresh_after_an_emergency_issues_tokens_that_pass_the_epoch(manager, issuer, clock):
    revocation = RevocationService(
        MemorySessionStore(), emergency_epoch_source=manager, clock=clock
    )
    sessions = RefreshTokenService(MemorySessionStore(), access_tokens=issuer, clock=clock)
    tokens = sessions.issue("user-1", scopes=["orders:read"])
    clock.advance(60)
    manager.emergency_rotate()
    clock.advance(1)
    # Refresh tokens are not signed, so a key leak does not touch them: the
    # session continues with an access token from the new key.
    renewed = sessions.refresh(tokens.refresh_token)
    verifier = _verifier(StaticKeySet.from_jwks(manager.jwks()), revocation, clock)
    verified = verifier.verify(renewed.access_token)
    assert verified.scopes == frozenset({"orders:read"})
    assert verified.claims["sid"] == tokens.family_id


def test_unreadable_key_store_as_epoch_source_fails_closed(manager, issuer, clock, tmp_path):
    revocation = RevocationService(
        MemorySessionStore(), emergency_epoch_source=manager, clock=clock
    )
    verifier = _verifier(StaticKeySet.from_jwks(manager.jwks()), revocation, clock)
    token = issuer.issue_access_token("user-1")
    (tmp_path / "keys" / "keyring.json").write_text("{not json")
    manager.refresh()
    with pytest.raises(StateUnavailable) as caught:
        verifier.verify(token)
    assert caught.value.status == 503


def verifier_claims(token):
    return json.loads(b64url_decode(token.split(".")[1]))
