"""RedisRevocationMirror: revocation answered from memory, fresh within a bound, fail-closed.

A real ``redis-server``; the mirror runs without its thread
(``background=False``) and is brought up to date by explicit ``sync()``
calls, with an injected monotonic clock, so no test waits on time except
the one that checks the thread itself.
"""

from __future__ import annotations

import gc
import logging
import secrets
import subprocess
import sys
import time
from pathlib import Path

import pytest

from jwt_guard_core import TokenRevoked
from jwt_guard_core.errors import StateUnavailable
from jwt_guard_core.sessions import (
    RedisRevocationMirror,
    RedisSessionStore,
    RevocationService,
    StoreUnavailable,
)
from jwt_guard_core.sessions.revocation import RevocationStore
from tests.factories import NOW, claims, named, sign
from tests.redis_server import start_redis_server

HEADER = {"alg": "RS256", "kid": "rsa-1"}
ROOT = Path(__file__).resolve().parents[2]


class Monotonic:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def prefix() -> str:
    return f"mirror:{secrets.token_hex(4)}"


@pytest.fixture
def writer(redis_server, prefix):
    """Another client of the same Redis, as another process would be."""
    client = redis_server.client(socket_timeout=5)
    try:
        yield RedisSessionStore(client, prefix=prefix)
    finally:
        client.close()


@pytest.fixture
def monotonic():
    return Monotonic()


@pytest.fixture
def make_mirror(redis_server, prefix, monotonic):
    made = []

    def _make(**options):
        client = redis_server.client(socket_timeout=5)
        options.setdefault("background", False)
        options.setdefault("monotonic", monotonic)
        mirror = RedisRevocationMirror(RedisSessionStore(client, prefix=prefix), **options)
        made.append((mirror, client))
        return mirror

    yield _make
    for mirror, client in made:
        mirror.close()
        client.close()


@pytest.fixture
def api(make_mirror, make_verifier, clock):
    """An API's verifier whose revocation check reads the mirror."""
    mirror = make_mirror()
    revocation = RevocationService(mirror, clock=clock)
    return mirror, make_verifier(revocation=revocation)


@pytest.fixture
def token(keyring):
    return sign(HEADER, claims(sid="session-1"), keyring.rsa)


def test_the_mirror_is_a_revocation_store(make_mirror):
    mirror = make_mirror()
    assert isinstance(mirror, RevocationStore)
    assert mirror.in_process is True
    assert mirror.fresh


@pytest.mark.parametrize(
    "revoke",
    [
        pytest.param(lambda r: r.revoke_jti("jti-1", expires_at=NOW + 600), id="jti"),
        pytest.param(lambda r: r.revoke_session("session-1"), id="session"),
        pytest.param(lambda r: r.revoke_subject("user-1"), id="subject"),
        pytest.param(lambda r: r.set_emergency_epoch(NOW + 1), id="emergency-epoch"),
        pytest.param(lambda r: r.revoke_keys(["rsa-1"]), id="kid-denylist"),
    ],
)
def test_a_revocation_by_another_client_is_refused_after_the_next_sync(
    api, writer, token, clock, revoke
):
    mirror, verifier = api
    first = verifier.verify(token)
    assert verifier.verify(token) is first  # cached; revocation still read every time
    revoke(RevocationService(writer, clock=clock))
    mirror.sync()
    with pytest.raises(TokenRevoked) as caught:
        verifier.verify(token)
    assert caught.value.reason == "revoked"


def test_a_revocation_in_another_process_is_refused_within_the_bound(
    api, redis_server, prefix, token, monotonic
):
    mirror, verifier = api
    verifier.verify(token)
    code = (
        "import sys\n"
        "from jwt_guard_core.sessions import RedisSessionStore, RevocationService\n"
        "store = RedisSessionStore(sys.argv[1], prefix=sys.argv[2])\n"
        f"RevocationService(store).revoke_jti('jti-1', expires_at={NOW + 600})\n"
    )
    subprocess.run(
        [sys.executable, "-c", code, redis_server.url, prefix],
        check=True,
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
        timeout=60,
    )
    # The other process's revocation is complete: one sync later, refused here.
    monotonic.now += 0.2
    mirror.sync()
    with pytest.raises(TokenRevoked):
        verifier.verify(token)


