"""The async revocation check reads the emergency epoch inline only when it is held in memory.

``averify`` reads the emergency epoch of the signing side on every
verification. A key store asked for its revision (a stat of the key file,
a Redis GET) may block, so that read runs in a worker thread; an epoch held
in memory (an in-process key store, a remembered read within its interval)
is read on the event loop's own thread. Either way an emergency rotation
made by another key manager over the same store is refused within the
documented bound: at once when the store is asked on every read, within the
interval of a remembered read. Which thread read the store is observed, not
timed.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest

from jwt_guard_core import GuardConfig, StaticKeySet, TokenRevoked, Verifier
from jwt_guard_core.sessions import MemorySessionStore, RevocationService
from jwt_guard_core.settings.sides import at_most_every
from jwt_guard_core.signing import FileKeyStore, KeyManager, TokenIssuer
from jwt_guard_core.testing._store import MemoryKeyStore
from tests.factories import FakeClock

ISSUER = "https://auth.example"
AUDIENCE = "https://api.example"
PASSPHRASE = "correct horse battery staple 42"


class WatchedFileStore(FileKeyStore):
    """A file key store that records which thread asked for its revision."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.readers: list[int] = []

    def revision(self) -> int:
        self.readers.append(threading.get_ident())
        return super().revision()


class WatchedMemoryStore(MemoryKeyStore):
    def __init__(self) -> None:
        super().__init__()
        self.readers: list[int] = []

    def revision(self) -> int:
        self.readers.append(threading.get_ident())
        return super().revision()


def _verifier(keys: KeyManager, epoch_source: Any, clock: FakeClock) -> Verifier:
    revocation = RevocationService(
        MemorySessionStore(), emergency_epoch_source=epoch_source, clock=clock
    )
    return Verifier(
        GuardConfig(
            algorithms=["ES256"],
            # The key set fetched before the emergency: only the epoch stops the old key.
            keys=StaticKeySet.from_jwks(keys.jwks()),
            issuer=ISSUER,
            audience=AUDIENCE,
            expected_type="at+jwt",
            revocation=revocation,
            clock=clock,
        )
    )


async def _refused(verifier: Verifier, token: str) -> str:
    with pytest.raises(TokenRevoked) as caught:
        await verifier.averify(token)
    return caught.value.reason


async def test_a_file_store_is_read_in_a_worker_thread_and_a_rotation_is_refused_at_once(
    tmp_path: Any, clock: FakeClock
) -> None:
    signing = KeyManager(FileKeyStore(tmp_path, passphrase=PASSPHRASE), clock=clock)
    token = TokenIssuer(signing, issuer=ISSUER, audience=AUDIENCE).issue_access_token("user-1")
    store = WatchedFileStore(tmp_path, passphrase=PASSPHRASE)
    reader = KeyManager(store, clock=clock)
    verifier = _verifier(reader, reader, clock)
    assert reader.known_emergency_epoch() == (False, None)

    store.readers.clear()
    assert (await verifier.averify(token)).subject == "user-1"
    assert store.readers
    assert threading.get_ident() not in store.readers  # the stat left the event loop

    clock.advance(30)
    KeyManager(FileKeyStore(tmp_path, passphrase=PASSPHRASE), clock=clock).emergency_rotate()
    assert await _refused(verifier, token) == "revoked"


async def test_a_memory_store_is_read_on_the_event_loop_thread(clock: FakeClock) -> None:
    store = WatchedMemoryStore()
    keys = KeyManager(store, clock=clock)
    token = TokenIssuer(keys, issuer=ISSUER, audience=AUDIENCE).issue_access_token("user-1")
    verifier = _verifier(keys, keys, clock)
    assert keys.known_emergency_epoch() == (True, None)

    store.readers.clear()
    assert (await verifier.averify(token)).subject == "user-1"
    assert set(store.readers) == {threading.get_ident()}

    clock.advance(30)
    keys.emergency_rotate()
    assert keys.known_emergency_epoch() == (True, keys.emergency_epoch)
    assert await _refused(verifier, token) == "revoked"


async def test_a_remembered_read_is_inline_and_a_rotation_is_refused_after_its_interval(
    tmp_path: Any, clock: FakeClock
) -> None:
    signing = KeyManager(FileKeyStore(tmp_path, passphrase=PASSPHRASE), clock=clock)
    token = TokenIssuer(signing, issuer=ISSUER, audience=AUDIENCE).issue_access_token("user-1")
    store = WatchedFileStore(tmp_path, passphrase=PASSPHRASE)
    reader = KeyManager(store, clock=clock)
    # What the adapters build with the revocation mirror on: the key store
    # is read at most once per MIRROR_REFRESH (here 5 s on the fake clock).
    remembered = at_most_every(lambda: reader.emergency_epoch, 5.0, clock)
    verifier = _verifier(reader, remembered, clock)

    store.readers.clear()
    assert (await verifier.averify(token)).subject == "user-1"
    assert len(store.readers) == 1
    assert threading.get_ident() not in store.readers  # the first read: in a thread

    clock.advance(2)
    KeyManager(FileKeyStore(tmp_path, passphrase=PASSPHRASE), clock=clock).emergency_rotate()
    # Within the interval the remembered epoch answers, on the loop, without the store.
    assert (await verifier.averify(token)).subject == "user-1"
    assert len(store.readers) == 1

    clock.advance(3)  # the interval is over: the store is read again (in a thread)
    assert await _refused(verifier, token) == "revoked"
    assert len(store.readers) == 2
    assert threading.get_ident() not in store.readers


def test_a_remembered_read_is_known_only_within_its_interval() -> None:
    now = [100.0]
    remembered = at_most_every(lambda: 7.0, 0.25, lambda: now[0])
    known = remembered.known_emergency_epoch
    assert known() == (False, None)  # nothing read yet
    assert remembered() == 7.0
    assert known() == (True, 7.0)
    now[0] += 0.25
    assert known() == (False, None)
