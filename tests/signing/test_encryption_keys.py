"""JWE decryption keys in the encrypted key store: published with use "enc", rotated with overlap.

The issuing side's store holds the key this service decrypts nested JWE
with; issuers encrypt to the public half from its JWKS. After a rotation
only the new key is published, and a token encrypted to the old key still
decrypts until the overlap window (``retention``) ends; then it is refused
as ``unknown_kid``. Every store is a real FileKeyStore (or Redis) and time
is the fake clock.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from jwt_guard_core import (
    ConfigurationError,
    GuardConfig,
    KeySourceUnavailable,
    StaticKeySet,
    TokenError,
    Verifier,
)
from jwt_guard_core.jwe import JWEPolicy, RecipientKey
from jwt_guard_core.signing import (
    FileKeyStore,
    KeyManager,
    KeyStoreError,
    RedisKeyStore,
    TokenIssuer,
)
from jwt_guard_core.signing.encryption_keys import EncryptionKeyManager
from tests.factories import FakeClock
from tests.signing.conftest import AUDIENCE, ISSUER, PASSPHRASE, assert_no_secret

ENC = "A256GCM"
HOUR = 3600.0


@pytest.fixture
def enc_store(tmp_path: Path) -> FileKeyStore:
    return FileKeyStore(tmp_path / "enc-keys", passphrase=PASSPHRASE)


@pytest.fixture
def make_enc(enc_store: FileKeyStore, clock: FakeClock) -> Callable[..., EncryptionKeyManager]:
    def _make(store: Any = None, **options: Any) -> EncryptionKeyManager:
        options.setdefault("clock", clock)
        return EncryptionKeyManager(store if store is not None else enc_store, **options)

    return _make


@pytest.fixture
def enc(make_enc: Callable[..., EncryptionKeyManager]) -> EncryptionKeyManager:
    return make_enc()


def _issue(manager: KeyManager, enc_jwks: dict[str, Any], alg: str = "ECDH-ES+A256KW") -> str:
    """An access token for AUDIENCE, encrypted to the first key of ``enc_jwks``."""
    recipient = RecipientKey.from_jwk(enc_jwks["keys"][0], alg=alg, enc=ENC)
    issuer = TokenIssuer(
        manager, issuer=ISSUER, audience=AUDIENCE, encrypt_for={AUDIENCE: recipient}
    )
    return issuer.issue_access_token("user-1")


def _verifier(manager: KeyManager, enc: EncryptionKeyManager, clock: FakeClock) -> Verifier:
    return Verifier(
        GuardConfig(
            algorithms=[manager.algorithm],
            keys=StaticKeySet.from_jwks(manager.jwks()),
            issuer=ISSUER,
            audience=AUDIENCE,
            clock=clock,
            token_cache_size=0,
            jwe=JWEPolicy(keys=enc.key_set(), algorithms=[enc.algorithm], encryption=[ENC]),
        )
    )


def test_the_first_key_is_created_and_published_with_use_enc(enc: EncryptionKeyManager) -> None:
    (jwk,) = enc.jwks()["keys"]
    assert (jwk["kty"], jwk["crv"], jwk["use"], jwk["alg"]) == (
        "EC",
        "P-256",
        "enc",
        "ECDH-ES+A256KW",
    )
    assert "d" not in jwk
    (info,) = enc.list_keys()
    assert (info.kid, info.state) == (jwk["kid"], "active")


def test_the_private_key_never_reaches_the_published_jwks_or_the_disk_in_clear(
    enc: EncryptionKeyManager, enc_store: FileKeyStore
) -> None:
    enc.jwks()
    private = enc.decryption_keys().keys[0].key
    assert_no_secret(str(enc.jwks()), [private])
    for path in enc_store.directory.iterdir():
        assert_no_secret(path.read_bytes(), [private])


def test_a_token_encrypted_to_the_published_key_is_accepted(
    manager: KeyManager, enc: EncryptionKeyManager, clock: FakeClock
) -> None:
    token = _issue(manager, enc.jwks())
    assert token.count(".") == 4
    assert _verifier(manager, enc, clock).verify(token).subject == "user-1"


def test_rsa_oaep_256_keys_are_3072_bit_and_decrypt(
    manager: KeyManager, make_enc: Callable[..., EncryptionKeyManager], clock: FakeClock
) -> None:
    enc = make_enc(algorithm="RSA-OAEP-256")
    (jwk,) = enc.jwks()["keys"]
    assert (jwk["kty"], jwk["alg"], jwk["use"]) == ("RSA", "RSA-OAEP-256", "enc")
    assert enc.decryption_keys().keys[0].key.key_size == 3072  # type: ignore[union-attr]
    token = _issue(manager, enc.jwks(), alg="RSA-OAEP-256")
    assert _verifier(manager, enc, clock).verify(token).subject == "user-1"


def test_after_a_rotation_the_old_key_still_decrypts_within_the_overlap_window(
    manager: KeyManager, enc: EncryptionKeyManager, clock: FakeClock
) -> None:
    old_jwks = enc.jwks()
    verifier = _verifier(manager, enc, clock)
    before = _issue(manager, old_jwks)  # an issuer whose cached JWKS still has the old key
    new = enc.rotate()
    (published,) = enc.jwks()["keys"]
    assert published["kid"] == new.kid != old_jwks["keys"][0]["kid"]
    # The same verifier (no restart) decrypts both.
    assert verifier.verify(before).subject == "user-1"
    assert verifier.verify(_issue(manager, enc.jwks())).subject == "user-1"
    # Just inside the window: max_token_lifetime + jwks_max_age + grace_period.
    assert enc.retention == HOUR + 600 + HOUR
    clock.advance(enc.retention - 1)
    late = _issue(manager, old_jwks)
    assert verifier.verify(late).subject == "user-1"


def test_after_the_overlap_window_the_old_key_is_dropped_and_its_tokens_refused(
    manager: KeyManager, enc: EncryptionKeyManager, clock: FakeClock
) -> None:
    old_jwks = enc.jwks()
    verifier = _verifier(manager, enc, clock)
    enc.rotate()
    clock.advance(enc.retention)
    assert enc.maybe_rotate() is True  # drops the retired key
    assert [k.state for k in enc.list_keys()] == ["active"]
    token = _issue(manager, old_jwks)
    with pytest.raises(TokenError) as refused:
        verifier.verify(token)
    assert refused.value.reason == "unknown_kid"


def test_the_schedule_replaces_the_key_after_the_rotation_interval(
    make_enc: Callable[..., EncryptionKeyManager], clock: FakeClock
) -> None:
    enc = make_enc(rotation_interval=30 * 86400)
    first = enc.jwks()["keys"][0]["kid"]
    clock.advance(30 * 86400 - 1)
    assert enc.jwks()["keys"][0]["kid"] == first
    clock.advance(1)
    second = enc.jwks()["keys"][0]["kid"]
    assert second != first
    assert {k.kid: k.state for k in enc.list_keys()} == {first: "retired", second: "active"}


def test_a_rotation_by_another_process_is_seen_without_a_restart(
    manager: KeyManager,
    make_enc: Callable[..., EncryptionKeyManager],
    tmp_path: Path,
    clock: FakeClock,
) -> None:
    ours = make_enc()
    verifier = _verifier(manager, ours, clock)
    ours.jwks()
    theirs = make_enc(FileKeyStore(tmp_path / "enc-keys", passphrase=PASSPHRASE))
    theirs.rotate()
    token = _issue(manager, theirs.jwks())
    assert verifier.verify(token).subject == "user-1"


def test_a_store_holding_signing_keys_is_an_outage_not_a_refused_token(
    manager: KeyManager,
    file_store: FileKeyStore,
    make_enc: Callable[..., EncryptionKeyManager],
    enc: EncryptionKeyManager,
    clock: FakeClock,
) -> None:
    token = _issue(manager, enc.jwks())  # the signing store now holds a signing key
    mixed = make_enc(file_store)
    with pytest.raises(KeyStoreError, match="not a decryption key"):
        mixed.jwks()
    verifier = _verifier(manager, mixed, clock)
    with pytest.raises(KeySourceUnavailable) as outage:
        verifier.verify(token)
    assert (outage.value.status, outage.value.error) == (503, "temporarily_unavailable")


def test_a_signing_key_manager_refuses_a_store_of_decryption_keys(
    enc: EncryptionKeyManager, enc_store: FileKeyStore, clock: FakeClock
) -> None:
    enc.jwks()
    with pytest.raises(KeyStoreError, match="decryption key"):
        KeyManager(enc_store, clock=clock).jwks()


def test_building_a_policy_opens_no_store(tmp_path: Path, clock: FakeClock) -> None:
    opened: list[str] = []

    def factory() -> EncryptionKeyManager:
        opened.append("opened")
        return EncryptionKeyManager(FileKeyStore(tmp_path / "k", passphrase=PASSPHRASE))

    from jwt_guard_core.signing.encryption_keys import StoredDecryptionKeys

    keys = StoredDecryptionKeys(factory, "ECDH-ES+A256KW")
    JWEPolicy(keys=keys, algorithms=["ECDH-ES+A256KW"], encryption=[ENC])
    assert opened == []
    assert not (tmp_path / "k").exists()
    with pytest.raises(Exception, match="no decryption key may be used"):
        JWEPolicy(keys=keys, algorithms=["RSA-OAEP-256"], encryption=[ENC])


def test_instances_sharing_redis_decrypt_with_the_same_rotating_keys(
    manager: KeyManager,
    make_enc: Callable[..., EncryptionKeyManager],
    redis_client: Any,
    clock: FakeClock,
) -> None:
    def store() -> RedisKeyStore:
        return RedisKeyStore(redis_client, prefix="app:encryption", passphrase=PASSPHRASE)

    first, second = make_enc(store()), make_enc(store())
    old = first.jwks()
    assert second.jwks() == old  # one first key for both
    verifier = _verifier(manager, second, clock)
    assert verifier.verify(_issue(manager, old)).subject == "user-1"
    first.rotate()
    assert second.jwks() != old
    assert verifier.verify(_issue(manager, second.jwks())).subject == "user-1"
    assert verifier.verify(_issue(manager, old)).subject == "user-1"  # overlap window
    stored = redis_client.keys("app:encryption*")
    assert stored
    for name in stored:
        value = redis_client.get(name)  # every key of the store is a string
        assert value is not None
        assert_no_secret(value, [k.key for k in first.decryption_keys().keys])


def test_x25519_keys_are_stored_published_and_rotated(
    manager: KeyManager, make_enc: Callable[..., EncryptionKeyManager], clock: FakeClock
) -> None:
    enc = make_enc(algorithm="ECDH-ES+A128KW", curve="X25519")
    old = enc.jwks()
    (jwk,) = old["keys"]
    assert (jwk["kty"], jwk["crv"], jwk["use"]) == ("OKP", "X25519", "enc")
    assert jwk["alg"] == "ECDH-ES+A128KW"
    assert "d" not in jwk
    verifier = _verifier(manager, enc, clock)
    assert verifier.verify(_issue(manager, old, alg="ECDH-ES+A128KW")).subject == "user-1"
    enc.rotate()
    # A new manager on the same directory opens the sealed X25519 keys.
    reopened = make_enc(algorithm="ECDH-ES+A128KW", curve="X25519")
    assert {k.kid for k in reopened.list_keys()} == {k.kid for k in enc.list_keys()}
    assert verifier.verify(_issue(manager, old, alg="ECDH-ES+A128KW")).subject == "user-1"
    new = _issue(manager, reopened.jwks(), alg="ECDH-ES+A128KW")
    assert verifier.verify(new).subject == "user-1"


@pytest.mark.parametrize(
    ("options", "setting"),
    [
        ({"algorithm": "RSA1_5"}, "algorithm"),
        ({"algorithm": "ES256"}, "algorithm"),
        ({"curve": "P-384"}, "curve"),
        ({"curve": "X448"}, "curve"),
        ({"jwks_max_age": -1}, "jwks_max_age"),
        ({"rotation_interval": 1}, "rotation_interval"),
    ],
)
def test_bad_manager_options_are_refused_naming_them(
    make_enc: Callable[..., EncryptionKeyManager], options: dict[str, Any], setting: str
) -> None:
    with pytest.raises(ConfigurationError) as refused:
        make_enc(**options)
    assert refused.value.setting == setting


async def test_async_verification_reads_the_store_off_the_event_loop(
    manager: KeyManager, tmp_path: Path, clock: FakeClock
) -> None:
    import threading

    readers: list[int] = []

    class Recording(FileKeyStore):
        def revision(self) -> int:
            readers.append(threading.get_ident())
            return super().revision()

    enc = EncryptionKeyManager(Recording(tmp_path / "enc", passphrase=PASSPHRASE), clock=clock)
    token = _issue(manager, enc.jwks())
    readers.clear()
    result = await _verifier(manager, enc, clock).averify(token)
    assert result.subject == "user-1"
    assert readers
    assert threading.get_ident() not in readers


def test_a_store_that_cannot_be_opened_is_an_outage(
    manager: KeyManager, enc: EncryptionKeyManager, clock: FakeClock
) -> None:
    from jwt_guard_core.signing.encryption_keys import StoredDecryptionKeys

    token = _issue(manager, enc.jwks())

    def wrong_passphrase() -> EncryptionKeyManager:
        raise ConfigurationError("passphrase_env", "the passphrase does not open the key store")

    verifier = Verifier(
        GuardConfig(
            algorithms=[manager.algorithm],
            keys=StaticKeySet.from_jwks(manager.jwks()),
            issuer=ISSUER,
            audience=AUDIENCE,
            clock=clock,
            jwe=JWEPolicy(
                keys=StoredDecryptionKeys(wrong_passphrase, "ECDH-ES+A256KW"),
                algorithms=["ECDH-ES+A256KW"],
                encryption=[ENC],
            ),
        )
    )
    with pytest.raises(KeySourceUnavailable) as outage:
        verifier.verify(token)
    assert (outage.value.status, outage.value.reason) == (503, "key_source_unavailable")