def test_own_revocations_are_seen_at_once(make_mirror, make_verifier, token, clock):
    mirror = make_mirror()
    revocation = RevocationService(mirror, clock=clock)
    verifier = make_verifier(revocation=revocation)
    verifier.verify(token)
    revocation.revoke_subject("user-1")
    with pytest.raises(TokenRevoked):
        verifier.verify(token)


def test_answers_stop_when_freshness_cannot_be_confirmed(api, token, monotonic, recorded_events):
    mirror, verifier = api
    verifier.verify(token)
    monotonic.now += 1.0  # exactly the bound: still answered
    verifier.verify(token)
    monotonic.now += 0.01
    assert not mirror.fresh
    with pytest.raises(StateUnavailable) as caught:
        verifier.verify(token)
    assert caught.value.status == 503
    assert caught.value.reason == "revocation_unavailable"
    mirror.sync()
    assert verifier.verify(token).subject == "user-1"


def test_a_lost_redis_fails_closed_within_the_bound(tmp_path, make_verifier, token, clock):
    server = start_redis_server(tmp_path)
    monotonic = Monotonic()
    client = server.client(socket_timeout=1, socket_connect_timeout=1)
    mirror = RedisRevocationMirror(
        RedisSessionStore(client, prefix="lost"), background=False, monotonic=monotonic
    )
    try:
        verifier = make_verifier(revocation=RevocationService(mirror, clock=clock))
        verifier.verify(token)
        server.stop()
        with pytest.raises(StoreUnavailable):
            mirror.sync()
        # Within the bound the last confirmed copy answers; past it, 503.
        verifier.verify(token)
        monotonic.now += 1.5
        with pytest.raises(StateUnavailable):
            verifier.verify(token)
    finally:
        mirror.close()
        client.close()
        server.stop()


def test_fail_open_accepts_with_an_error_event_when_not_fresh(
    make_mirror, make_verifier, token, clock, monotonic, recorded_events
):
    mirror = make_mirror()
    verifier = make_verifier(revocation=RevocationService(mirror, clock=clock, fail_open=True))
    monotonic.now += 5
    assert verifier.verify(token).subject == "user-1"
    (event,) = named(recorded_events, "revocation_unavailable")
    assert event.level == logging.ERROR


def test_a_mirror_started_while_redis_is_down_refuses_until_it_loads(
    tmp_path, make_verifier, token, clock
):
    client = RedisSessionStore("redis://127.0.0.1:1/0")
    mirror = RedisRevocationMirror(client, background=False)
    try:
        verifier = make_verifier(revocation=RevocationService(mirror, clock=clock))
        with pytest.raises(StateUnavailable):
            verifier.verify(token)
    finally:
        mirror.close()


def test_a_flushed_database_is_reloaded(api, writer, token, clock, redis_server):
    mirror, verifier = api
    RevocationService(writer, clock=clock).revoke_jti("jti-1", expires_at=NOW + 600)
    mirror.sync()
    with pytest.raises(TokenRevoked):
        verifier.verify(token)
    redis_server.client().flushall()
    mirror.sync()
    assert verifier.verify(token).subject == "user-1"


def test_existing_entries_are_loaded_at_start(make_mirror, writer, make_verifier, token, clock):
    RevocationService(writer, clock=clock).revoke_keys(["rsa-1"])
    mirror = make_mirror()
    verifier = make_verifier(revocation=RevocationService(mirror, clock=clock))
    with pytest.raises(TokenRevoked):
        verifier.verify(token)


