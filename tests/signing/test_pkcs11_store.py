"""Signing keys on a PKCS#11 token (SoftHSM2): generated there, used there, never read out."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from jwt_guard_core import ConfigurationError, UnknownKid
from jwt_guard_core.signing import FileKeyStore, KeyManager, KeyStoreError, TokenIssuer
from jwt_guard_core.signing.keystore import KeyRing
from tests.signing.conftest import AUDIENCE, ISSUER, PASSPHRASE, verifier_from_jwks
from tests.signing.softhsm import (
    MODULE,
    NO_LOGIN_TOKEN,
    PIN_ENV,
    TOKEN,
    SoftHSM,
)

pkcs11 = pytest.importorskip("pkcs11")
from pkcs11 import Attribute, KeyType, ObjectClass  # noqa: E402
from pkcs11.exceptions import PKCS11Error  # noqa: E402

from jwt_guard_core.signing.pkcs11_store import (  # noqa: E402
    Pkcs11KeyStore,
    Pkcs11Signer,
    _library,
    check_pkcs11_settings,
    refuse_literal_pin,
)

CHECKOUT = Path(__file__).resolve().parents[2]
DAY = 86400.0


@contextmanager
def token_session() -> Iterator[Any]:
    """A second session on the test token, sharing the login of the stores in this process."""
    # The store's own handle on the module: PKCS#11 initialises a module once per process.
    session = _library(MODULE)[1].get_token(token_label=TOKEN).open(rw=True)
    try:
        yield session
    finally:
        session.close()


def key_objects(prefix: str) -> dict[str, list[str]]:
    """Kids of this ring's private and public key objects on the token (by CKA_ID)."""
    stem = f"{prefix}/key/".encode()
    found: dict[str, list[str]] = {"private": [], "public": []}
    with token_session() as session:
        for name, cls in (("private", ObjectClass.PRIVATE_KEY), ("public", ObjectClass.PUBLIC_KEY)):
            for obj in session.get_objects({Attribute.CLASS: cls}):
                key_id = bytes(obj[Attribute.ID])
                if key_id.startswith(f"{prefix}/".encode()):
                    assert key_id.startswith(stem), "a pending key was left on the token"
                    found[name].append(key_id[len(stem) :].decode())
    return {name: sorted(kids) for name, kids in found.items()}


def hsm_manager(store: Pkcs11KeyStore, clock: Any, **options: Any) -> KeyManager:
    return KeyManager(store, clock=clock, **options)


# --- keys are made on the token and cannot leave it ------------------------------------


def test_a_key_is_generated_on_the_token_labelled_by_kid_and_cannot_be_extracted(hsm_store, clock):
    kid = hsm_manager(hsm_store, clock).active_key().kid
    assert key_objects(hsm_store._prefix) == {"private": [kid], "public": [kid]}
    with token_session() as session:
        private = session.get_key(
            object_class=ObjectClass.PRIVATE_KEY, id=f"{hsm_store._prefix}/key/{kid}".encode()
        )
        assert private[Attribute.LABEL] == kid
        assert private[Attribute.SENSITIVE] is True
        assert private[Attribute.ALWAYS_SENSITIVE] is True
        assert private[Attribute.EXTRACTABLE] is False
        assert private[Attribute.NEVER_EXTRACTABLE] is True
        # Reading the secret scalar fails...
        with pytest.raises(PKCS11Error) as read:
            private[Attribute.VALUE]
        assert type(read.value).__name__ == "AttributeSensitive"
        # ...so does making it extractable after the fact...
        with pytest.raises(PKCS11Error):
            private[Attribute.EXTRACTABLE] = True
        assert private[Attribute.EXTRACTABLE] is False
        # ...and so does wrapping it out under a key the caller knows.
        wrapping = session.generate_key(KeyType.AES, 256, store=False)
        with pytest.raises(PKCS11Error) as wrap:
            wrapping.wrap_key(private)
        assert type(wrap.value).__name__ == "KeyUnextractable"


