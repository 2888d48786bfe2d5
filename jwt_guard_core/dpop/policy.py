"""DPoP (RFC 9449): checking a proof of possession against the request and the token.

:class:`DPoPPolicy.check` takes what the adapter read from the request
(:class:`DPoPRequest`: method, URL parts, the authorization scheme, every
``DPoP`` header value) and the verified access token, and either returns a
:class:`DPoPResult` or raises. The checks run in the order of RFC 9449
section 4.3, then section 7.1's binding checks (``ath``, ``cnf.jkt``), and
last the one write: recording the proof's ``jti`` in the replay store. Only
that write does I/O, so :meth:`DPoPPolicy.acheck` differs from
:meth:`DPoPPolicy.check` in that line alone.

The proof's signature is checked with the key its own ``jwk`` header
carries (that is the point of DPoP), parsed by the same hygiene rules as
any verification key (:func:`~jwt_guard_core.keys.key_from_jwk`): RSA of
2048 bits or more, curves on the allowlist, no private members, never an
HMAC secret; the algorithm must be asymmetric, on the proof allowlist and
bound to that key, so ``none`` and HMAC can never verify a proof.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, NoReturn

from cryptography.hazmat.primitives.asymmetric import rsa

from .. import events
from ..algorithms import ASYMMETRIC_ALGORITHMS, verify_signature
from ..config import normalize_type
from ..encoding import DecodeError, b64url_decode, parse_json_object
from ..errors import ConfigurationError, StateUnavailable, StoreUnavailable, TokenError
from ..http import extract_token
from ..keys import KeyRejected, VerificationKey, key_from_jwk
from ..token import VerifiedToken
from .errors import DPoPBindingError, InvalidDPoPProof, UseDPoPNonce
from .htu import RequestURL, normalize_htu
from .nonce import DPoPNonceSource
from .replay import MemoryReplayStore, ReplayStore
from .thumbprint import access_token_hash, jwk_thumbprint

__all__ = [
    "DEFAULT_PROOF_ALGORITHMS",
    "DPOP_MODES",
    "DPoPPolicy",
    "DPoPRequest",
    "DPoPResult",
    "bound_thumbprint",
    "extract_dpop_token",
]

DPoPMode = Literal["off", "allowed", "required"]
DPOP_MODES = ("off", "allowed", "required")
# RFC 9449 section 4.3 point 5: registered asymmetric algorithms acceptable
# by local policy. ES512/PS384/... work when listed; HMAC and none never do.
# Ed25519 is RFC 9864's fully specified EdDSA, which oauth4webapi signs with.
DEFAULT_PROOF_ALGORITHMS = ("ES256", "ES384", "EdDSA", "Ed25519", "PS256", "RS256")
logger = logging.getLogger("jwt_guard.dpop")

_PROOF_TYPE = "dpop+jwt"
_PRIVATE_MEMBERS = ("d", "p", "q", "dp", "dq", "qi", "oth", "k")
_MAX_JTI_LENGTH = 256
# A proof key comes from the client, so its cost is bounded here: OpenSSL
# accepts a public exponent of any size below 3072-bit moduli, and every
# verification would pay for it.
_MAX_RSA_BITS = 8192
_MAX_RSA_EXPONENT = 2**32
_HEADER_CACHE_SIZE = 256
# Rejections that point at an attacker rather than a confused client.
_ATTACK_REASONS = frozenset(
    {
        "dpop_bad_signature",
        "dpop_replayed",
        "dpop_private_key",
        "dpop_alg_not_allowed",
        "dpop_jkt_mismatch",
        "dpop_ath_mismatch",
        "dpop_bound_token_as_bearer",
    }
)


@dataclass(frozen=True)
class DPoPRequest:
    """What a DPoP check needs from the HTTP request, as plain data.

    Args:
        method: the request method, as sent (``GET``).
        scheme: ``http`` or ``https`` as the application sees it.
        host: the ``Host`` header (with its port, if any).
        path: the request path, raw or percent-decoded; no query.
        authorization_scheme: how the access token came: ``"DPoP"``,
            ``"Bearer"``, ``"cookie"``, or ``None`` when there is none.
        proofs: every ``DPoP`` header value, in order (an adapter must not
            fold repeated headers away: more than one is refused).
        headers: other request headers, lower-case names; only the
            forwarded headers named by :class:`RequestURL` are read.
    """

    method: str
    scheme: str
    host: str
    path: str
    authorization_scheme: str | None
    proofs: tuple[str, ...] = ()
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class DPoPResult:
    """An accepted request.

    ``bound`` is ``True`` when the token was DPoP-bound and the proof checked
    (``jkt`` is then the key's thumbprint), ``False`` for a plain bearer
    token that the policy lets through. ``nonce``, when nonces are on, is
    the value for the ``DPoP-Nonce`` response header (RFC 9449 section 8.2:
    a server may hand out the next nonce with any response).
    """

    bound: bool
    jkt: str | None = None
    nonce: str | None = None


@dataclass(frozen=True)
class _ProofKey:
    alg: str
    key: VerificationKey
    jkt: str


@dataclass(frozen=True)
class _Accepted:
    result: DPoPResult
    replay_key: str | None = None
    expires_at: float = 0.0
    now: float = 0.0


def extract_dpop_token(authorization: str | None) -> str | None:
    """The token of an ``Authorization: DPoP <token>`` header, or ``None`` for other schemes.

    Malformed ``DPoP`` credentials raise
    :class:`~jwt_guard_core.errors.InvalidRequest`, like malformed
    ``Bearer`` ones (the same parser).
    """
    if authorization is None:
        return None
    found = extract_token(authorization=authorization, cookies={}, header_types=("DPoP",))
    return found.token if found is not None else None


def bound_thumbprint(claims: Mapping[str, Any]) -> str | None:
    """The ``cnf.jkt`` a token is bound to (RFC 9449 section 6.1), or ``None``.

    A ``cnf.jkt`` that is present but not a non-empty string refuses the
    token (``dpop_bad_cnf``): it claims a binding nobody can satisfy.
    """
    cnf = claims.get("cnf")
    if not isinstance(cnf, Mapping) or "jkt" not in cnf:
        return None
    jkt = cnf["jkt"]
    if not isinstance(jkt, str) or not jkt:
        raise DPoPBindingError("cnf.jkt is not a non-empty string", reason="dpop_bad_cnf")
    return jkt


def _same(a: str, b: str) -> bool:
    """Constant-time equality of two strings of any characters."""
    return hmac.compare_digest(
        a.encode("utf-8", "surrogatepass"), b.encode("utf-8", "surrogatepass")
    )


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def _seconds(setting: str, value: Any) -> float:
    number = _number(value)
    if number is None or number < 0:
        raise ConfigurationError(setting, f"{value!r} is not a number of seconds >= 0")
    return number


@dataclass(frozen=True, kw_only=True, eq=False)
class DPoPPolicy:
    """How a resource server treats DPoP.

    Args:
        mode: ``"off"`` (no ``DPoP`` scheme; a DPoP-bound token is still
            refused as a bearer token), ``"allowed"`` (bearer and DPoP-bound
            tokens both accepted, each only in its own scheme) or
            ``"required"`` (only DPoP-bound tokens with a valid proof).
        algorithms: the proof algorithms accepted, asymmetric only.
        iat_window: how old a proof may be, in seconds (``iat`` age).
        leeway: clock skew allowed each way on ``iat``, in seconds.
        replay_store: where used ``jti`` values are remembered; one
            process's memory by default, which a proof replayed to another
            worker slips past: use SQLite or Redis with several workers.
        nonces: a :class:`~jwt_guard_core.dpop.NonceProvider` (or any
            :class:`~jwt_guard_core.dpop.DPoPNonceSource`) to require server
            nonces; ``None``: no nonces.
        request_url: which forwarded headers reconstruct the URL the client
            called (see :class:`~jwt_guard_core.dpop.RequestURL`).
        max_proof_bytes: a longer ``DPoP`` header is refused unparsed.
        clock: the time source, injected by tests.
    """

    mode: DPoPMode = "allowed"
    algorithms: Sequence[str] = DEFAULT_PROOF_ALGORITHMS
    iat_window: float = 60.0
    leeway: float = 5.0
    replay_store: ReplayStore = field(default_factory=MemoryReplayStore)
    nonces: DPoPNonceSource | None = None
    request_url: RequestURL = field(default_factory=RequestURL)
    max_proof_bytes: int = 8192
    clock: Callable[[], float] = time.time
    _keys: dict[str, _ProofKey] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        if self.mode not in DPOP_MODES:
            raise ConfigurationError("dpop", f"{self.mode!r} is not one of {', '.join(DPOP_MODES)}")
        if isinstance(self.algorithms, str):
            raise ConfigurationError(
                "dpop_algorithms", f"give a list such as [{self.algorithms!r}], not a string"
            )
        algorithms = tuple(self.algorithms)
        if not algorithms:
            raise ConfigurationError("dpop_algorithms", "the list is empty")
        for alg in algorithms:
            if alg not in ASYMMETRIC_ALGORITHMS:
                raise ConfigurationError(
                    "dpop_algorithms",
                    f"{alg!r} is not an asymmetric signature algorithm; use some of "
                    f"{', '.join(sorted(ASYMMETRIC_ALGORITHMS))}",
                )
        object.__setattr__(self, "algorithms", algorithms)
        object.__setattr__(self, "iat_window", _seconds("dpop_iat_window", self.iat_window))
        object.__setattr__(self, "leeway", _seconds("dpop_leeway", self.leeway))
        if not isinstance(self.replay_store, ReplayStore):
            raise ConfigurationError("dpop_replay_store", "give a ReplayStore (first_use method)")
        if self.nonces is not None and not isinstance(self.nonces, DPoPNonceSource):
            raise ConfigurationError("dpop_nonces", "give a NonceProvider or None")
        size = self.max_proof_bytes
        if isinstance(size, bool) or not isinstance(size, int) or size < 256:
            raise ConfigurationError("dpop_max_proof_bytes", f"{size!r} is not an integer >= 256")

    # -- public API

    def check(
        self, request: DPoPRequest, token: VerifiedToken | Mapping[str, Any], access_token: str
    ) -> DPoPResult:
        """Decide on ``request`` carrying ``access_token`` (already verified as ``token``).

        Returns a :class:`DPoPResult`, or raises
        :class:`~jwt_guard_core.dpop.InvalidDPoPProof`,
        :class:`~jwt_guard_core.dpop.UseDPoPNonce`,
        :class:`~jwt_guard_core.dpop.DPoPBindingError`, or
        :class:`~jwt_guard_core.errors.StateUnavailable` (503) when the replay
        store cannot answer: without it a replay cannot be ruled out.
        """
        accepted = self._decide(request, token, access_token)
        if accepted.replay_key is not None:
            self._record(self._first_use(accepted))
        return accepted.result

    async def acheck(
        self, request: DPoPRequest, token: VerifiedToken | Mapping[str, Any], access_token: str
    ) -> DPoPResult:
        """Like :meth:`check`; a replay store that does I/O runs in a worker thread."""
        accepted = self._decide(request, token, access_token)
        if accepted.replay_key is not None:
            if self.replay_store.in_process:
                self._record(self._first_use(accepted))
            else:
                self._record(await asyncio.to_thread(self._first_use, accepted))
        return accepted.result

    # -- the one write

    def _first_use(self, accepted: _Accepted) -> bool | StoreUnavailable:
        assert accepted.replay_key is not None
        try:
            return self.replay_store.first_use(
                accepted.replay_key, expires_at=accepted.expires_at, now=accepted.now
            )
        except StoreUnavailable as exc:
            return exc
        except Exception as exc:
            # A custom store's bug must not become a 500 nor an accepted replay.
            logger.error("the DPoP replay store failed unexpectedly", exc_info=exc)
            return StoreUnavailable(f"the DPoP replay store failed ({type(exc).__name__})")

    def _record(self, outcome: bool | StoreUnavailable) -> None:
        if isinstance(outcome, StoreUnavailable):
            # Fail closed: without the store a replay cannot be ruled out.
            self._reject(
                StateUnavailable(
                    "the DPoP replay store is unavailable", reason="dpop_replay_unavailable"
                )
            )
        if not outcome:
            self._reject(
                InvalidDPoPProof("the proof's jti was used before", reason="dpop_replayed")
            )

    # -- decisions

    def _decide(
        self, request: DPoPRequest, token: VerifiedToken | Mapping[str, Any], access_token: str
    ) -> _Accepted:
        claims = token.claims if isinstance(token, VerifiedToken) else token
        try:
            jkt = bound_thumbprint(claims)
        except DPoPBindingError as exc:
            self._reject(exc)
        scheme = (request.authorization_scheme or "").lower()
        if scheme != "dpop":
            return _Accepted(self._not_dpop(request, jkt))
        if self.mode == "off":
            self._reject(DPoPBindingError("DPoP is not enabled", reason="dpop_not_enabled"))
        if jkt is None:
            self._reject(
                DPoPBindingError(
                    "a token without cnf.jkt was sent with the DPoP scheme",
                    reason="dpop_token_not_bound",
                )
            )
        return self._check_proof(request, jkt, access_token)

    def _not_dpop(self, request: DPoPRequest, jkt: str | None) -> DPoPResult:
        # RFC 9449 section 7.2: a DPoP-bound token presented as a bearer token
        # is refused whatever the mode, or DPoP would be a downgrade away.
        if jkt is not None:
            self._reject(
                DPoPBindingError(
                    "a DPoP-bound token was presented as a bearer token",
                    reason="dpop_bound_token_as_bearer",
                )
            )
        if self.mode == "off":
            return DPoPResult(bound=False)
        if request.proofs:
            self._reject(
                DPoPBindingError(
                    "a DPoP proof came with a bearer token", reason="dpop_proof_with_bearer"
                )
            )
        if self.mode == "required":
            self._reject(DPoPBindingError("DPoP-bound tokens are required", reason="dpop_required"))
        return DPoPResult(bound=False)

    def _check_proof(self, request: DPoPRequest, jkt: str, access_token: str) -> _Accepted:
        # 1. exactly one DPoP header (WSGI joins repeated headers with ","
        # and a compact JWS never contains one).
        if not request.proofs:
            self._reject(InvalidDPoPProof("no DPoP header", reason="dpop_proof_missing"))
        if len(request.proofs) > 1 or "," in request.proofs[0]:
            self._reject(
                InvalidDPoPProof("more than one DPoP header", reason="dpop_multiple_proofs")
            )
        proof = request.proofs[0].strip(" \t")
        # 2. a single, well-formed JWT.
        header_seg, header, claims, signing_input, signature = self._parse(proof)
        # 3. the claims of RFC 9449 section 4.2, with their types.
        jti, htm, htu, iat, ath = self._claims(claims)
        # 4. to 7. typ, alg, the public jwk, the signature.
        proof_key = self._proof_key(header_seg, header)
        if not verify_signature(proof_key.alg, proof_key.key.key, signing_input, signature):
            self._reject(
                InvalidDPoPProof("the signature does not verify", reason="dpop_bad_signature")
            )
        # 8. htm: the method, exactly (methods are case-sensitive).
        if htm != request.method:
            self._reject(
                InvalidDPoPProof("htm is not the request method", reason="dpop_htm_mismatch")
            )
        # 9. htu: the URL without query and fragment, normalized.
        expected = self.request_url.build(
            scheme=request.scheme, host=request.host, path=request.path, headers=request.headers
        )
        given = normalize_htu(htu)
        if expected is None or given is None or not _same(given, expected):
            self._reject(InvalidDPoPProof("htu is not the request URL", reason="dpop_htu_mismatch"))
        # 10. the server nonce, when nonces are on.
        fresh_nonce = self._check_nonce(claims)
        # 11. iat within the window.
        now = float(self.clock())
        if iat > now + self.leeway or now - iat > self.iat_window + self.leeway:
            self._reject(
                InvalidDPoPProof(
                    "iat is outside the accepted window", reason="dpop_iat_out_of_window"
                )
            )
        # 12. the binding: ath is this token's hash, the key is the bound key.
        if not _same(ath, access_token_hash(access_token)):
            self._reject(
                InvalidDPoPProof("ath is not the token's hash", reason="dpop_ath_mismatch")
            )
        if not _same(proof_key.jkt, jkt):
            self._reject(
                InvalidDPoPProof(
                    "the proof key is not the token's cnf.jkt", reason="dpop_jkt_mismatch"
                )
            )
        # Section 11.1: remembered until iat leaves the window, then useless anyway.
        # surrogatepass: JSON's "\ud800" escape makes a lone surrogate, a valid jti.
        replay_key = hashlib.sha256(
            f"{proof_key.jkt}\x00{jti}".encode("utf-8", "surrogatepass")
        ).hexdigest()
        expires_at = max(iat + self.iat_window + self.leeway, now) + 1.0
        return _Accepted(
            DPoPResult(bound=True, jkt=proof_key.jkt, nonce=fresh_nonce),
            replay_key,
            expires_at,
            now,
        )

    def _parse(self, proof: str) -> tuple[str, dict[str, Any], dict[str, Any], bytes, bytes]:
        if len(proof) > self.max_proof_bytes or not proof.isascii():
            self._reject(
                InvalidDPoPProof(
                    "the proof is too large or not ASCII", reason="dpop_proof_malformed"
                )
            )
        parts = proof.split(".")
        if len(parts) != 3 or not parts[2]:
            self._reject(
                InvalidDPoPProof("the proof is not a compact JWS", reason="dpop_proof_malformed")
            )
        try:
            header = parse_json_object(b64url_decode(parts[0]))
            claims = parse_json_object(b64url_decode(parts[1]))
            signature = b64url_decode(parts[2])
        except DecodeError as exc:
            self._reject(
                InvalidDPoPProof(f"the proof is malformed: {exc}", reason="dpop_proof_malformed")
            )
        return parts[0], header, claims, f"{parts[0]}.{parts[1]}".encode("ascii"), signature

    def _claims(self, claims: Mapping[str, Any]) -> tuple[str, str, str, float, str]:
        for name in ("jti", "htm", "htu", "iat", "ath"):
            if name not in claims:
                self._reject(
                    InvalidDPoPProof(f"the proof has no {name}", reason="dpop_missing_claim")
                )
        jti, htm, htu, ath = claims["jti"], claims["htm"], claims["htu"], claims["ath"]
        iat = _number(claims["iat"])
        if not (
            isinstance(jti, str)
            and 0 < len(jti) <= _MAX_JTI_LENGTH
            and isinstance(htm, str)
            and isinstance(htu, str)
            and isinstance(ath, str)
            and iat is not None
        ):
            self._reject(
                InvalidDPoPProof("a proof claim has the wrong type", reason="dpop_proof_malformed")
            )
        return jti, htm, htu, iat, ath

    def _proof_key(self, segment: str, header: Mapping[str, Any]) -> _ProofKey:
        # The header segment is the same on every proof of a client key:
        # parse and check the key once, not per request.
        cached = self._keys.get(segment)
        if cached is not None:
            return cached
        typ = header.get("typ")
        if not isinstance(typ, str) or normalize_type(typ) != _PROOF_TYPE:
            self._reject(InvalidDPoPProof("typ is not dpop+jwt", reason="dpop_bad_type"))
        alg = header.get("alg")
        if not isinstance(alg, str) or alg not in self.algorithms:
            self._reject(
                InvalidDPoPProof("alg is not allowed for proofs", reason="dpop_alg_not_allowed")
            )
        if "crit" in header:
            self._reject(
                InvalidDPoPProof("crit names unknown extensions", reason="dpop_unknown_crit")
            )
        jwk = header.get("jwk")
        if not isinstance(jwk, Mapping):
            self._reject(InvalidDPoPProof("the jwk header is missing", reason="dpop_bad_jwk"))
        if any(name in jwk for name in _PRIVATE_MEMBERS):
            self._reject(
                InvalidDPoPProof("the jwk holds private key members", reason="dpop_private_key")
            )
        try:
            key = key_from_jwk(jwk, allow_hmac=False)
            jkt = jwk_thumbprint(jwk)
        except (KeyRejected, ValueError) as exc:
            self._reject(
                InvalidDPoPProof(f"the jwk is not acceptable: {exc}", reason="dpop_bad_jwk")
            )
        if alg not in key.algorithms:
            self._reject(InvalidDPoPProof("alg does not fit the jwk", reason="dpop_bad_jwk"))
        if isinstance(key.key, rsa.RSAPublicKey) and (
            key.key.key_size > _MAX_RSA_BITS or key.key.public_numbers().e > _MAX_RSA_EXPONENT
        ):
            self._reject(
                InvalidDPoPProof("the RSA jwk is larger than proofs need", reason="dpop_bad_jwk")
            )
        found = _ProofKey(alg, key, jkt)
        if len(self._keys) >= _HEADER_CACHE_SIZE:
            self._keys.clear()
        self._keys[segment] = found
        return found

    def _check_nonce(self, claims: Mapping[str, Any]) -> str | None:
        if self.nonces is None:
            return None
        current = self.nonces.current()
        nonce = claims.get("nonce")
        if nonce is None:
            self._reject(UseDPoPNonce(current, reason="dpop_nonce_missing"))
        if not isinstance(nonce, str) or not self.nonces.is_valid(nonce):
            self._reject(
                UseDPoPNonce(current, "the nonce is stale or unknown", reason="dpop_nonce_invalid")
            )
        return current

    # -- reporting

    @staticmethod
    def _reject(error: TokenError) -> NoReturn:
        events.emit(
            "dpop_rejected",
            level=logging.WARNING if error.reason in _ATTACK_REASONS else logging.INFO,
            reason=error.reason,
            message=f"DPoP request rejected: {error.detail}",
            status=error.status,
        )
        raise error
