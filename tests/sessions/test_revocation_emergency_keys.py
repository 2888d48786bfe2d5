"""A key revoked in an emergency is refused at once, whatever ``iat`` a forger writes.

The scenario of the security finding: the signing service serves its JWKS
over HTTP (a real loopback server); an API verifies through ``RemoteJWKS``
with a ``RevocationService`` sharing the revocation store. The active private
key leaks, the operator calls ``emergency_rotate()``. The API still holds the
leaked public key in its JWKS cache (within max-age), so a token the thief
signs with it verifies; the emergency epoch alone cannot stop it, because the
thief chooses ``iat``. The kid denylist written by ``emergency_rotate`` does:
every token of a retired kid is refused at once, on every backend.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from werkzeug import Request, Response

from jwt_guard_core import GuardConfig, TokenRevoked, UnknownKid, Verifier
from jwt_guard_core.errors import StateUnavailable
from jwt_guard_core.remote import RemoteJWKS
from jwt_guard_core.sessions import (
    MemorySessionStore,
    RedisSessionStore,
    RevocationService,
    SQLiteSessionStore,
)
from jwt_guard_core.signing import FileKeyStore, KeyManager, TokenIssuer
from tests.factories import FakeClock, named, sign

AUDIENCE = "https://api.example"
JWKS_PATH = "/.well-known/jwks.json"
PASSPHRASE = "correct horse battery staple 42"


def api_view(store: Any) -> Any:
    """The same revocation state as another process would open it."""
    if isinstance(store, SQLiteSessionStore):
        return SQLiteSessionStore(store.path)
    if isinstance(store, RedisSessionStore):
        pool = store._client.connection_pool.connection_kwargs
        return RedisSessionStore(
            type(store._client)(host=pool["host"], port=pool["port"], socket_timeout=5),
            prefix=store._prefix,
        )
    return store


@pytest.fixture
def key_store(tmp_path: Path) -> FileKeyStore:
    return FileKeyStore(tmp_path / "keys", passphrase=PASSPHRASE)


@pytest.fixture
def signing_side(backend_store: Any, key_store: FileKeyStore, clock: FakeClock) -> KeyManager:
    """The signing service: its key manager records emergencies in the revocation store."""
    revocation = RevocationService(backend_store, clock=clock)
    return KeyManager(key_store, revocation=revocation, clock=clock)


@pytest.fixture
def served(httpserver: Any, signing_side: KeyManager) -> TokenIssuer:
    url = httpserver.url_for("/").rstrip("/")
    issuer = TokenIssuer(signing_side, issuer=url, audience=AUDIENCE)

    def jwks(request: Request) -> Response:
        reply = signing_side.jwks_response()
        return Response(reply.body, status=reply.status, headers=dict(reply.headers))

    httpserver.expect_request(JWKS_PATH).respond_with_handler(jwks)
    return issuer


@pytest.fixture
def remote(httpserver: Any, clock: FakeClock) -> Iterator[RemoteJWKS]:
    jwks = RemoteJWKS(httpserver.url_for(JWKS_PATH), clock=clock, refresh_ahead=None)
    try:
        yield jwks
    finally:
        jwks.close()


@pytest.fixture
def api_revocation(backend_store: Any, clock: FakeClock) -> Iterator[RevocationService]:
    store = api_view(backend_store)
    try:
        yield RevocationService(store, clock=clock)
    finally:
        if store is not backend_store and isinstance(store, SQLiteSessionStore):
            store.close()
        elif store is not backend_store and isinstance(store, RedisSessionStore):
            store._client.close()


def api_verifier(
    issuer: TokenIssuer, keys: Any, clock: FakeClock, revocation: Any = None
) -> Verifier:
    return Verifier(
        GuardConfig(
            algorithms=["ES256"],
            keys=keys,
            issuer=issuer.issuer,
            audience=AUDIENCE,
            expected_type="at+jwt",
            revocation=revocation,
            clock=clock,
        )
    )


def forge(issuer: TokenIssuer, key: Any, kid: str | None, *, iat: int, **extra: Any) -> str:
    """An admin token signed with the leaked key, the thief choosing every claim."""
    header = {"alg": "ES256", "typ": "at+jwt", **({"kid": kid} if kid is not None else {})}
    payload = {
        "iss": issuer.issuer,
        "aud": AUDIENCE,
        "sub": "admin",
        "scope": "admin users:write",
        "iat": iat,
        "nbf": iat,
        "exp": iat + 900,
        "jti": secrets.token_hex(16),
        **extra,
    }
    return sign(header, payload, key)


def jwks_fetches(httpserver: Any) -> int:
    return sum(1 for request, _ in httpserver.log if request.path == JWKS_PATH)


def test_token_forged_with_a_key_leaked_before_an_emergency_is_refused_at_once(
    httpserver, served, signing_side, key_store, remote, api_revocation, clock, recorded_events
):
    verifier = api_verifier(served, remote, clock, api_revocation)
    assert verifier.verify(served.issue_access_token("user-1")).subject == "user-1"
    fetches = jwks_fetches(httpserver)  # the API now holds the JWKS for its max-age (600 s)

    ring = key_store.load()
    assert ring.active is not None
    leaked, old_kid = ring.active.material.reveal(), ring.active.kid
    clock.advance(30)
    signing_side.emergency_rotate(reason="signing key leaked")

    now = int(clock())
    forged = [
        forge(served, leaked, old_kid, iat=now),  # iat after the epoch's second
        forge(served, leaked, old_kid, iat=now + 8),  # in the future, within the leeway
        forge(served, leaked, None, iat=now),  # no kid: the only cached key verifies it
    ]
    for minutes in (0, 9):
        clock.advance(60 * minutes)
        for token in forged:
            with pytest.raises(TokenRevoked) as caught:
                verifier.verify(token)
            assert caught.value.reason == "revoked"
            assert caught.value.status == 401
    # 9 min 30 s after the fetch: still within max-age, so refused by the
    # revocation state, not by a refetched JWKS.
    assert jwks_fetches(httpserver) == fetches
    clock.advance(30)  # past max-age: refetched, the token's key is unknown
    fresh = served.issue_access_token("user-1")
    assert verifier.verify(fresh).kid == signing_side.active_key().kid
    for token in forged[:2]:
        with pytest.raises(UnknownKid):
            verifier.verify(token)
    assert api_revocation.check({"sub": "admin", "iat": now + 8}, kid=old_kid) == "key"
    (event,) = named(recorded_events, "signing_keys_revoked")
    assert event.fields["kids"] == old_kid


async def test_async_verification_refuses_the_forged_token_too(
    served, signing_side, key_store, remote, api_revocation, clock
):
    verifier = api_verifier(served, remote, clock, api_revocation)
    await verifier.averify(served.issue_access_token("user-1"))
    ring = key_store.load()
    assert ring.active is not None
    leaked, old_kid = ring.active.material.reveal(), ring.active.kid
    clock.advance(60)
    signing_side.emergency_rotate()
    with pytest.raises(TokenRevoked) as caught:
        await verifier.averify(forge(served, leaked, old_kid, iat=int(clock())))
    assert caught.value.reason == "revoked"


def test_every_key_of_the_ring_is_revoked_not_only_the_active_one(
    served, signing_side, remote, api_revocation, clock
):
    verifier = api_verifier(served, remote, clock, api_revocation)
    before = served.issue_access_token("user-1")
    clock.advance(60)
    retired = signing_side.active_key().kid
    signing_side.rotate()
    after = served.issue_access_token("user-1")
    assert verifier.verify(before).kid == retired  # fetched with both keys
    assert verifier.verify(after).subject == "user-1"
    clock.advance(60)
    signing_side.emergency_rotate()
    for token in (before, after):
        with pytest.raises(TokenRevoked):
            verifier.verify(token)


def test_verifier_sharing_nothing_stops_trusting_the_key_when_its_jwks_cache_expires(
    httpserver, tmp_path, clock
):
    # No revocation store: the bound is the JWKS cache lifetime, the
    # manager's jwks_max_age clamped to the verifier's [min_ttl, max_ttl].
    manager = KeyManager(
        FileKeyStore(tmp_path / "keys", passphrase=PASSPHRASE), jwks_max_age=60, clock=clock
    )
    issuer = TokenIssuer(manager, issuer=httpserver.url_for("/").rstrip("/"), audience=AUDIENCE)

    def jwks(request: Request) -> Response:
        reply = manager.jwks_response()
        return Response(reply.body, status=reply.status, headers=dict(reply.headers))

    httpserver.expect_request(JWKS_PATH).respond_with_handler(jwks)
    remote = RemoteJWKS(
        httpserver.url_for(JWKS_PATH), clock=clock, refresh_ahead=None, min_ttl=30, max_ttl=120
    )
    try:
        verifier = api_verifier(issuer, remote, clock)
        verifier.verify(issuer.issue_access_token("user-1"))
        leaked = manager._store.load().active
        assert leaked is not None
        manager.emergency_rotate()
        token = forge(issuer, leaked.material.reveal(), leaked.kid, iat=int(clock()))
        clock.advance(59)
        assert verifier.verify(token).subject == "admin"  # within the documented bound
        clock.advance(1)
        # At expiry the set is fetched again (here at once; a verification
        # starts it in the background and is answered from the old set
        # until it lands, bounded by the fetch timeout).
        assert remote.warm() is True
        with pytest.raises(UnknownKid) as caught:
            verifier.verify(token)
        assert caught.value.reason == "unknown_kid"
    finally:
        remote.close()


def test_kid_denial_is_kept_for_the_configured_retention(clock):
    revocation = RevocationService(MemorySessionStore(), key_retention=3600, clock=clock)
    assert revocation.revoke_keys(["kid-1", "kid-2"]) == ("kid-1", "kid-2")
    assert revocation.check({"iat": clock() + 5}, kid="kid-2") == "key"
    assert revocation.check({"iat": clock() + 5}, kid="kid-3") is None
    clock.advance(3600)
    assert revocation.check({"iat": clock()}, kid="kid-2") is None


def test_kid_denial_without_retention_is_permanent(backend_store, clock):
    revocation = RevocationService(backend_store, clock=clock)
    revocation.revoke_keys(["kid-1"])
    clock.advance(10 * 365 * 86400)
    assert revocation.check({"iat": clock()}, kid="kid-1") == "key"


@pytest.mark.parametrize("kids", [[], [""], [None], "kid-1", [b"kid"], ["k" * 257]], ids=repr)
def test_bad_kids_are_refused_naming_the_argument(kids, clock):
    from jwt_guard_core import ConfigurationError

    revocation = RevocationService(MemorySessionStore(), clock=clock)
    with pytest.raises(ConfigurationError) as caught:
        revocation.revoke_keys(kids)
    assert caught.value.setting == "kids"


def test_emergency_rotation_raises_when_the_revocation_store_is_down_but_keys_are_replaced(
    tmp_path, key_store, clock, recorded_events
):
    store = SQLiteSessionStore(tmp_path / "sessions.db")
    manager = KeyManager(key_store, revocation=RevocationService(store, clock=clock), clock=clock)
    old_kid = manager.active_key().kid
    store.revocation_state(None, None, now=clock())
    store.close()
    (tmp_path / "sessions.db").write_bytes(b"garbage!" * 1000)  # every write fails
    with pytest.raises(StateUnavailable) as caught:
        manager.emergency_rotate()
    assert caught.value.status == 503
    assert old_kid in str(caught.value)
    # The rotation itself happened: the leaked key is out of the JWKS.
    assert [k["kid"] for k in manager.jwks()["keys"]] == [manager.active_key().kid]
    assert manager.active_key().kid != old_kid
    (event,) = named(recorded_events, "signing_keys_revocation_failed")
    assert event.fields["kids"] == old_kid


async def test_verifier_hands_a_token_aware_check_the_verified_token_and_others_the_claims(
    make_verifier, keyring, clock
):
    seen: list[Any] = []

    class TokenAware:
        def is_revoked(self, claims: Any, issuer: Any) -> bool:
            raise AssertionError("is_token_revoked is preferred")

        async def ais_revoked(self, claims: Any, issuer: Any) -> bool:
            raise AssertionError("ais_token_revoked is preferred")

        def is_token_revoked(self, token: Any) -> bool:
            seen.append(token)
            return token.kid == "rsa-1"

        async def ais_token_revoked(self, token: Any) -> bool:
            return self.is_token_revoked(token)

    class ClaimsOnly:
        def is_revoked(self, claims: Any, issuer: Any) -> bool:
            seen.append(dict(claims))
            return False

        async def ais_revoked(self, claims: Any, issuer: Any) -> bool:
            return self.is_revoked(claims, issuer)

    from tests.factories import claims as make_claims

    token = sign({"alg": "RS256", "kid": "rsa-1"}, make_claims(), keyring.rsa)
    aware = make_verifier(revocation=TokenAware())
    with pytest.raises(TokenRevoked):
        aware.verify(token)
    with pytest.raises(TokenRevoked):
        await aware.averify(token)
    assert [t.kid for t in seen] == ["rsa-1", "rsa-1"]
    seen.clear()
    plain = make_verifier(revocation=ClaimsOnly())
    assert plain.verify(token).kid == "rsa-1"
    assert (await plain.averify(token)).kid == "rsa-1"
    assert [c["sub"] for c in seen] == ["user-1", "user-1"]