def test_a_denylist_entry_ends_with_its_token(api, writer, token, clock):
    mirror, verifier = api
    RevocationService(writer, clock=clock).revoke_jti("jti-1", expires_at=NOW + 10)
    mirror.sync()
    with pytest.raises(TokenRevoked):
        verifier.verify(token)
    # Listed until exp plus the largest leeway (300 s), as in the store.
    clock.advance(311)
    assert mirror.revocation_state("jti-1", None, now=clock()).jti_denied is False


def test_glob_characters_in_the_prefix_are_matched_literally(
    redis_server, monotonic, make_verifier, keyring, clock
):
    client = redis_server.client(socket_timeout=5)
    other = RedisSessionStore(client, prefix="glob*[x]?")
    RevocationService(other, clock=clock).revoke_jti("jti-1", expires_at=NOW + 600)
    mirror = RedisRevocationMirror(
        RedisSessionStore(client, prefix="glob*[x]?"), background=False, monotonic=monotonic
    )
    try:
        assert mirror.revocation_state("jti-1", None, now=clock()).jti_denied is True
        assert mirror.revocation_state("jti-2", None, now=clock()).jti_denied is False
    finally:
        mirror.close()
        client.close()


def test_the_refresh_thread_keeps_the_mirror_fresh(make_mirror, writer, clock):
    mirror = make_mirror(background=True, monotonic=time.monotonic, max_staleness=0.2)
    RevocationService(writer, clock=clock).revoke_subject("user-9")
    deadline = time.monotonic() + 20
    while mirror.revocation_state(None, "user-9", now=clock()).subject_revoked_before is None:
        assert time.monotonic() < deadline, "the refresh thread never applied the revocation"
        time.sleep(0.01)
    assert mirror.fresh


def test_a_mirror_dropped_without_close_ends_its_thread(redis_server, prefix):
    # Settings rebuilt (Django's setting_changed) or an app discarded drop
    # the mirror without close(): its thread must not keep it, and a
    # connection, alive for the rest of the process.
    client = redis_server.client(socket_timeout=5)
    try:
        mirror = RedisRevocationMirror(RedisSessionStore(client, prefix=prefix), max_staleness=0.05)
        thread = mirror._thread
        assert thread is not None
        assert thread.is_alive()
        del mirror
        gc.collect()
        thread.join(20)
        assert not thread.is_alive()
    finally:
        client.close()


@pytest.mark.parametrize(
    ("options", "setting"),
    [
        ({"max_staleness": 0}, "max_staleness"),
        ({"max_staleness": 61}, "max_staleness"),
        ({"max_staleness": True}, "max_staleness"),
        ({"background": "yes"}, "background"),
        ({"monotonic": 5}, "monotonic"),
    ],
)
def test_bad_options_are_refused_naming_them(writer, options, setting):
    from jwt_guard_core import ConfigurationError

    with pytest.raises(ConfigurationError) as caught:
        RedisRevocationMirror(writer, **options)
    assert caught.value.setting == setting


def test_only_a_redis_store_can_be_mirrored():
    from jwt_guard_core import ConfigurationError
    from jwt_guard_core.sessions import MemorySessionStore

    with pytest.raises(ConfigurationError) as caught:
        RedisRevocationMirror(MemorySessionStore())  # type: ignore[arg-type]
    assert caught.value.setting == "store"


def test_a_mirror_loads_more_entries_than_one_scan_or_mget_batch(make_mirror, writer, clock):
    revocation = RevocationService(writer, clock=clock)
    for n in range(1500):
        revocation.revoke_jti(f"jti-{n}", expires_at=NOW + 600)
    mirror = make_mirror()
    assert all(
        mirror.revocation_state(f"jti-{n}", None, now=NOW).jti_denied for n in (0, 999, 1000, 1499)
    )
    assert not mirror.revocation_state("jti-1500", None, now=NOW).jti_denied