def test_no_private_key_material_ever_exists_in_the_process(
    hsm_store, clock, monkeypatch: pytest.MonkeyPatch
):
    """KeyMaterial is never created and no private key object is generated or parsed here."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

    from jwt_guard_core.signing import _crypto

    made: list[str] = []

    def forbidden(name: str) -> Callable[..., Any]:
        def _call(*args: Any, **kwargs: Any) -> Any:
            made.append(name)
            raise AssertionError(f"{name} was called for a PKCS#11 key")

        return _call

    monkeypatch.setattr(_crypto.KeyMaterial, "__init__", forbidden("KeyMaterial"))
    monkeypatch.setattr(ec, "generate_private_key", forbidden("ec.generate_private_key"))
    monkeypatch.setattr(rsa, "generate_private_key", forbidden("rsa.generate_private_key"))
    monkeypatch.setattr(ed25519.Ed25519PrivateKey, "generate", forbidden("Ed25519 generate"))
    monkeypatch.setattr(serialization, "load_der_private_key", forbidden("load_der"))

    manager = hsm_manager(hsm_store, clock, algorithm="ES256")
    issuer = TokenIssuer(manager, issuer=ISSUER, audience=AUDIENCE)
    tokens = [issuer.issue_access_token("user-1")]
    clock.advance(60)
    manager.rotate()
    tokens.append(issuer.issue_access_token("user-1"))
    ring = hsm_store.load()
    clock.advance(60)
    manager.emergency_rotate()
    ring2 = hsm_store.load()
    tokens.append(issuer.issue_access_token("user-1"))

    assert made == []
    for key in (*ring.keys, *ring2.keys):
        assert key.material is None
        assert isinstance(key.signer, Pkcs11Signer)
    # What the store keeps beside the keys is metadata only.
    with token_session() as session:
        documents = [
            json.loads(bytes(obj[Attribute.VALUE]))
            for obj in session.get_objects(
                {Attribute.CLASS: ObjectClass.DATA, Attribute.APPLICATION: "jwt-guard"}
            )
            if obj[Attribute.LABEL].startswith(f"{hsm_store._prefix}/ring/")
        ]
    assert len(documents) == 1
    assert {frozenset(entry) for entry in documents[0]["keys"]} == {
        frozenset({"kid", "alg", "state", "created_at", "activated_at", "retired_at"})
    }
    verifier = verifier_from_jwks(manager, clock)
    assert verifier.verify(tokens[-1]).kid == manager.active_key().kid


def test_a_key_that_could_leave_the_token_is_never_used(hsm_store, clock):
    """A key pair planted under the ring's name but extractable is refused when loaded."""
    from jwt_guard_core.signing._crypto import thumbprint_kid
    from jwt_guard_core.signing.keystore import ring_document
    from jwt_guard_core.signing.pkcs11_store import _P256, _public_jwk

    prefix = hsm_store._prefix
    with token_session() as session:
        params = session.create_domain_parameters(
            KeyType.EC, {Attribute.EC_PARAMS: _P256}, local=True
        )
        public, private = params.generate_keypair(
            store=True,
            label="planted",
            private_template={Attribute.EXTRACTABLE: True, Attribute.SENSITIVE: False},
        )
        kid = thumbprint_kid(_public_jwk(public, "ES256"))
        for obj in (public, private):
            obj[Attribute.ID] = f"{prefix}/key/{kid}".encode()
        document = ring_document(KeyRing(), 1)
        document["keys"] = [
            {"kid": kid, "alg": "ES256", "state": "active", "created_at": clock(),
             "activated_at": clock(), "retired_at": None}
        ]  # fmt: skip
        session.create_object(
            {
                Attribute.CLASS: ObjectClass.DATA,
                Attribute.TOKEN: True,
                Attribute.PRIVATE: True,
                Attribute.APPLICATION: "jwt-guard",
                Attribute.LABEL: f"{prefix}/ring/1",
                Attribute.VALUE: json.dumps(document).encode(),
            }
        )
    assert hsm_store.revision() == 1
    with pytest.raises(KeyStoreError, match="extractable or was not generated on the token"):
        hsm_store.load()
    manager = hsm_manager(hsm_store, clock)
    with pytest.raises(KeyStoreError, match="extractable"):
        TokenIssuer(manager, issuer=ISSUER, audience=AUDIENCE).issue_access_token("user-1")


# --- sign on the token, verify with the published JWKS ---------------------------------


