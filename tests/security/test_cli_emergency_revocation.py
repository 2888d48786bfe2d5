"""``jwt-guard rotate --emergency`` with the application's revocation store (finding 1).

The command line has no sessions of its own. ``--revocation-sqlite PATH`` /
``--revocation-redis URL`` point it at the application's session store, so
the removed kids are denied where the application's verifiers look: a token
forged with the leaked key, with ``iat`` after the emergency, is refused at
once even by a verifier still holding the old public key. Without them the
command says plainly that only the JWKS changed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from jwt_guard_core import GuardConfig, StaticKeySet, TokenRevoked, Verifier
from jwt_guard_core.sessions import RevocationService, SQLiteSessionStore
from jwt_guard_core.signing import FileKeyStore, KeyManager
from tests import leaks
from tests.core.cli_support import PASSPHRASE, Run
from tests.factories import FakeClock
from tests.redis_server import RedisServer, redis_client, redis_server

pytest_plugins = ["tests.core.cli_fixtures"]
__all__ = ["redis_client", "redis_server"]

ISSUER = "https://auth.example"
AUDIENCE = "https://api.example"


def forge(key: Any, kid: str, iat: int) -> str:
    return leaks.forge(key, kid, iss=ISSUER, aud=AUDIENCE, iat=iat)


def leak(store_dir: Path, clock: FakeClock) -> tuple[Any, str, dict[str, Any]]:
    """The application's first key: its private part (leaked), kid and the JWKS verifiers cache."""
    app = KeyManager(FileKeyStore(store_dir, passphrase=PASSPHRASE), clock=clock)
    app.active_key()
    ring = FileKeyStore(store_dir, passphrase=PASSPHRASE).load()
    assert ring.active is not None
    return ring.active.material.reveal(), ring.active.kid, app.jwks()


def verifier(jwks: dict[str, Any], revocation: RevocationService, clock: FakeClock) -> Verifier:
    return Verifier(
        GuardConfig(
            algorithms=["ES256"],
            keys=StaticKeySet.from_jwks(jwks),
            issuer=ISSUER,
            audience=AUDIENCE,
            revocation=revocation,
            clock=clock,
        )
    )


def test_revocation_sqlite_makes_a_forged_token_refused_at_once(
    run: Run, store_dir: Path, clock: FakeClock, tmp_path: Path
) -> None:
    leaked, kid, cached = leak(store_dir, clock)
    sessions = SQLiteSessionStore(tmp_path / "sessions.db")  # the application's store
    api = verifier(cached, RevocationService(sessions, clock=clock), clock)
    assert api.verify(forge(leaked, kid, int(clock()))).subject == "admin"
    clock.advance(30)
    code, out, err = run(
        "rotate",
        "--store",
        str(store_dir),
        "--emergency",
        "--revocation-sqlite",
        str(tmp_path / "sessions.db"),
    )
    assert (code, err) == (0, "")
    with pytest.raises(TokenRevoked) as caught:
        api.verify(forge(leaked, kid, int(clock())))
    assert caught.value.reason == "revoked"
    assert f"removed keys ({kid}) are denied in the revocation store" in out
    sessions.close()


def test_revocation_redis_makes_a_forged_token_refused_at_once(
    run: Run, store_dir: Path, clock: FakeClock, redis_server: RedisServer, redis_client: Any
) -> None:
    from jwt_guard_core.sessions.redis import RedisSessionStore

    leaked, kid, cached = leak(store_dir, clock)
    store = RedisSessionStore(redis_client, prefix="myapp:sessions")
    api = verifier(cached, RevocationService(store, clock=clock), clock)
    clock.advance(30)
    code, out, _ = run(
        "rotate",
        "--store",
        str(store_dir),
        "--emergency",
        "--revocation-redis",
        redis_server.url,
        "--revocation-prefix",
        "myapp:sessions",
    )
    assert code == 0
    with pytest.raises(TokenRevoked) as caught:
        api.verify(forge(leaked, kid, int(clock())))
    assert caught.value.reason == "revoked"
    assert "are denied in the revocation store" in out


def test_without_a_revocation_store_the_message_does_not_overstate(
    run: Run, store_dir: Path, clock: FakeClock
) -> None:
    _, kid, _ = leak(store_dir, clock)
    code, out, _ = run("rotate", "--store", str(store_dir), "--emergency")
    assert code == 0
    assert "is invalid" not in out
    assert f"removed keys ({kid}) left the JWKS" in out
    assert "No revocation store was written" in out


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--revocation-sqlite", "missing.db", "--emergency"], "is not the application's file"),
        (["--revocation-sqlite", "{db}"], "only used with --emergency"),
        (
            ["--emergency", "--revocation-sqlite", "{db}", "--revocation-redis", "redis://x"],
            "not both",
        ),
    ],
)
def test_bad_revocation_options_are_usage_errors(
    run: Run, store_dir: Path, clock: FakeClock, tmp_path: Path, extra: list[str], message: str
) -> None:
    leak(store_dir, clock)
    SQLiteSessionStore(tmp_path / "sessions.db").close()
    argv = [a.replace("{db}", str(tmp_path / "sessions.db")) for a in extra]
    argv = [str(tmp_path / a) if a == "missing.db" else a for a in argv]
    code, out, err = run("rotate", "--store", str(store_dir), *argv)
    assert code == 2
    assert out == ""
    assert message in err
    assert len(FileKeyStore(store_dir, passphrase=PASSPHRASE).load().keys) == 1
