"""The verified-token cache: a token seen before skips its signature, never its other checks.

A cache hit returns the very ``VerifiedToken`` of the first verification, so
``verify(t) is verify(t)`` tells a hit from a miss. Every way a cached token
stops being acceptable (it expires, it is revoked, its key leaves the key
set or is replaced, an emergency rotation or epoch) refuses it on its next
use with the reason a first verification would give.
"""

from __future__ import annotations

import asyncio
import threading

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from jwt_guard_core import (
    AlgorithmNotAllowed,
    BadAudience,
    BadSignature,
    ConfigurationError,
    GuardConfig,
    NotYetValid,
    StaticKeySet,
    TokenExpired,
    TokenRevoked,
    TokenTooOld,
    UnknownKid,
    Verifier,
)
from jwt_guard_core.sessions import MemorySessionStore, RevocationService
from jwt_guard_core.signing import FileKeyStore, KeyManager, TokenIssuer
from tests.core.remote_servers import named, public_jwk
from tests.factories import AUDIENCE, ISSUER, NOW, claims, public_pem, sign

pytest_plugins = ["tests.core.remote_fixtures"]

HEADER = {"alg": "RS256", "kid": "rsa-1"}


@pytest.fixture
def token(keyring):
    return sign(HEADER, claims(), keyring.rsa)


# -- hits and misses


def test_a_repeated_token_is_answered_from_the_cache(make_verifier, token):
    verifier = make_verifier()
    first = verifier.verify(token)
    assert verifier.verify(token) is first
    assert first.subject == "user-1"


def test_a_repeated_token_is_answered_from_the_cache_in_async_code(make_verifier, token):
    verifier = make_verifier()

    async def twice():
        return await verifier.averify(token), await verifier.averify(token)

    first, second = asyncio.run(twice())
    assert second is first
    assert verifier.verify(token) is first


def test_size_zero_turns_the_cache_off(make_verifier, token):
    verifier = make_verifier(token_cache_size=0)
    first = verifier.verify(token)
    second = verifier.verify(token)
    assert second is not first
    assert second.claims == first.claims


def test_the_cache_is_bounded_and_forgets_the_least_recently_used(make_verifier, keyring):
    verifier = make_verifier(token_cache_size=3)
    tokens = [sign(HEADER, claims(jti=f"jti-{i}"), keyring.rsa) for i in range(5)]
    results = [verifier.verify(t) for t in tokens]
    assert len(verifier._cache) == 3
    assert verifier.verify(tokens[4]) is results[4]
    assert verifier.verify(tokens[0]) is not results[0]


def test_an_entry_is_dropped_after_the_maximum_age(make_verifier, token, clock):
    verifier = make_verifier(token_cache_max_age=30)
    first = verifier.verify(token)
    clock.advance(29)
    assert verifier.verify(token) is first
    clock.advance(1)
    again = verifier.verify(token)
    assert again is not first
    assert verifier.verify(token) is again


def test_verifiers_with_different_policies_never_share_entries(make_verifier, token):
    accepting = make_verifier()
    refusing = make_verifier(audience="https://other.example")
    accepting.verify(token)
    with pytest.raises(BadAudience):
        refusing.verify(token)


def test_a_refusal_is_never_cached(make_verifier, keyring, clock):
    verifier = make_verifier()
    early = sign(HEADER, claims(nbf=int(NOW) + 100), keyring.rsa)
    with pytest.raises(NotYetValid):
        verifier.verify(early)
    assert len(verifier._cache) == 0
    clock.advance(100)
    assert verifier.verify(early).subject == "user-1"


def test_a_token_that_differs_by_one_byte_is_verified_in_full(make_verifier, token):
    verifier = make_verifier()
    verifier.verify(token)
    head, payload, signature = token.split(".")
    flipped = "A" if signature[0] != "A" else "B"
    with pytest.raises(BadSignature):
        verifier.verify(f"{head}.{payload}.{flipped}{signature[1:]}")


def test_the_cache_holds_digests_not_tokens(make_verifier, token):
    verifier = make_verifier()
    verifier.verify(token)
    (key,) = verifier._cache._entries
    assert isinstance(key, bytes)
    assert len(key) == 32
    assert token.encode() not in key


def test_clear_token_cache_forgets_every_token(make_verifier, token):
    verifier = make_verifier()
    first = verifier.verify(token)
    verifier.clear_token_cache()
    assert verifier.verify(token) is not first


# -- time claims are re-checked on every hit


def test_a_cached_token_expires_on_time(make_verifier, token, clock, recorded_events):
    verifier = make_verifier(token_cache_max_age=3600)
    verifier.verify(token)
    # exp is NOW + 600, and the leeway 10 s.
    clock.advance(609)
    verifier.verify(token)
    clock.advance(1)
    with pytest.raises(TokenExpired) as caught:
        verifier.verify(token)
    assert caught.value.reason == "token_expired"
    (event,) = named(recorded_events, "token_rejected")
    assert event.reason == "token_expired"
    assert event.fields["kid"] == "rsa-1"
    assert event.fields["jti"] == "jti-1"
    assert event.fields["alg"] == "RS256"