@pytest.mark.parametrize("alg", ["ES256", "ES384", "ES512", "RS256", "PS256", "EdDSA"])
def test_a_token_signed_on_the_token_verifies_with_the_managers_jwks(hsm_store, clock, alg):
    manager = hsm_manager(hsm_store, clock, algorithm=alg)
    issuer = TokenIssuer(manager, issuer=ISSUER, audience=AUDIENCE)
    token = issuer.issue_access_token("user-1", scopes=["orders:read"])
    result = verifier_from_jwks(manager, clock).verify(token)
    assert (result.subject, result.algorithm, result.scopes) == ("user-1", alg, {"orders:read"})
    assert result.kid == manager.active_key().kid
    (jwk,) = manager.jwks()["keys"]
    assert (jwk["kid"], jwk["alg"], jwk["use"]) == (result.kid, alg, "sig")
    if alg in ("RS256", "PS256"):
        from jwt_guard_core.encoding import b64url_decode

        assert len(b64url_decode(jwk["n"])) * 8 == 3072


def test_a_token_from_the_token_with_a_changed_payload_is_refused(hsm_store, clock, tmp_path: Path):
    manager = hsm_manager(hsm_store, clock)
    token = TokenIssuer(manager, issuer=ISSUER, audience=AUDIENCE).issue_access_token("user-1")
    head, _, signature = token.split(".")
    file_store = FileKeyStore(tmp_path / "keys", passphrase=PASSPHRASE)
    other = TokenIssuer(
        KeyManager(file_store, clock=clock), issuer=ISSUER, audience=AUDIENCE
    ).issue_access_token("admin")
    forged = f"{head}.{other.split('.')[1]}.{signature}"
    from jwt_guard_core import BadSignature

    with pytest.raises(BadSignature) as info:
        verifier_from_jwks(manager, clock).verify(forged)
    assert info.value.reason == "bad_signature"


def test_threads_sharing_the_token_session_all_sign_valid_tokens(hsm_store, clock):
    from concurrent.futures import ThreadPoolExecutor

    manager = hsm_manager(hsm_store, clock)
    issuer = TokenIssuer(manager, issuer=ISSUER, audience=AUDIENCE)
    with ThreadPoolExecutor(max_workers=8) as pool:
        tokens = list(pool.map(lambda n: issuer.issue_access_token(f"user-{n}"), range(200)))
    verifier = verifier_from_jwks(manager, clock)
    assert {verifier.verify(t).subject for t in tokens} == {f"user-{n}" for n in range(200)}


def test_a_closed_store_refuses_to_issue_with_a_key_store_error(make_hsm_store, clock):
    store = make_hsm_store()
    manager = hsm_manager(store, clock)
    issuer = TokenIssuer(manager, issuer=ISSUER, audience=AUDIENCE)
    issuer.issue_access_token("user-1")
    store.close()
    with pytest.raises(KeyStoreError, match="closed"):
        issuer.issue_access_token("user-1")


# --- the ring on the token: rotation and emergency rotation ----------------------------


def test_scheduled_rotation_publishes_activates_retires_and_removes_keys_on_the_token(
    hsm_store, clock
):
    manager = hsm_manager(
        hsm_store, clock, rotation_interval=10 * DAY, max_token_lifetime=3600, grace_period=600
    )
    issuer = TokenIssuer(manager, issuer=ISSUER, audience=AUDIENCE)
    first = manager.active_key().kid

    clock.advance(10 * DAY - manager.jwks_max_age * 2)  # publish_ahead before it is due
    outcome = manager.maybe_rotate()
    assert outcome.published is not None
    assert outcome.activated is None
    second = outcome.published
    assert key_objects(hsm_store._prefix)["private"] == sorted([first, second])
    assert [k["kid"] for k in manager.jwks()["keys"]] == [first, second]
    old_token = issuer.issue_access_token("user-1", lifetime=3600)

    clock.advance(manager.jwks_max_age * 2)
    outcome = manager.maybe_rotate()
    assert (outcome.activated, outcome.retired) == (second, first)
    states = {k.kid: k.state for k in manager.list_keys()}
    assert states == {first: "retired", second: "active"}
    assert key_objects(hsm_store._prefix)["private"] == sorted([first, second])
    verifier = verifier_from_jwks(manager, clock)
    assert verifier.verify(old_token).kid == first  # still published while tokens live
    assert verifier.verify(issuer.issue_access_token("user-2")).kid == second

    clock.advance(3600 + 600)
    outcome = manager.maybe_rotate()
    assert outcome.dropped == (first,)
    assert key_objects(hsm_store._prefix) == {"private": [second], "public": [second]}
    assert [k["kid"] for k in manager.jwks()["keys"]] == [second]


