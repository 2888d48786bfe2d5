"""The ``Signer`` interface: what signs a token, without handing over the private key.

The key manager and the token issuer only ever ask a signing key for four
things: its ``kid``, its ``algorithm``, its public JWK and a signature over
the JWS signing input. Keys kept by the file and Redis stores are wrapped in
a :class:`LocalSigner`; keys that never leave a hardware security module are
:class:`~jwt_guard_core.signing.pkcs11_store.Pkcs11Signer`; a cloud KMS
(AWS KMS, Google Cloud KMS, Azure Key Vault, Vault Transit) plugs in the
same way (see docs/hsm.md for the contract).

:func:`encode_jws` builds the compact JWS (RFC 7515 section 7.1) around a
signer, so the bytes a token carries do not depend on where its key lives.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Protocol, runtime_checkable

import jwt
from jwt.algorithms import Algorithm

from ..algorithms import ML_DSA
from ..encoding import b64url_encode
from ._crypto import KeyMaterial, public_jwk, sign_mldsa

__all__ = ["LocalSigner", "Signer", "encode_jws"]


@runtime_checkable
class Signer(Protocol):
    """One signing key, wherever it is kept.

    * ``kid`` and ``algorithm`` (a JWS ``alg``: ``ES256``, ``RS256``,
      ``PS256``, ``EdDSA`` ...) never change for a given signer.
    * ``public_jwk()`` returns the public JWK with ``kid``, ``alg`` and
      ``use: sig``, or ``None`` for an HMAC secret (never published).
      It is called once per key ring revision, not per token.
    * ``sign(signing_input)`` returns the JWS signature bytes over
      ``BASE64URL(header) || '.' || BASE64URL(payload)``: for ECDSA the raw
      ``r || s`` of RFC 7518 section 3.4 (not DER), for RSASSA-PSS a salt
      as long as the hash. It may block (a token, a network round trip)
      and is called from several threads at once; it raises
      :class:`~jwt_guard_core.signing.KeyStoreError` when the key cannot
      be used right now, and never returns a partial signature.
    """

    @property
    def kid(self) -> str: ...

    @property
    def algorithm(self) -> str: ...

    def public_jwk(self) -> dict[str, Any] | None: ...

    def sign(self, signing_input: bytes) -> bytes: ...


class LocalSigner:
    """A :class:`Signer` over a key held in this process (file and Redis stores)."""

    __slots__ = ("_algorithm", "_jws", "_kid", "_material")

    def __init__(self, kid: str, material: KeyMaterial) -> None:
        self._kid = kid
        self._algorithm = material.algorithm
        self._material = material
        # PyJWT's own signing primitives: DER ECDSA signatures become raw
        # r || s, PSS gets a hash-length salt. The key is handed over as is:
        # it was checked when generated or loaded, and PyJWT's prepare_key
        # would try to parse an HMAC secret as a certificate on every load.
        # ML-DSA (RFC 9964) is signed by cryptography directly: PyJWT has none.
        self._jws: Algorithm | None = (
            None if material.algorithm in ML_DSA else jwt.get_algorithm_by_name(material.algorithm)
        )

    @property
    def kid(self) -> str:
        return self._kid

    @property
    def algorithm(self) -> str:
        return self._algorithm

    def public_jwk(self) -> dict[str, Any] | None:
        return public_jwk(self._material, self._kid)

    def sign(self, signing_input: bytes) -> bytes:
        if self._jws is None:
            return sign_mldsa(self._material, signing_input)
        return self._jws.sign(signing_input, self._material.reveal())

    def __repr__(self) -> str:
        return f"<LocalSigner {self._algorithm} kid={self._kid}>"


def encode_jws(header: Mapping[str, Any], payload: Mapping[str, Any], signer: Signer) -> str:
    """The compact JWS of ``payload`` signed by ``signer``; ``alg`` and ``kid`` come from it.

    The header is serialized with sorted members and the payload as given,
    both without whitespace (what PyJWT writes), so a token is byte-for-byte
    the same whichever signer produced the signature.
    """
    protected = {**header, "alg": signer.algorithm, "kid": signer.kid}
    head = b64url_encode(json.dumps(protected, separators=(",", ":"), sort_keys=True).encode())
    body = b64url_encode(json.dumps(payload, separators=(",", ":")).encode())
    signing_input = f"{head}.{body}".encode("ascii")
    return f"{head}.{body}.{b64url_encode(signer.sign(signing_input))}"