def test_a_cached_token_grows_too_old_on_time(make_verifier, token, clock):
    # iat is NOW - 60; the maximum age 120 s and the leeway 10 s.
    verifier = make_verifier(max_token_age=120)
    verifier.verify(token)
    clock.advance(70)
    verifier.verify(token)
    clock.advance(1)
    with pytest.raises(TokenTooOld) as caught:
        verifier.verify(token)
    assert caught.value.reason == "token_too_old"


def test_a_clock_set_back_refuses_a_cached_token_not_yet_valid(make_verifier, token, clock):
    verifier = make_verifier()
    verifier.verify(token)
    clock.advance(-71)  # nbf is NOW - 60, the leeway 10 s
    with pytest.raises(NotYetValid) as caught:
        verifier.verify(token)
    assert caught.value.reason == "not_yet_valid"


# -- revocation runs on every hit


@pytest.fixture
def revocation(clock):
    return RevocationService(MemorySessionStore(), clock=clock)


@pytest.mark.parametrize(
    "revoke",
    [
        pytest.param(lambda r: r.revoke_jti("jti-1", expires_at=NOW + 600), id="jti"),
        pytest.param(lambda r: r.revoke_session("session-1"), id="session"),
        pytest.param(lambda r: r.revoke_subject("user-1"), id="subject"),
        pytest.param(lambda r: r.set_emergency_epoch(), id="emergency-epoch"),
        pytest.param(lambda r: r.revoke_keys(["rsa-1"]), id="kid-denylist"),
    ],
)
def test_a_token_revoked_after_caching_is_refused(
    make_verifier, keyring, revocation, clock, revoke, recorded_events
):
    verifier = make_verifier(revocation=revocation)
    token = sign(HEADER, claims(sid="session-1"), keyring.rsa)
    first = verifier.verify(token)
    assert verifier.verify(token) is first
    clock.advance(1)
    revoke(revocation)
    with pytest.raises(TokenRevoked) as caught:
        verifier.verify(token)
    assert caught.value.reason == "revoked"
    assert len(verifier._cache) == 0
    assert [e.reason for e in named(recorded_events, "token_rejected")] == ["revoked"]


def test_an_async_hit_is_revoked_too(make_verifier, token, revocation):
    verifier = make_verifier(revocation=revocation)

    async def scenario():
        await verifier.averify(token)
        revocation.revoke_jti("jti-1", expires_at=NOW + 600)
        await verifier.averify(token)

    with pytest.raises(TokenRevoked):
        asyncio.run(scenario())


# -- a change of the key set refuses the tokens of the keys concerned


def remote_verifier(keys, clock, algorithms=("RS256", "ES256")):
    return Verifier(
        GuardConfig(
            algorithms=list(algorithms),
            keys=keys,
            issuer=ISSUER,
            audience=AUDIENCE,
            clock=clock,
            token_cache_max_age=3600,
        )
    )


def test_a_kid_removed_from_a_remote_set_refuses_its_cached_tokens(
    jwks_server, make_jwks, keyring, clock, jwk_a, jwk_b
):
    jwks_server.serve_keys(jwk_a, jwk_b)
    verifier = remote_verifier(
        make_jwks(jwks_server.url(), refresh_ahead=None, unknown_kid_cooldown=0), clock
    )
    of_a = sign({"alg": "RS256", "kid": "a"}, claims(), keyring.rsa)
    of_b = sign({"alg": "ES256", "kid": "b"}, claims(), keyring.p256)
    first_b = verifier.verify(of_b)
    verifier.verify(of_a)
    # The provider drops key a; the set is refetched once its TTL is over.
    jwks_server.serve_keys(jwk_b)
    clock.advance(301)
    verifier.verify(of_b)  # past the TTL: a background refresh is started
    remote = verifier.config.keys
    assert remote is not None
    remote.close()  # waits for the background refresh
    assert remote.health()["kids"] == ["b"]
    with pytest.raises(UnknownKid) as caught:
        verifier.verify(of_a)
    assert caught.value.reason == "unknown_kid"
    # b is still in the set: its token is accepted.
    assert verifier.verify(of_b).claims == first_b.claims


def test_a_kid_whose_key_is_replaced_refuses_its_cached_tokens(
    jwks_server, make_jwks, keyring, clock, jwk_a
):
    jwks_server.serve_keys(jwk_a)
    remote = make_jwks(jwks_server.url(), refresh_ahead=None)
    verifier = remote_verifier(remote, clock)
    of_a = sign({"alg": "ES256", "kid": "a"}, claims(), keyring.p256)
    jwks_server.serve_keys(public_jwk(keyring.p256, "a"))
    assert verifier.verify(of_a).kid == "a"
    # The provider now publishes another key under the same kid.
    jwks_server.serve_keys(public_jwk(keyring.p384, "a", alg="ES384"))
    clock.advance(301)
    remote.warm()
    with pytest.raises(AlgorithmNotAllowed) as caught:
        verifier.verify(of_a)
    assert caught.value.reason == "alg_not_allowed"