def test_emergency_rotation_destroys_every_previous_key_on_the_token(hsm_store, clock):
    manager = hsm_manager(hsm_store, clock)
    issuer = TokenIssuer(manager, issuer=ISSUER, audience=AUDIENCE)
    before = issuer.issue_access_token("user-1")
    clock.advance(60)
    manager.rotate()
    old = {k.kid for k in manager.list_keys()}
    assert len(old) == 2
    clock.advance(60)
    new = manager.emergency_rotate(reason="test").kid
    assert key_objects(hsm_store._prefix) == {"private": [new], "public": [new]}
    assert manager.emergency_epoch == int(clock())
    verifier = verifier_from_jwks(manager, clock)
    with pytest.raises(UnknownKid) as info:
        verifier.verify(before)
    assert info.value.reason == "unknown_kid"
    assert verifier.verify(issuer.issue_access_token("user-1")).kid == new


def test_a_rotation_that_fails_to_save_leaves_no_key_behind_after_the_next_save(
    make_hsm_store, clock
):
    store = make_hsm_store()
    manager = hsm_manager(store, clock)
    first = manager.active_key().kid
    # Another instance saved in between: this save is refused (compare-and-set)...
    stale = store.load()
    clock.advance(60)
    manager.rotate()
    with store.lock():
        orphan = store.generate_key("ES256")
        with pytest.raises(KeyStoreError, match="changed while it was being updated"):
            store.save(KeyRing(keys=stale.keys, revision=stale.revision), expected_revision=1)
    assert orphan.kid in key_objects(store._prefix)["private"]
    # ...and the key it generated is destroyed by the next successful save.
    clock.advance(60)
    current = manager.rotate().kid
    kids = key_objects(store._prefix)["private"]
    assert orphan.kid not in kids
    assert {current, first} <= set(kids)


def test_a_store_opened_later_reads_the_same_ring_from_the_token(make_hsm_store, clock):
    manager = hsm_manager(make_hsm_store(), clock)
    kid = manager.active_key().kid
    token = TokenIssuer(manager, issuer=ISSUER, audience=AUDIENCE).issue_access_token("u")
    again = hsm_manager(make_hsm_store(), clock)
    assert again.active_key().kid == kid
    assert verifier_from_jwks(again, clock).verify(token).kid == kid


@contextmanager
def instances(
    softhsm: SoftHSM, prefix: str, lock_file: Path, now: float, *extra: str, count: int = 1
) -> Iterator[Callable[[], list[dict[str, Any]]]]:
    """Start ``count`` service instances (``_pkcs11_instance``) as processes, each up to "ready".

    Yields ``go()``: it lets them all start at once and returns their results.
    """
    command = [
        sys.executable, "-m", "tests.signing._pkcs11_instance",
        prefix, str(lock_file), str(now), *extra,
    ]  # fmt: skip
    env = {**softhsm.env(), "PYTHONPATH": str(CHECKOUT)}
    children: list[subprocess.Popen[str]] = []

    def go() -> list[dict[str, Any]]:
        for child in children:
            assert child.stdin is not None
            child.stdin.write("go\n")
            child.stdin.flush()
        results = []
        for child in children:
            out, err = child.communicate(timeout=120)
            assert child.returncode == 0, err
            results.append(json.loads(out))
        return results

    try:
        for _ in range(count):
            # One after the other up to "ready": SoftHSM2 rewrites its token
            # file at every login, and a process starting at that instant can
            # miss the token (the store retries, the test need not rely on it).
            child = subprocess.Popen(
                command, cwd=CHECKOUT, env=env, text=True,
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            )  # fmt: skip
            children.append(child)
            assert child.stdout is not None
            if child.stdout.readline().strip() != "ready":
                child.kill()
                pytest.fail(child.communicate()[1])
        yield go
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
            child.communicate()


def test_two_processes_sharing_the_token_create_exactly_one_first_key(
    softhsm: SoftHSM, make_hsm_store, clock, tmp_path: Path
):
    watcher = hsm_manager(make_hsm_store(), clock)  # this process, opened before
    assert watcher.list_keys() == ()
    prefix = watcher._store._prefix  # type: ignore[attr-defined]
    with instances(softhsm, prefix, tmp_path / "hsm.lock", clock(), count=2) as go:
        results = go()  # both start their rotation together
    created = [r["created"] for r in results if r["created"]]
    assert len(created) == 1
    assert {r["active"] for r in results} == {created[0]}
    assert key_objects(prefix)["private"] == [created[0]]
    # This process sees the other processes' key and verifies their tokens.
    verifier = verifier_from_jwks(watcher, clock)
    assert {verifier.verify(r["token"]).kid for r in results} == {created[0]}


