"""One JWKS fetch per fleet: a shared second-level key-set cache (Redis, or a file on one host).

The provider is a real HTTP server on loopback that counts requests. The
in-process tests use two RemoteJWKS instances on one fake clock as two
"processes"; the fleet test starts 16 real processes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from jwt_guard_core import ConfigurationError, KeySourceUnavailable
from jwt_guard_core.encoding import b64url_encode
from jwt_guard_core.shared_jwks import FileSharedJWKS, RedisSharedJWKS, SharedCopy
from tests.core.remote_servers import jwks_response, named, public_jwk
from tests.redis_server import start_redis_server

pytest_plugins = ["tests.core.remote_fixtures"]

PROCESSES = 16
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(params=["redis", "file"])
def shared(request, tmp_path, clock):
    """A shared store of each kind; ``shared.kind`` and ``shared.target`` say which."""
    if request.param == "redis":
        server = request.getfixturevalue("redis_server")
        client = server.client()
        client.flushall()
        store = RedisSharedJWKS(client, clock=clock)
        store.kind, store.target = "redis", server.url
        yield store
        client.close()
    else:
        store = FileSharedJWKS(tmp_path / "jwks")
        store.kind, store.target = "file", str(tmp_path / "jwks")
        yield store


def test_a_second_process_uses_the_shared_copy_and_fetches_nothing(
    jwks_server, jwk_a, make_jwks, shared, clock, seen
):
    jwks_server.serve_keys(jwk_a, headers={"Cache-Control": "max-age=600"})
    first = make_jwks(jwks_server.url(), shared_cache=shared)
    second = make_jwks(jwks_server.url(), shared_cache=shared)
    assert first.get_key("a", "RS256").kid == "a"
    clock.advance(100)
    assert second.get_key("a", "RS256").kid == "a"
    assert jwks_server.count() == 1
    used = named(seen, "jwks_shared_copy_used")
    assert len(used) == 1
    assert used[0].fields["age"] == 100
    # The copy's age counts: it expires when the original does.
    assert second.health()["expires_in"] == pytest.approx(500)


def test_an_expired_shared_copy_is_not_used(jwks_server, jwk_a, make_jwks, shared, clock):
    jwks_server.serve_keys(jwk_a, headers={"Cache-Control": "max-age=600"})
    make_jwks(jwks_server.url(), shared_cache=shared).get_key("a", "RS256")
    clock.advance(601)
    assert make_jwks(jwks_server.url(), shared_cache=shared).get_key("a", "RS256").kid == "a"
    assert jwks_server.count() == 2


def test_a_stale_shared_copy_serves_a_cold_process_while_the_provider_fails(
    jwks_server, jwk_a, make_jwks, shared, clock, seen
):
    jwks_server.serve_keys(jwk_a, headers={"Cache-Control": "max-age=600"})
    make_jwks(jwks_server.url(), shared_cache=shared, stale_ttl=3600).get_key("a", "RS256")
    jwks_server.serve(b"down", status=500)
    clock.advance(1200)
    cold = make_jwks(jwks_server.url(), shared_cache=shared, stale_ttl=3600)
    assert cold.get_key("a", "RS256").kid == "a"
    assert cold.health()["state"] == "stale"
    assert named(seen, "jwks_stale")
    # Past the stale bound the shared copy is no use either.
    clock.advance(3600)
    later = make_jwks(jwks_server.url(), shared_cache=shared, stale_ttl=3600)
    with pytest.raises(KeySourceUnavailable) as caught:
        later.get_key("a", "RS256")
    assert caught.value.reason == "key_source_unavailable"


def test_a_failure_seen_by_one_process_puts_the_others_in_its_backoff(
    jwks_server, make_jwks, shared, seen
):
    jwks_server.serve(b"down", status=503)
    first = make_jwks(jwks_server.url(), shared_cache=shared)
    with pytest.raises(KeySourceUnavailable):
        first.get_key("a", "RS256")
    second = make_jwks(jwks_server.url(), shared_cache=shared)
    with pytest.raises(KeySourceUnavailable) as caught:
        second.get_key("a", "RS256")
    assert caught.value.reason == "key_source_unavailable"
    assert jwks_server.count() == 1
    failed = named(seen, "jwks_fetch_failed")
    assert [e.reason for e in failed] == ["http_status", "shared_fetch_failed"]


def test_an_unknown_kid_is_fetched_once_and_the_rotation_reaches_the_others(
    jwks_server, keyring, jwk_a, make_jwks, shared, clock
):
    jwks_server.serve_keys(jwk_a, headers={"Cache-Control": "max-age=600"})
    first = make_jwks(jwks_server.url(), shared_cache=shared)
    second = make_jwks(jwks_server.url(), shared_cache=shared)
    first.get_key("a", "RS256")
    second.get_key("a", "RS256")
    assert jwks_server.count() == 1
    rotated = public_jwk(keyring.rsa, "a2")
    jwks_server.serve_keys(jwk_a, rotated, headers={"Cache-Control": "max-age=600"})
    clock.advance(31)  # past the unknown-kid cooldown
    # The same copy as its own is no answer to an unknown kid: it fetches.
    assert first.get_key("a2", "RS256").kid == "a2"
    assert jwks_server.count() == 2
    # The other process finds the newer copy and fetches nothing.
    assert second.get_key("a2", "RS256").kid == "a2"
    assert jwks_server.count() == 2


def test_a_corrupt_shared_copy_is_ignored(jwks_server, jwk_a, make_jwks, shared, clock):
    jwks_server.serve_keys(jwk_a)
    url = jwks_server.url()
    shared.write(SharedCopy(url, b"{not json", None, 600, clock()), keep=600)
    assert make_jwks(url, shared_cache=shared).get_key("a", "RS256").kid == "a"
    assert jwks_server.count() == 1


def test_a_copy_of_another_url_moved_under_this_one_is_ignored(
    jwks_server, jwk_a, keyring, make_jwks, shared, clock
):
    jwks_server.serve_keys(jwk_a)
    url, other = jwks_server.url(), "http://127.0.0.1:1/other.json"
    body = json.dumps({"keys": [public_jwk(keyring.p256, "a")]}).encode()
    shared.write(SharedCopy(other, body, None, 600, clock()), keep=600)
    if shared.kind == "redis":
        shared._client.rename(shared._key(other, "copy"), shared._key(url, "copy"))
    else:
        os.replace(shared._file(other, "copy"), shared._file(url, "copy"))
    assert shared.read(url) is None
    assert make_jwks(url, shared_cache=shared).get_key("a", "RS256").kty == "RSA"
    assert jwks_server.count() == 1


def test_keys_from_the_shared_copy_pass_the_same_checks(
    jwks_server, keyring, make_jwks, shared, clock, seen
):
    # Someone writes a set with a 1024-bit RSA key into the shared store.
    from cryptography.hazmat.primitives.asymmetric import rsa

    weak = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    jwks_server.serve_keys(public_jwk(keyring.rsa, "a"))
    url = jwks_server.url()
    numbers = weak.public_key().public_numbers()
    weak_jwk = {
        "kty": "RSA",
        "kid": "a",
        "n": b64url_encode(numbers.n.to_bytes(128, "big")),
        "e": b64url_encode(numbers.e.to_bytes(3, "big")),
    }
    body = json.dumps({"keys": [weak_jwk]}).encode()
    shared.write(SharedCopy(url, body, None, 600, clock()), keep=600)
    jwks = make_jwks(url, shared_cache=shared)
    # The weak key is skipped as it would be from the provider; the copy
    # has nothing usable, so the provider's own set is fetched.
    key = jwks.get_key("a", "RS256")
    assert key.key.key_size == 2048
    assert [e.reason for e in named(seen, "jwks_key_skipped")] == ["key_rejected"]
    assert jwks_server.count() == 1


def test_a_shared_store_that_is_down_falls_back_to_fetching(
    tmp_path, jwks_server, jwk_a, make_jwks, clock, seen
):
    server = start_redis_server(tmp_path / "r")
    store = RedisSharedJWKS(server.url, clock=clock)
    server.stop()
    jwks_server.serve_keys(jwk_a)
    assert make_jwks(jwks_server.url(), shared_cache=store).get_key("a", "RS256").kid == "a"
    assert jwks_server.count() == 1
    assert named(seen, "jwks_shared_unavailable")


async def test_the_async_path_uses_the_shared_copy(jwks_server, jwk_a, make_jwks, shared):
    jwks_server.serve_keys(jwk_a, headers={"Cache-Control": "max-age=600"})
    first = make_jwks(jwks_server.url(), shared_cache=shared)
    second = make_jwks(jwks_server.url(), shared_cache=shared)
    assert (await first.aget_key("a", "RS256")).kid == "a"
    assert (await second.aget_key("a", "RS256")).kid == "a"
    assert jwks_server.count() == 1
    await first.aclose()
    await second.aclose()


def test_a_file_store_refuses_a_directory_others_can_write(tmp_path):
    loose = tmp_path / "loose"
    loose.mkdir()
    loose.chmod(0o777)
    with pytest.raises(ConfigurationError) as caught:
        FileSharedJWKS(loose)
    assert caught.value.setting == "shared_cache"
    assert "writable by nobody else" in str(caught.value)


def test_something_that_is_not_a_shared_cache_is_refused(jwks_server, make_jwks):
    with pytest.raises(ConfigurationError) as caught:
        make_jwks(jwks_server.url(), shared_cache="redis://localhost")
    assert caught.value.setting == "shared_cache"


def _race(url: str, kind: str, target: str) -> list[str]:
    """Start PROCESSES cold workers, let them all ask for kid ``a`` at once; their answers."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "tests.scale._jwks_worker", url, kind, target, "a"]
    workers = [
        subprocess.Popen(
            command, cwd=ROOT, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        for _ in range(PROCESSES)
    ]
    try:
        for worker in workers:
            assert worker.stdout.readline().strip() == "ready"
        # All built and cold; now they race for the key set.
        for worker in workers:
            worker.stdin.write("go\n")
            worker.stdin.flush()
        return [worker.communicate(timeout=120)[0].strip() for worker in workers]
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
                worker.wait()


def test_sixteen_processes_started_cold_make_one_fetch(jwks_server, jwk_a, shared):
    jwks_server.handle(jwks_response(jwk_a, headers={"Cache-Control": "max-age=600"}))
    answers = _race(jwks_server.url(), shared.kind, shared.target)
    assert answers == ["a"] * PROCESSES
    assert jwks_server.count() == 1


def test_without_a_shared_cache_sixteen_processes_make_sixteen_fetches(jwks_server, jwk_a):
    # The baseline the shared cache is measured against.
    jwks_server.handle(jwks_response(jwk_a, headers={"Cache-Control": "max-age=600"}))
    answers = _race(jwks_server.url(), "none", "")
    assert answers == ["a"] * PROCESSES
    assert jwks_server.count() == PROCESSES


class _LockRecording(FileSharedJWKS):
    """The file store, noting how long each fetch lock is asked for."""

    def __init__(self, directory: Path) -> None:
        super().__init__(directory)
        self.lock_seconds: list[float] = []

    def try_lock(self, url: str, owner: str, *, seconds: float) -> bool:
        self.lock_seconds.append(seconds)
        return super().try_lock(url, owner, seconds=seconds)


def test_the_fetch_lock_lasts_the_shared_lock_timeout(jwks_server, jwk_a, make_jwks, tmp_path):
    jwks_server.serve_keys(jwk_a)
    given = _LockRecording(tmp_path / "given")
    make_jwks(jwks_server.url(), shared_cache=given, shared_lock_timeout=9).get_key("a", "RS256")
    assert given.lock_seconds == [9.0]
    default = _LockRecording(tmp_path / "default")
    make_jwks(jwks_server.url(), shared_cache=default, timeout=2).get_key("a", "RS256")
    assert default.lock_seconds == [3.0]  # one fetch's budget: the timeout plus a second


@pytest.mark.parametrize("value", [0, -1, 1.5, "9", True])
def test_a_shared_lock_timeout_below_the_fetch_timeout_or_not_a_number_is_refused(
    value, make_jwks, tmp_path
):
    with pytest.raises(ConfigurationError) as caught:
        make_jwks(
            "https://idp.example/jwks.json",
            shared_cache=FileSharedJWKS(tmp_path / "c"),
            shared_lock_timeout=value,
            timeout=2,
        )
    assert caught.value.setting == "shared_lock_timeout"


class _ReadBeforeTheLeaderWrote:
    """The shared store as a process sees it when the leader writes its copy and unlocks
    between this process's read and its lock: the first read finds nothing."""

    def __init__(self, store):
        self._store = store
        self._reads = 0

    def read(self, url):
        self._reads += 1
        return None if self._reads == 1 else self._store.read(url)

    def __getattr__(self, name):
        return getattr(self._store, name)


def test_a_copy_written_between_the_read_and_the_lock_is_taken_not_fetched_again(shared):
    from jwt_guard_core.shared_jwks import new_owner, wait_for_copy

    url = "https://issuer.example/jwks.json"
    copy = SharedCopy(url, b'{"keys": []}', None, 300.0, 1000.0)
    shared.write(copy, keep=300)  # the leader wrote it and released the lock
    outcome, found = wait_for_copy(
        _ReadBeforeTheLeaderWrote(shared),
        url,
        newer_than=0.0,
        since=999.0,
        owner=new_owner(),
        lock_seconds=5.0,
        wait_seconds=5.0,
    )
    assert (outcome, found.fetched_at) == ("copy", 1000.0)
    # The lock taken to find out was given back.
    other = new_owner()
    assert shared.try_lock(url, other, seconds=5.0)
    shared.unlock(url, other)
