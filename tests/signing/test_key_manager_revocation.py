"""KeyManager(revocation=...): an emergency rotation records its revocations for verifiers."""

from __future__ import annotations

import pytest

from jwt_guard_core import ConfigurationError
from jwt_guard_core.sessions import MemorySessionStore, RevocationService
from jwt_guard_core.signing import KeyManager
from jwt_guard_core.signing.manager import KeyRevocation
from tests.factories import named


def test_emergency_rotation_denies_every_removed_kid_and_sets_the_epoch(
    make_manager, clock, recorded_events
):
    revocation = RevocationService(MemorySessionStore(), clock=clock)
    manager = make_manager(revocation=revocation)
    first = manager.active_key().kid
    clock.advance(100)
    second = manager.rotate().kid  # first is retired, still published
    removed = {k.kid for k in manager.list_keys()}
    assert removed == {first, second}
    clock.advance(0.7)
    new = manager.emergency_rotate(reason="leak")
    for kid in removed:
        assert revocation.check({"iat": clock() + 5}, kid=kid) == "key"
    assert revocation.check({"iat": clock()}, kid=new.kid) is None
    # The store's epoch is the manager's (whole seconds).
    assert revocation.check({"iat": int(clock()) - 1}) == "emergency_epoch"
    assert revocation.check({"iat": int(clock())}) is None
    (event,) = named(recorded_events, "signing_keys_revoked")
    assert (
        set(event.fields["kids"].split(","))
        == removed
        == {first, second} | (removed - {first, second})
    )


def test_emergency_rotation_of_an_empty_store_sets_only_the_epoch(make_manager, clock):
    revocation = RevocationService(MemorySessionStore(), clock=clock)
    manager = make_manager(revocation=revocation)
    manager.emergency_rotate()
    assert manager.emergency_epoch == int(clock())
    assert revocation.check({"iat": int(clock()) - 1}) == "emergency_epoch"


def test_revocation_service_is_a_key_revocation():
    assert isinstance(RevocationService(MemorySessionStore()), KeyRevocation)


@pytest.mark.parametrize("value", [object(), "redis://x", MemorySessionStore()], ids=repr)
def test_a_revocation_that_cannot_revoke_keys_is_refused(file_store, value):
    with pytest.raises(ConfigurationError) as caught:
        KeyManager(file_store, revocation=value)
    assert caught.value.setting == "revocation"