def test_issuing_never_fails_while_another_process_rotates_in_an_emergency(
    softhsm: SoftHSM, make_hsm_store, clock, tmp_path: Path
):
    """Ring objects and keys vanish under this process's reads; it reads again and signs."""
    store = make_hsm_store()
    manager = hsm_manager(store, clock)
    issuer = TokenIssuer(manager, issuer=ISSUER, audience=AUDIENCE)
    manager.active_key()
    with instances(softhsm, store._prefix, tmp_path / "hsm.lock", clock(), "20") as go:
        results: list[dict[str, Any]] = []
        finished = threading.Event()

        def rotate_elsewhere() -> None:
            results.extend(go())
            finished.set()

        worker = threading.Thread(target=rotate_elsewhere)
        worker.start()
        issued = 0
        try:
            while not finished.is_set() and issued < 20000:
                issuer.issue_access_token("user-1")  # never a KeyStoreError
                issued += 1
        finally:
            worker.join()
    (result,) = results
    assert manager.active_key().kid == result["active"]
    assert key_objects(store._prefix)["private"] == [result["active"]]
    token = issuer.issue_access_token("user-2")
    assert verifier_from_jwks(manager, clock).verify(token).kid == result["active"]


# --- start-up errors name the setting ----------------------------------------------------


def test_a_wrong_pin_is_a_configuration_error_naming_the_pin_setting(
    softhsm, make_hsm_store, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
):
    monkeypatch.setenv("WRONG_PIN", "not-the-pin")
    with pytest.raises(ConfigurationError) as info:
        make_hsm_store(token_label=NO_LOGIN_TOKEN, pin_env="WRONG_PIN")
    assert info.value.setting == "pkcs11_pin_env"
    assert "refused the PIN" in str(info.value)
    assert "not-the-pin" not in str(info.value)
    pin_file = tmp_path / "pin"
    pin_file.write_text("not-the-pin\n")
    pin_file.chmod(0o600)
    with pytest.raises(ConfigurationError) as info:
        make_hsm_store(token_label=NO_LOGIN_TOKEN, pin_file=pin_file)
    assert info.value.setting == "pkcs11_pin_file"


def test_the_pin_can_come_from_a_private_file(softhsm, make_hsm_store, tmp_path: Path, clock):
    pin_file = tmp_path / "pin"
    pin_file.write_text(softhsm.pin + "\n")
    pin_file.chmod(0o600)
    store = make_hsm_store(pin_file=pin_file)
    assert hsm_manager(store, clock).active_key().algorithm == "ES256"


def test_a_pin_file_others_can_read_is_refused(softhsm, make_hsm_store, tmp_path: Path):
    pin_file = tmp_path / "pin"
    pin_file.write_text(softhsm.pin)
    pin_file.chmod(0o644)
    with pytest.raises(ConfigurationError) as info:
        make_hsm_store(pin_file=pin_file)
    assert info.value.setting == "pkcs11_pin_file"
    assert "chmod 600" in str(info.value)


