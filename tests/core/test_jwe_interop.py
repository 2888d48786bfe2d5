"""Interop: panva's jose (npm) and jwt-guard exchange nested JWE both ways.

jose signs an ES256 access token and encrypts it to jwt-guard's published
encryption key (RSA, EC P-256, and X25519 for the ECDH-ES family) for every
supported ``alg``/``enc`` pair, and jwt-guard's
verifier decrypts and verifies it; jwt-guard's ``TokenIssuer`` wraps its
tokens for a configured audience, and jose decrypts them (with only that
``alg``/``enc`` allowed) and verifies the inner JWS against the issuer's
JWKS. The package is installed by this test into ``tests/interop/jose/node_modules``
(pinned version, npm registry; the oauth4webapi DPoP test's pattern, in a
folder of its own so that neither install prunes the other's package);
without ``node`` and ``npm`` the test is skipped, a failed install fails it.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from jwt_guard_core import GuardConfig, StaticKeySet, Verifier
from jwt_guard_core.encoding import b64url_decode
from jwt_guard_core.jwe import DecryptionKey, DecryptionKeySet, JWEPolicy, RecipientKey
from jwt_guard_core.jwe._primitives import CONTENT_ENCRYPTION, KEY_MANAGEMENT
from jwt_guard_core.signing import FileKeyStore, KeyManager, TokenIssuer
from tests.factories import AUDIENCE, ISSUER, NOW, FakeClock, claims, public_pem
from tests.tools import missing

JOSE_VERSION = "6.2.18"
INTEROP = Path(__file__).resolve().parent.parent / "interop" / "jose"
PAIRS = [(alg, enc) for alg in KEY_MANAGEMENT for enc in CONTENT_ENCRYPTION]


@pytest.fixture(scope="module")
def run_jose() -> Callable[[list[dict[str, Any]]], list[dict[str, Any]]]:
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        missing("node and npm are needed for the jose interop test")
    installed = INTEROP / "node_modules" / "jose" / "package.json"
    if not installed.exists() or json.loads(installed.read_text())["version"] != JOSE_VERSION:
        subprocess.run(
            [npm, "install", "--no-audit", "--no-fund", "--no-save", "--no-package-lock",
             "--prefix", str(INTEROP), f"jose@{JOSE_VERSION}"],
            check=True, capture_output=True, timeout=300,
        )  # fmt: skip

    def _run(jobs: list[dict[str, Any]]) -> list[dict[str, Any]]:
        done = subprocess.run(
            [node, str(INTEROP / "jose_jwe.mjs")],
            input=json.dumps(jobs), capture_output=True, text=True, check=True, timeout=120,
        )  # fmt: skip
        results: list[dict[str, Any]] = json.loads(done.stdout)
        return results

    return _run


def _pkcs8(key: Any) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


@pytest.fixture(scope="module")
def recipient_keys() -> dict[str, Any]:
    return {
        "EC": ec.generate_private_key(ec.SECP256R1()),
        "RSA": rsa.generate_private_key(65537, 2048),
    }


def test_nested_jwe_made_by_jose_is_accepted(
    run_jose: Callable[..., list[dict[str, Any]]],
    recipient_keys: dict[str, Any],
    keyring: Any,
    clock: FakeClock,
) -> None:
    keys = DecryptionKeySet(
        [DecryptionKey.from_key(recipient_keys[kty], kid=f"enc-{kty}") for kty in ("EC", "RSA")]
    )
    jobs = [
        {
            "op": "issue",
            "claims": claims(),
            "signPkcs8": _pkcs8(keyring.p256),
            "signKid": "sig-1",
            "recipientSpki": public_pem(recipient_keys[KEY_MANAGEMENT[alg].kty]).decode(),
            "recipientKid": f"enc-{KEY_MANAGEMENT[alg].kty}",
            "alg": alg,
            "enc": enc,
        }
        for alg, enc in PAIRS
    ]
    results = run_jose(jobs)
    verifier = Verifier(
        GuardConfig(
            algorithms=["ES256"],
            keys=StaticKeySet.from_pem(public_pem(keyring.p256), kid="sig-1"),
            issuer=ISSUER,
            audience=AUDIENCE,
            expected_type="at+jwt",
            clock=clock,
            jwe=JWEPolicy(
                keys=keys, algorithms=list(KEY_MANAGEMENT), encryption=list(CONTENT_ENCRYPTION)
            ),
        )
    )
    for (alg, enc), result in zip(PAIRS, results, strict=True):
        token = result["token"]
        assert token.count(".") == 4, (alg, enc)
        assert verifier.verify(token).subject == "user-1", (alg, enc)


@pytest.fixture
def manager(tmp_path: Path) -> KeyManager:
    """An ES256 key store and manager at the fixed NOW that jose is told to use."""
    store = FileKeyStore(tmp_path / "keys", passphrase="correct horse battery staple 42")
    return KeyManager(store, clock=lambda: NOW)


def test_jose_decrypts_and_verifies_what_jwt_guard_issues(
    run_jose: Callable[..., list[dict[str, Any]]],
    recipient_keys: dict[str, Any],
    manager: KeyManager,
) -> None:
    jobs = []
    for alg, enc in PAIRS:
        kty = KEY_MANAGEMENT[alg].kty
        public = DecryptionKey.from_key(recipient_keys[kty], kid=f"enc-{kty}").public_jwk
        issuer = TokenIssuer(
            manager,
            issuer=ISSUER,
            audience=AUDIENCE,
            encrypt_for={AUDIENCE: RecipientKey.from_jwk(public, alg=alg, enc=enc)},
        )
        jobs.append(
            {
                "op": "consume",
                "token": issuer.issue_access_token("user-7", scopes=["orders:read"]),
                "decryptPkcs8": _pkcs8(recipient_keys[kty]),
                "alg": alg,
                "enc": enc,
                "issuerJwks": manager.jwks(),
                "issuer": ISSUER,
                "audience": AUDIENCE,
                "now": NOW,
            }
        )
    for (alg, enc), result in zip(PAIRS, run_jose(jobs), strict=True):
        assert "error" not in result, (alg, enc, result)
        assert result["cty"] == "JWT"
        assert result["claims"]["sub"] == "user-7"
        assert result["claims"]["scope"] == "orders:read"


def test_jose_refuses_a_jwt_guard_token_under_another_enc(
    run_jose: Callable[..., list[dict[str, Any]]],
    recipient_keys: dict[str, Any],
    manager: KeyManager,
) -> None:
    """The consuming script enforces its allowlist: the test above cannot pass vacuously."""
    public = DecryptionKey.from_key(recipient_keys["EC"], kid="enc-EC").public_jwk
    issuer = TokenIssuer(
        manager,
        issuer=ISSUER,
        audience=AUDIENCE,
        encrypt_for={AUDIENCE: RecipientKey.from_jwk(public, alg="ECDH-ES", enc="A256GCM")},
    )
    job = {
        "op": "consume",
        "token": issuer.issue_access_token("user-7"),
        "decryptPkcs8": _pkcs8(recipient_keys["EC"]),
        "alg": "ECDH-ES",
        "enc": "A128GCM",
        "issuerJwks": manager.jwks(),
        "issuer": ISSUER,
        "audience": AUDIENCE,
        "now": NOW,
    }
    (result,) = run_jose([job])
    assert "ERR_JOSE_ALG_NOT_ALLOWED" in result["error"]


# -- X25519 (RFC 8037): OKP keys both ways

X25519_PAIRS = [
    (alg, enc) for alg in KEY_MANAGEMENT if alg.startswith("ECDH-ES") for enc in CONTENT_ENCRYPTION
]


@pytest.fixture(scope="module")
def x25519_key() -> Any:
    from cryptography.hazmat.primitives.asymmetric import x25519

    return x25519.X25519PrivateKey.generate()


def test_nested_jwe_made_by_jose_for_an_x25519_key_is_accepted(
    run_jose: Callable[..., list[dict[str, Any]]], x25519_key: Any, keyring: Any, clock: FakeClock
) -> None:
    keys = DecryptionKeySet([DecryptionKey.from_key(x25519_key, kid="enc-OKP")])
    spki = x25519_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    jobs = [
        {
            "op": "issue",
            "claims": claims(),
            "signPkcs8": _pkcs8(keyring.p256),
            "signKid": "sig-1",
            "recipientSpki": spki.decode(),
            "recipientKid": "enc-OKP",
            "alg": alg,
            "enc": enc,
        }
        for alg, enc in X25519_PAIRS
    ]
    verifier = Verifier(
        GuardConfig(
            algorithms=["ES256"],
            keys=StaticKeySet.from_pem(public_pem(keyring.p256), kid="sig-1"),
            issuer=ISSUER,
            audience=AUDIENCE,
            expected_type="at+jwt",
            clock=clock,
            jwe=JWEPolicy(
                keys=keys,
                algorithms=[a for a in KEY_MANAGEMENT if a.startswith("ECDH-ES")],
                encryption=list(CONTENT_ENCRYPTION),
            ),
        )
    )
    for (alg, enc), result in zip(X25519_PAIRS, run_jose(jobs), strict=True):
        token = result["token"]
        header = json.loads(b64url_decode(token.split(".")[0]))
        assert header["epk"]["crv"] == "X25519", (alg, enc)
        assert verifier.verify(token).subject == "user-1", (alg, enc)


def test_jose_decrypts_what_jwt_guard_encrypts_to_an_x25519_key(
    run_jose: Callable[..., list[dict[str, Any]]], x25519_key: Any, manager: KeyManager
) -> None:
    public = DecryptionKey.from_key(x25519_key, kid="enc-OKP").public_jwk
    jobs = []
    for alg, enc in X25519_PAIRS:
        issuer = TokenIssuer(
            manager,
            issuer=ISSUER,
            audience=AUDIENCE,
            encrypt_for={AUDIENCE: RecipientKey.from_jwk(public, alg=alg, enc=enc)},
        )
        jobs.append(
            {
                "op": "consume",
                "token": issuer.issue_access_token("user-7"),
                "decryptPkcs8": _pkcs8(x25519_key),
                "alg": alg,
                "enc": enc,
                "issuerJwks": manager.jwks(),
                "issuer": ISSUER,
                "audience": AUDIENCE,
                "now": NOW,
            }
        )
    for (alg, enc), result in zip(X25519_PAIRS, run_jose(jobs), strict=True):
        assert "error" not in result, (alg, enc, result)
        assert result["claims"]["sub"] == "user-7"