def test_a_same_alg_key_replaced_under_its_kid_gives_bad_signature(
    jwks_server, make_jwks, keyring, clock
):
    jwks_server.serve_keys(public_jwk(keyring.p256, "a"))
    remote = make_jwks(jwks_server.url(), refresh_ahead=None)
    verifier = remote_verifier(remote, clock, ["ES256"])
    token = sign({"alg": "ES256", "kid": "a"}, claims(), keyring.p256)
    verifier.verify(token)
    jwks_server.serve_keys(public_jwk(ec.generate_private_key(ec.SECP256R1()), "a"))
    clock.advance(301)
    remote.warm()
    with pytest.raises(BadSignature) as caught:
        verifier.verify(token)
    assert caught.value.reason == "bad_signature"


def test_an_emergency_rotation_refuses_the_cached_tokens_of_the_old_key(tmp_path, clock):
    store = FileKeyStore(tmp_path / "keys", passphrase="correct horse battery staple 42")
    manager = KeyManager(store, clock=clock)
    issuer = TokenIssuer(manager, issuer=ISSUER, audience=AUDIENCE)
    verifier = Verifier(
        GuardConfig(
            algorithms=[manager.algorithm],
            keys=manager,
            issuer=ISSUER,
            audience=AUDIENCE,
            clock=clock,
        )
    )
    token = issuer.issue_access_token("user-1")
    first = verifier.verify(token)
    assert verifier.verify(token) is first
    manager.emergency_rotate(reason="test")
    with pytest.raises(UnknownKid) as caught:
        verifier.verify(token)
    assert caught.value.reason == "unknown_kid"


def test_a_static_key_set_keeps_its_entries(make_verifier, token, keyring):
    keys = StaticKeySet.from_pem(public_pem(keyring.rsa), kid="rsa-1")
    verifier = make_verifier(keys=keys)
    first = verifier.verify(token)
    assert verifier.verify(token) is first


# -- concurrency and settings


def test_threads_share_the_cache_safely(make_verifier, keyring):
    verifier = make_verifier(token_cache_size=8)
    tokens = [sign(HEADER, claims(jti=f"jti-{i}", sub=f"user-{i}"), keyring.rsa) for i in range(16)]
    failures: list[BaseException] = []

    def work(offset: int) -> None:
        try:
            for round_ in range(20):
                i = (offset + round_) % len(tokens)
                assert verifier.verify(tokens[i]).subject == f"user-{i}"
        except BaseException as exc:  # pragma: no cover - reported below
            failures.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert len(verifier._cache) <= 8


@pytest.mark.parametrize(
    ("options", "setting"),
    [
        ({"token_cache_size": -1}, "token_cache_size"),
        ({"token_cache_size": True}, "token_cache_size"),
        ({"token_cache_size": "100"}, "token_cache_size"),
        ({"token_cache_size": 10_000_001}, "token_cache_size"),
        ({"token_cache_max_age": 0}, "token_cache_max_age"),
        ({"token_cache_max_age": -5}, "token_cache_max_age"),
        ({"token_cache_max_age": float("nan")}, "token_cache_max_age"),
    ],
)
def test_bad_cache_settings_are_refused_naming_the_setting(make_verifier, options, setting):
    with pytest.raises(ConfigurationError) as caught:
        make_verifier(**options)
    assert caught.value.setting == setting


# -- the result, built without copies


def test_the_result_reads_like_one_built_by_its_constructor(make_verifier, token):
    import copy
    import dataclasses
    import pickle
    from datetime import datetime, timezone

    result = make_verifier().verify(token)
    assert result.expires_at == datetime.fromtimestamp(int(NOW) + 600, tz=timezone.utc)
    rebuilt = dataclasses.replace(result)
    assert rebuilt == result
    assert pickle.loads(pickle.dumps(result)) == result
    assert copy.deepcopy(result) == result
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.subject = "admin"  # type: ignore[misc]
    with pytest.raises(AttributeError):
        result.no_such_attribute  # noqa: B018


def test_a_refetch_of_unchanged_keys_keeps_cached_tokens(
    jwks_server, make_jwks, keyring, clock, jwk_a, jwk_b
):
    jwks_server.serve_keys(jwk_a, jwk_b)
    remote = make_jwks(jwks_server.url(), refresh_ahead=None)
    verifier = remote_verifier(remote, clock)
    token = sign({"alg": "RS256", "kid": "a"}, claims(), keyring.rsa)
    first = verifier.verify(token)
    # The provider publishes the same keys again, with a new one added.
    jwks_server.serve_keys(jwk_a, jwk_b, public_jwk(keyring.p384, "c"))
    clock.advance(301)
    remote.warm()
    assert remote.health()["kids"] == ["a", "b", "c"]
    assert verifier.verify(token) is first
