"""Tokens from TokenIssuer verify with a Verifier that knows only the published JWKS."""

from __future__ import annotations

import pytest

from jwt_guard_core import UnknownKid
from jwt_guard_core.signing import TokenIssuer
from tests.signing.conftest import AUDIENCE, ISSUER, verifier_from_jwks


@pytest.mark.parametrize("alg", ["ES256", "ES384", "ES512", "RS256", "PS256", "EdDSA"])
def test_token_verifies_before_and_after_rotation_and_not_after_an_emergency(
    make_manager, clock, alg
):
    manager = make_manager(algorithm=alg)
    issuer = TokenIssuer(manager, issuer=ISSUER, audience=AUDIENCE)
    before = issuer.issue_access_token("user-1", scopes=["orders:read"])
    result = verifier_from_jwks(manager, clock).verify(before)
    assert (result.subject, result.algorithm, result.scopes) == ("user-1", alg, {"orders:read"})
    old_kid = result.kid

    clock.advance(60)
    new_kid = manager.rotate().kid
    after = issuer.issue_access_token("user-1")
    verifier = verifier_from_jwks(manager, clock)  # a verifier that refetched the JWKS
    assert verifier.verify(before).kid == old_kid
    assert verifier.verify(after).kid == new_kid

    clock.advance(60)
    emergency_kid = manager.emergency_rotate().kid
    verifier = verifier_from_jwks(manager, clock)
    for old in (before, after):
        with pytest.raises(UnknownKid) as info:
            verifier.verify(old)
        assert info.value.reason == "unknown_kid"
        assert info.value.status == 401
        assert info.value.error == "invalid_token"
    fresh = issuer.issue_access_token("user-1")
    assert verifier.verify(fresh).kid == emergency_kid
    assert manager.emergency_epoch is not None
    assert verifier.verify(fresh).claims["iat"] >= manager.emergency_epoch


def test_token_verifies_across_a_scheduled_rotation_with_a_cached_jwks(manager, issuer, clock):
    manager.active_key()
    clock.advance(manager.rotation_interval - 2 * manager.jwks_max_age)
    assert manager.maybe_rotate().published
    # A verifier caches the JWKS now, for at most jwks_max_age seconds ...
    cached = verifier_from_jwks(manager, clock)
    clock.advance(2 * manager.jwks_max_age)
    # ... and the first token signed by the successor already verifies with it.
    token = issuer.issue_access_token("user-1")
    assert cached.verify(token).kid == manager.active_key().kid


def test_a_token_stays_verifiable_until_it_expires_and_its_key_then_leaves_the_jwks(
    manager, issuer, clock
):
    token = issuer.issue_access_token("user-1", lifetime=manager.max_token_lifetime)
    old_kid = manager.active_key().kid
    manager.rotate()
    clock.advance(manager.max_token_lifetime)
    assert verifier_from_jwks(manager, clock).verify(token).kid == old_kid
    clock.advance(manager.retention - manager.max_token_lifetime)
    assert old_kid not in [k["kid"] for k in manager.jwks()["keys"]]
