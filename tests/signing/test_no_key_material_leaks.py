"""Private key material never shows in reprs, strings, exceptions, logs, events or the JWKS."""

from __future__ import annotations

import json
import logging
import pickle

import pytest

from jwt_guard_core import ConfigurationError
from jwt_guard_core.signing import (
    FileKeyStore,
    IssuanceError,
    KeyManager,
    KeyStoreError,
    RedisKeyStore,
    TokenIssuer,
)
from tests.signing.conftest import AUDIENCE, ISSUER, PASSPHRASE, assert_no_secret


def _texts(obj: object) -> list[str]:
    return [repr(obj), str(obj)]


@pytest.mark.parametrize(
    ("alg", "options"),
    [("ES256", {}), ("RS256", {}), ("EdDSA", {}), ("HS256", {"allow_hmac": True})],
)
def test_no_private_material_in_reprs_logs_events_errors_or_jwks(
    key_dir, redis_client, clock, caplog, recorded_events, alg, options
):
    caplog.set_level(logging.DEBUG)
    file_store = FileKeyStore(key_dir, passphrase=PASSPHRASE)
    redis_store = RedisKeyStore(redis_client, passphrase=PASSPHRASE)
    observed: list[object] = [file_store, redis_store]
    materials: list[object] = []
    documents: list[str] = []

    for store in (file_store, redis_store):
        manager = KeyManager(store, algorithm=alg, clock=clock, **options)
        issuer = TokenIssuer(manager, issuer=ISSUER, audience=AUDIENCE)
        observed += [manager, issuer]
        token = issuer.issue_access_token("user-1", claims={"roles": ["a"]})
        documents.append(token)
        manager.rotate()
        clock.advance(manager.rotation_interval)
        observed.append(manager.maybe_rotate())
        clock.advance(manager.jwks_max_age)
        observed.append(manager.maybe_rotate())
        ring = store.load()
        materials += [k.material.reveal() for k in ring.keys]
        observed += [
            ring,
            *ring.keys,
            *(k.material for k in ring.keys),
            *(k.info for k in ring.keys),
        ]
        documents.append(json.dumps(manager.jwks()))
        observed += list(manager.list_keys())
        manager.emergency_rotate(reason="test")
        ring = store.load()
        materials += [k.material.reveal() for k in ring.keys]
        observed += [ring, *ring.keys]
        documents.append(json.dumps(manager.jwks()))
        documents.append(issuer.issue_access_token("user-1"))
        with pytest.raises(IssuanceError) as refused:
            issuer.issue_access_token("user-1", claims={"password": "hunter2-secret-value"})
        observed.append(refused.value)
        assert "hunter2" not in str(refused.value)

    with pytest.raises(ConfigurationError) as wrong:
        FileKeyStore(key_dir, passphrase="a wrong passphrase for this store")
    observed.append(wrong.value)
    key_file = next(key_dir.glob("*.key"))
    key_file.write_bytes(key_file.read_bytes()[:-1] + b"\x00")
    with pytest.raises(KeyStoreError) as tampered:
        FileKeyStore(key_dir, passphrase=PASSPHRASE).load()
    observed.append(tampered.value)

    assert len(materials) >= 6
    for obj in observed:
        for text in _texts(obj):
            assert_no_secret(text, materials)
            assert PASSPHRASE not in text
    for document in documents:
        assert_no_secret(document, materials)
    for event in recorded_events:
        assert_no_secret(repr(event), materials)
    assert caplog.records
    for record in caplog.records:
        assert_no_secret(record.getMessage(), materials)
        assert_no_secret(repr(vars(record)), materials)
        assert PASSPHRASE not in repr(vars(record))


def test_jwks_holds_no_private_members(manager):
    manager.active_key()
    manager.rotate()
    for jwk in manager.jwks()["keys"]:
        assert not {"d", "p", "q", "dp", "dq", "qi", "k"} & set(jwk)


def test_key_material_cannot_be_pickled(file_store, manager):
    manager.active_key()
    key = file_store.load().active
    assert repr(key.material) == "<KeyMaterial ES256 redacted>"
    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(key.material)
    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(key)


@pytest.mark.parametrize("alg", ["ES256", "RS256", "EdDSA", "HS256"])
def test_the_leak_detector_finds_every_encoding_it_checks(make_manager, file_store, alg):
    from tests.signing.conftest import secret_forms

    make_manager(algorithm=alg, allow_hmac=alg == "HS256").active_key()
    key = file_store.load().active.material.reveal()
    for form in secret_forms(key):
        with pytest.raises(AssertionError):
            assert_no_secret(b"prefix " + form + b" suffix", [key])
    with pytest.raises(AssertionError):
        assert_no_secret(repr(key) if isinstance(key, bytes) else "PRIVATE KEY", [key])