def test_another_pin_for_a_token_this_process_is_logged_in_to_is_refused(
    hsm_store, make_hsm_store, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("WRONG_PIN", "not-the-pin")
    with pytest.raises(ConfigurationError) as info:
        make_hsm_store(pin_env="WRONG_PIN")
    assert info.value.setting == "pkcs11_pin_env"


@pytest.mark.parametrize(
    ("options", "setting", "words"),
    [
        ({"pin_env": "JWT_GUARD_TEST_UNSET_PIN"}, "pkcs11_pin_env", "is not set"),
        ({"pin_env": None}, "pkcs11_pin_env", "exactly one"),
        ({"pin_file": "/nonexistent/pin"}, "pkcs11_pin_file", "cannot read the PIN file"),
        ({"token_label": "no-such-token"}, "pkcs11_token_label", "no token labelled"),
        ({"token_label": None}, "pkcs11_token_label", "exactly one"),
        ({"token_label": None, "slot": 987654}, "pkcs11_slot", "no token in slot 987654"),
        ({"prefix": "a/b"}, "pkcs11_prefix", "letters"),
        ({"token_label": 42}, "pkcs11_token_label", "is not a token label"),
        ({"token_label": None, "slot": "0"}, "pkcs11_slot", "is not a slot number"),
        ({"pin_file": 7}, "pkcs11_pin_file", "is not a path"),
        ({"lock_file": 7}, "pkcs11_lock_file", "is not a path"),
    ],
)
def test_a_bad_setting_is_a_configuration_error_naming_it(
    make_hsm_store, monkeypatch: pytest.MonkeyPatch, options, setting, words
):
    monkeypatch.delenv("JWT_GUARD_TEST_UNSET_PIN", raising=False)
    with pytest.raises(ConfigurationError) as info:
        make_hsm_store(**options)
    assert info.value.setting == setting
    assert words in str(info.value)
    if setting == "pkcs11_token_label" and "labelled" in words:
        assert repr(TOKEN) in str(info.value)  # the tokens that do exist are listed


def test_a_missing_or_broken_module_is_a_configuration_error(
    softhsm, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv(PIN_ENV, softhsm.pin)
    (tmp_path / "not-a-module.so").write_text("text")
    for module in (tmp_path / "missing.so", tmp_path / "not-a-module.so", "relative.so", 3):
        with pytest.raises(ConfigurationError) as info:
            Pkcs11KeyStore(module, token_label=TOKEN, pin_env=PIN_ENV)
        assert info.value.setting == "pkcs11_module"
        assert "PKCS#11 module" in str(info.value)


def test_the_start_up_check_names_bad_settings_without_logging_in(
    softhsm, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
):
    monkeypatch.setenv("WRONG_PIN", "not-the-pin")
    # A wrong PIN passes: the check never logs in (opening the store would refuse it).
    check_pkcs11_settings(MODULE, token_label=NO_LOGIN_TOKEN, pin_env="WRONG_PIN")
    cases = [
        ({"module": tmp_path / "missing.so"}, "pkcs11_module"),
        ({"pin_env": "JWT_GUARD_TEST_UNSET_PIN"}, "pkcs11_pin_env"),
        ({"token_label": None}, "pkcs11_token_label"),
        ({"prefix": ""}, "pkcs11_prefix"),
    ]
    monkeypatch.delenv("JWT_GUARD_TEST_UNSET_PIN", raising=False)
    for change, setting in cases:
        options: dict[str, Any] = {
            "module": MODULE, "token_label": TOKEN, "pin_env": "WRONG_PIN", **change
        }  # fmt: skip
        with pytest.raises(ConfigurationError) as info:
            check_pkcs11_settings(**options)
        assert info.value.setting == setting


def test_a_pin_written_in_the_settings_is_refused():
    def name_for(key: str) -> str:
        return f"JWT_GUARD_ISSUING_{key}"

    with pytest.raises(ConfigurationError) as info:
        refuse_literal_pin({"PKCS11_PIN": "1234"}, name_for)
    assert info.value.setting == "JWT_GUARD_ISSUING_PKCS11_PIN"
    assert "JWT_GUARD_ISSUING_PKCS11_PIN_ENV" in str(info.value)
    assert "1234" not in str(info.value)
    refuse_literal_pin({"PKCS11_PIN_ENV": "HSM_PIN"}, name_for)  # the way to give it


def test_an_hmac_algorithm_is_refused_by_the_token_store(hsm_store, clock):
    manager = hsm_manager(hsm_store, clock, algorithm="HS256", allow_hmac=True)
    with pytest.raises(ConfigurationError) as info:
        manager.active_key()
    assert info.value.setting == "algorithm"
    assert "ES256" in str(info.value)


def test_file_store_keys_and_token_keys_do_not_mix(hsm_store, clock, tmp_path: Path):
    file_store = FileKeyStore(tmp_path / "keys", passphrase=PASSPHRASE)
    hsm_manager(hsm_store, clock).active_key()
    KeyManager(file_store, clock=clock).active_key()
    with pytest.raises(KeyStoreError, match="cannot be copied"):
        file_store.save(hsm_store.load(), expected_revision=1)
    with pytest.raises(KeyStoreError, match="only holds keys generated on its token"):
        hsm_store.save(file_store.load(), expected_revision=1)
