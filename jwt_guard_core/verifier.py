"""The verification pipeline (see DESIGN.md, "The verification pipeline").

Cheapest checks first, so garbage costs nothing and never reaches a key
source: size and shape, header, payload and issuer, expiry, then the key
lookup (which may go to the network), the signature, the remaining claims
and revocation. ``verify`` and ``averify`` share every step except the two
that may do I/O (key lookup and revocation).

A token accepted before is answered from the verifier's cache
(:mod:`._token_cache`): its time claims are checked again, its key source
must still hold the key that verified it, and revocation runs as for any
token; only parsing and the signature are skipped.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from . import events
from ._token_cache import CachedToken, TokenCache
from .algorithms import HMAC_ALGORITHMS, verify_signature
from .claims_policy import ClaimsPolicy
from .config import GuardConfig, RevocationCheck, _Policy, normalize_type
from .encoding import DecodeError, b64url_decode, parse_read_only_object
from .errors import (
    AlgorithmNotAllowed,
    BadAudience,
    BadIssuer,
    BadSignature,
    BadType,
    ConfigurationError,
    EmbeddedKey,
    InvalidClaim,
    IssuedInFuture,
    MalformedToken,
    MissingClaim,
    NotYetValid,
    TokenError,
    TokenExpired,
    TokenRevoked,
    TokenTooLarge,
    TokenTooOld,
    UnknownCrit,
)
from .introspection.routing import route
from .issuer_templates import match_template
from .keys import VerificationKey
from .token import ReadOnlyDict, VerifiedToken

__all__ = ["Verifier"]

logger = logging.getLogger("jwt_guard.verifier")

# Header parameters that carry or point to a key. RFC 8725 section 3.10: a
# verifier must never let the token choose its own key, and one that sends
# them is either misconfigured or attacking.
_KEY_HEADERS = ("jwk", "jku", "x5u", "x5c")
# Rejections that point at an attacker rather than a stale client.
# Logged at WARNING: what a forger or a prober produces, not a stale client.
# A JWE that does not decrypt was tampered with or made for another key (a
# padding-oracle or invalid-curve probe looks exactly like this).
_ATTACK_REASONS = frozenset(
    {
        "alg_not_allowed",
        "embedded_key",
        "bad_signature",
        "unknown_crit",
        "malformed",
        "decryption_failed",
    }
)
_MAX_KID_LENGTH = 256
# Unix time bounds for NumericDate claims: 0 to the end of year 9999.
_MAX_NUMERIC_DATE = 253402300799
_HEADER_CACHE_SIZE = 512


@dataclass(frozen=True)
class _Header:
    alg: str
    kid: str | None
    raw: ReadOnlyDict


# What steps 1 to 3 hand to the rest, a plain tuple (built on every
# verification): the header, the claims, the issuer's policy, exp (read
# once), the token's bytes and the offset of its second dot.
_Parsed = tuple[_Header, ReadOnlyDict, _Policy, "float | None", bytes, int]


def _safe(value: Any, limit: int = 128) -> Any:
    """A value fit for a log field: short, printable, never a container."""
    if value is None or isinstance(value, (bool, int, float)):
        return value
    text = value if isinstance(value, str) else type(value).__name__
    text = text.encode("unicode_escape").decode("ascii")
    return text if len(text) <= limit else text[:limit] + "..."


def _numeric_date(claims: Mapping[str, Any], name: str) -> float | None:
    """A NumericDate claim (RFC 7519 section 2) as float, or InvalidClaim."""
    value = claims.get(name)
    # The usual case first: a whole number of seconds in range.
    if type(value) is int and 0 <= value <= _MAX_NUMERIC_DATE:
        return float(value)
    if value is None and name not in claims:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidClaim(f"{name} is not a NumericDate")
    if isinstance(value, float) and not math.isfinite(value):
        raise InvalidClaim(f"{name} is not a finite NumericDate")
    if not 0 <= value <= _MAX_NUMERIC_DATE:
        raise InvalidClaim(f"{name} is out of range")
    return float(value)


def _revoked(check: RevocationCheck, token: VerifiedToken) -> bool:
    # A check with is_token_revoked (RevocationService) also sees the kid of
    # the key that verified: a key revoked in an emergency is refused whatever
    # iat its forger wrote.
    by_token = getattr(check, "is_token_revoked", None)
    if by_token is not None:
        return bool(by_token(token))
    return check.is_revoked(token.claims, token.issuer)


async def _arevoked(check: RevocationCheck, token: VerifiedToken) -> bool:
    by_token = getattr(check, "ais_token_revoked", None)
    if by_token is not None:
        return bool(await by_token(token))
    return await check.ais_revoked(token.claims, token.issuer)


class Verifier:
    """Verifies compact JWS tokens against a :class:`GuardConfig`.

    A verifier is immutable and safe to share between threads and tasks;
    build one at start-up and reuse it. It remembers the tokens it accepted
    (``GuardConfig.token_cache_size``): a token seen before skips its
    signature check, and every other check still runs on each use.
    """

    def __init__(self, config: GuardConfig) -> None:
        if not isinstance(config, GuardConfig):
            raise TypeError("Verifier needs a GuardConfig")
        self.config = config
        self._header_cache: dict[bytes, _Header] = {}
        self._policies = config.policies
        self._opaque_source = config.opaque_source
        self._any_issuer = None in config.policies
        self._leeway = float(config.leeway)
        self._clock = config.clock
        self._max_token_age = config.max_token_age
        self._required = config.required
        self._cache = (
            TokenCache(config.token_cache_size, float(config.token_cache_max_age))
            if config.token_cache_size
            else None
        )
        # verify_signature_only has no claims to pick an issuer by, so it
        # needs every issuer to share one key source and one allowlist.
        shared = {(id(p.keys), p.algorithms) for p in self._policies.values()}
        self._signature_policy = next(iter(self._policies.values())) if len(shared) == 1 else None

    # -- public API (each reports every rejection once: see _refused)

    def verify(self, token: str) -> VerifiedToken:
        """Verify ``token`` and return the result, or raise a :class:`TokenError`."""
        ctx: dict[str, Any] = {}
        digest = fresh = None
        try:
            digest, entry = self._recall(token, ctx)
            # A cached token is reused only while its key source still holds
            # the very key that verified it (see _token_cache).
            if (
                entry is not None
                and entry.keys.get_key(entry.header_kid, entry.token.algorithm) is entry.key
            ):
                result, checks = entry.token, entry.claims
            elif self._opaque_source is not None and route(token) == "opaque":
                # An opaque token: the issuer's introspection endpoint (RFC 7662)
                # says what it is, and caches its own answers.
                result = self._opaque_source.verify(token)
                checks = self._opaque_checks()
            else:
                if self.config.jwe is not None:  # nested JWE: decrypt first (jwe/decrypt.py)
                    token = self.config.jwe.unwrap(token, self.config.max_token_bytes)
                parsed = self._parse(token, ctx)
                header, _, policy, _, _, _ = parsed
                key = policy.keys.get_key(header.kid, header.alg)
                result, fresh = self._finish(parsed, key, ctx)
                checks = policy.claims
            revocation = self.config.revocation
            if revocation is not None and _revoked(revocation, result):
                raise TokenRevoked()
            # The user's CLAIMS_CHECK, last, on every use (jwt_guard_core/claims_policy.py).
            checks.run_check(result)
        except Exception as exc:
            self._refused(exc, ctx, digest)
            raise
        if fresh is not None and digest is not None and self._cache is not None:
            self._cache.put(digest, fresh)
        return result

    async def averify(self, token: str) -> VerifiedToken:
        """Like :meth:`verify`; key lookup and revocation never block the event loop."""
        ctx: dict[str, Any] = {}
        digest = fresh = None
        try:
            digest, entry = self._recall(token, ctx)
            # A cached token is reused only while its key source still holds
            # the very key that verified it (see _token_cache).
            if (
                entry is not None
                and await entry.keys.aget_key(entry.header_kid, entry.token.algorithm) is entry.key
            ):
                result, checks = entry.token, entry.claims
            elif self._opaque_source is not None and route(token) == "opaque":
                # An opaque token: the issuer's introspection endpoint (RFC 7662)
                # says what it is, and caches its own answers.
                result = await self._opaque_source.averify(token)
                checks = self._opaque_checks()
            else:
                if self.config.jwe is not None:  # nested JWE: decrypt first (jwe/decrypt.py)
                    token = await self.config.jwe.aunwrap(token, self.config.max_token_bytes)
                parsed = self._parse(token, ctx)
                header, _, policy, _, _, _ = parsed
                key = await policy.keys.aget_key(header.kid, header.alg)
                result, fresh = self._finish(parsed, key, ctx)
                checks = policy.claims
            revocation = self.config.revocation
            if revocation is not None and await _arevoked(revocation, result):
                raise TokenRevoked()
            # The user's CLAIMS_CHECK, last, on every use (jwt_guard_core/claims_policy.py).
            await checks.arun_check(result)
        except Exception as exc:
            self._refused(exc, ctx, digest)
            raise
        if fresh is not None and digest is not None and self._cache is not None:
            self._cache.put(digest, fresh)
        return result

    def verify_signature_only(self, token: str) -> tuple[Mapping[str, Any], bytes]:
        """Check a compact JWS up to its signature; return ``(header, payload bytes)``.

        For JWS whose payload is not a JWT claim set (signed documents, test
        vectors). Runs the pipeline's steps 1, 2, 4 and 5 exactly as
        :meth:`verify` does (size and shape, strict base64url, header checks
        and allowlist, key selection and binding, signature) and none of the
        claim checks: the payload is returned undecoded and unvalidated, so
        never treat it as an access token. Rejections raise the same
        :class:`TokenError` reasons and security events as :meth:`verify`.
        The header is read-only all the way down (objects are
        :class:`~jwt_guard_core.token.ReadOnlyDict`, arrays tuples), like
        :attr:`VerifiedToken.header`; ``dict(header)`` is a mutable copy.
        Never uses nor fills the verified-token cache.

        Needs a configuration with a single key source and allowlist (one
        ``keys``, or ``issuers`` that all share them): there are no claims to
        select an issuer by. Otherwise raises ``ConfigurationError``.
        """
        ctx: dict[str, Any] = {}
        try:
            policy, header, payload, raw, second = self._parse_raw(token, ctx)
            key = policy.keys.get_key(header.kid, header.alg)
            self._check_signature(header, key, raw, second, ctx)
        except Exception as exc:
            self._refused(exc, ctx, None)
            raise
        return header.raw, payload

    async def averify_signature_only(self, token: str) -> tuple[Mapping[str, Any], bytes]:
        """Like :meth:`verify_signature_only`; the key lookup never blocks the event loop."""
        ctx: dict[str, Any] = {}
        try:
            policy, header, payload, raw, second = self._parse_raw(token, ctx)
            key = await policy.keys.aget_key(header.kid, header.alg)
            self._check_signature(header, key, raw, second, ctx)
        except Exception as exc:
            self._refused(exc, ctx, None)
            raise
        return header.raw, payload

    def recalls(self, token: str) -> bool:
        """Whether ``token`` is in the verified-token cache: it was fully verified before.

        A look only: nothing is checked, counted or reported, and no I/O
        (the next :meth:`verify` still re-checks the time claims, the key
        and revocation). Only a token this verifier accepted can be
        recalled, so a guess never is: the failure rate limiter lets a
        recalled token skip its reservation (see ``sessions/ratelimit.py``).
        """
        digest = self._cache_digest(token)
        if digest is None or self._cache is None:
            return False
        return self._cache.get(digest, self._clock()) is not None

    def clear_token_cache(self) -> None:
        """Forget every remembered token; the next use of each is verified in full."""
        if self._cache is not None:
            self._cache.clear()

    # -- the verified-token cache (see _token_cache)

    def _opaque_checks(self) -> ClaimsPolicy:
        """The introspecting issuer's claims policy: its CLAIMS_CHECK runs on opaque tokens too."""
        source = self._opaque_source
        assert source is not None
        policy = self._policies.get(source.issuer) or self._policies.get(None)
        return policy.claims if policy is not None else ClaimsPolicy()

    def _cache_digest(self, token: str) -> bytes | None:
        """The token's cache key; ``None`` with the cache off or for what it never holds."""
        cache = self._cache
        # Only what a first verification could have accepted is looked up:
        # anything else goes through step 1 and is refused there.
        if (
            cache is None
            or type(token) is not str
            or not token.isascii()
            or len(token) > self.config.max_token_bytes
        ):
            return None
        return cache.digest(token)

    def _recall(self, token: str, ctx: dict[str, Any]) -> tuple[bytes | None, CachedToken | None]:
        """The token's cache digest and live entry, the time claims re-checked."""
        digest = self._cache_digest(token)
        if digest is None:
            return None, None
        cache = self._cache
        assert cache is not None
        now = self._clock()
        entry = cache.get(digest, now)
        if entry is not None:
            # What a rejection reports: what the first verification knew.
            ctx.update(entry.context)
            self._check_times(entry.exp, entry.nbf, entry.iat, now)
        return digest, entry

    # -- steps 1 to 3: shape, header, payload, issuer, expiry

    def _parse_raw(
        self, token: str, ctx: dict[str, Any]
    ) -> tuple[_Policy, _Header, bytes, bytes, int]:
        """Steps 1 and 2 plus a strict base64url payload, for verify_signature_only."""
        policy = self._signature_policy
        if policy is None:
            raise ConfigurationError(
                "issuers",
                "verify_signature_only needs one key source and allowlist shared by every issuer",
            )
        header, raw, first, second = self._parse_shape_and_header(token, ctx)
        try:
            payload = b64url_decode(raw[first + 1 : second])
        except DecodeError as exc:
            raise MalformedToken(f"payload: {exc}") from None
        if header.alg not in policy.algorithms:
            raise AlgorithmNotAllowed(f"{header.alg} is not allowed for this issuer")
        return policy, header, payload, raw, second

    def _parse_shape_and_header(
        self, token: str, ctx: dict[str, Any]
    ) -> tuple[_Header, bytes, int, int]:
        """Steps 1 and 2: size, compact shape and the (cached) header checks.

        Returns the header, the token as bytes and the offsets of its two
        dots: the signing input is ``raw[:second]``, no copy is joined.
        """
        max_bytes = self.config.max_token_bytes
        if not isinstance(token, str):
            raise MalformedToken("the token is not a string")
        if len(token) > max_bytes:
            raise _too_large(len(token), max_bytes)
        if not token.isascii():
            # The limit is in bytes: a compact JWS is ASCII, and multi-byte
            # text under the character count can still be over the byte limit.
            size = len(token.encode("utf-8", "surrogatepass"))
            if size > max_bytes:
                raise _too_large(size, max_bytes)
            raise MalformedToken("a compact JWS is ASCII only (RFC 7515 section 7.1)")
        raw = token.encode("ascii")
        first = raw.find(b".")
        second = raw.find(b".", first + 1) if first >= 0 else -1
        if second < 0 or raw.find(b".", second + 1) >= 0:
            if raw.count(b".") == 4:
                raise MalformedToken("JWE (five-segment) tokens are not accepted")
            raise MalformedToken("a compact JWS has exactly three segments")

        header_seg = raw[:first]
        header = self._header_cache.get(header_seg)
        if header is None:
            header = self._parse_header(header_seg, ctx)
            if len(self._header_cache) >= _HEADER_CACHE_SIZE:
                self._header_cache.clear()
            self._header_cache[header_seg] = header
        ctx["alg"] = header.alg
        ctx["kid"] = header.kid
        # Checked after the header so that the classic unsecured JWT
        # ("alg": "none" with an empty signature) is reported and logged as
        # the disallowed algorithm it is, not as a generic shape error.
        if second == len(raw) - 1:
            raise MalformedToken("the token has no signature")
        return header, raw, first, second

    def _parse(self, token: str, ctx: dict[str, Any]) -> _Parsed:
        header, raw, first, second = self._parse_shape_and_header(token, ctx)
        try:
            claims = parse_read_only_object(b64url_decode(raw[first + 1 : second]))
        except DecodeError as exc:
            raise MalformedToken(f"payload: {exc}") from None
        ctx["iss"] = claims.get("iss")
        ctx["jti"] = claims.get("jti")

        policy = self._select_policy(claims)
        if header.alg not in policy.algorithms:
            raise AlgorithmNotAllowed(f"{header.alg} is not allowed for this issuer")

        # An expired token is refused before any key lookup or signature work.
        exp = _numeric_date(claims, "exp")
        # RFC 7519 section 4.1.4: the token MUST NOT be accepted on or after exp.
        if exp is not None and self._clock() >= exp + self._leeway:
            raise TokenExpired()
        return header, claims, policy, exp, raw, second

    def _parse_header(self, segment: bytes, ctx: dict[str, Any]) -> _Header:
        try:
            header = parse_read_only_object(b64url_decode(segment))
        except DecodeError as exc:
            raise MalformedToken(f"header: {exc}") from None
        alg = header.get("alg")
        ctx["alg"] = alg
        # Known before any check can fail, so an attack's event names its kid.
        ctx["kid"] = header.get("kid")
        if not isinstance(alg, str):
            raise MalformedToken("the header has no alg string")
        if alg.lower() == "none":
            raise AlgorithmNotAllowed("unsigned tokens (alg none) are never accepted")
        if alg not in self.config.all_algorithms:
            raise AlgorithmNotAllowed(f"{_safe(alg, 16)} is not in the allowlist")
        for name in _KEY_HEADERS:
            if name in header:
                raise EmbeddedKey(f"the header carries {name}; keys come only from configuration")
        if "crit" in header:
            # RFC 7515 section 4.1.11: extensions listed in crit must be
            # understood; this verifier implements none.
            raise UnknownCrit()
        if "b64" in header:
            raise UnknownCrit("b64 (RFC 7797 unencoded payload) is not supported")
        kid = header.get("kid")
        # RFC 7515 section 4.1.4: kid is a string. "kid": null is not "no
        # kid": read as absent it would let the token pick the set's only
        # key, a lookup the issuer never asked for.
        if "kid" in header:
            if not isinstance(kid, str):
                raise MalformedToken("kid is not a string")
            if len(kid) > _MAX_KID_LENGTH:
                raise MalformedToken("kid is too long")
        ctx["kid"] = kid
        expected = self.config.normalized_type
        if expected is not None:
            typ = header.get("typ")
            if not isinstance(typ, str) or normalize_type(typ) != expected:
                raise BadType()
        # Cached and handed to every caller (verify_signature_only returns
        # it): read-only all the way down as decoded, so no caller can change
        # what a later verification of the same header reports.
        return _Header(alg=alg, kid=kid, raw=header)

    def _select_policy(self, claims: Mapping[str, Any]) -> _Policy:
        if self._any_issuer:
            iss = claims.get("iss")
            if iss is not None and not isinstance(iss, str):
                raise InvalidClaim("iss is not a string")
            return self._policies[None]
        if "iss" not in claims:
            raise MissingClaim("the token has no iss claim")
        iss = claims["iss"]
        # Exact, case-sensitive match (RFC 7519 section 4.1.1): no prefix,
        # trailing-slash or case folding tricks.
        policy = self._policies.get(iss) if isinstance(iss, str) else None
        if (policy is None or policy.template is not None) and isinstance(iss, str):
            # Issuer templates ({tid}), jwt_guard_core/issuer_templates.py.
            policy = match_template(self.config.templates, iss, claims)
        if policy is None:
            raise BadIssuer()
        return policy

    # -- steps 5 to 8: signature, claims, result

    @staticmethod
    def _check_signature(
        header: _Header, key: VerificationKey, raw: bytes, second: int, ctx: dict[str, Any]
    ) -> None:
        """Step 5, shared by verify and verify_signature_only."""
        ctx["kid"] = key.kid if key.kid is not None else header.kid
        try:
            signature = b64url_decode(raw[second + 1 :])
        except DecodeError as exc:
            raise MalformedToken(f"signature: {exc}") from None
        if not verify_signature(header.alg, key.key, raw[:second], signature):
            raise BadSignature()

    def _check_times(
        self, exp: float | None, nbf: float | None, iat: float | None, now: float
    ) -> None:
        """The claims that age: checked at first sight and on every reuse of a cached token."""
        leeway = self._leeway
        if exp is not None and now >= exp + leeway:
            raise TokenExpired()
        if nbf is not None and now + leeway < nbf:
            raise NotYetValid()
        if iat is not None:
            if iat > now + leeway:
                raise IssuedInFuture()
            max_age = self._max_token_age
            if max_age is not None and now - iat > max_age + leeway:
                raise TokenTooOld()

    def _finish(
        self, parsed: _Parsed, key: VerificationKey, ctx: dict[str, Any]
    ) -> tuple[VerifiedToken, CachedToken | None]:
        """Steps 5, 6 and 8; the cache entry too when the cache is on."""
        header, claims, policy, exp, raw, second = parsed
        self._check_signature(header, key, raw, second, ctx)

        config = self.config
        if not policy.required.issubset(claims):
            missing = sorted(policy.required - claims.keys())
            raise MissingClaim(f"required claim {missing[0]} is missing")

        now = self._clock()
        nbf = _numeric_date(claims, "nbf")
        iat = _numeric_date(claims, "iat")
        self._check_times(exp, nbf, iat, now)
        if (
            config.max_lifetime is not None
            and iat is not None
            and exp is not None
            and exp - iat > config.max_lifetime
        ):
            raise InvalidClaim(
                "the token's lifetime is over the maximum", reason="lifetime_too_long"
            )

        if policy.check_audience:
            self._check_audience(claims, policy.audiences)

        # A JSON null is present but not a value: "sub": null must not pass
        # as a token without a subject (RFC 7519 section 4.1.2: a string).
        sub = claims.get("sub")
        if not (type(sub) is str and sub) and "sub" in claims:
            raise InvalidClaim("sub is not a non-empty string")
        if type(claims.get("jti")) is not str and "jti" in claims:
            raise InvalidClaim("jti is not a string")
        # The claims policy: values, parties, token kind, roles and scopes.
        grants = policy.claims.check(claims, header.raw)

        issuer = policy.issuer
        if issuer is None:
            iss = claims.get("iss")
            issuer = iss if isinstance(iss, str) else None
        result = VerifiedToken._read_only(
            claims,
            header.raw,
            ctx["kid"],
            issuer,
            sub,
            grants.scopes,
            header.alg,
            grants.roles,
        )
        if self._cache is None:
            return result, None
        drop_at = now + self._cache.max_age
        if exp is not None and exp + self._leeway < drop_at:
            drop_at = exp + self._leeway
        # ctx is this call's own dict and nothing changes it after success.
        return result, CachedToken(
            result, policy.keys, header.kid, key, exp, nbf, iat, drop_at, ctx, policy.claims
        )

    @staticmethod
    def _check_audience(claims: Mapping[str, Any], audiences: frozenset[str]) -> None:
        aud = claims.get("aud")
        if type(aud) is str:
            if aud not in audiences:
                raise BadAudience()
            return
        # A JSON array: the claims are read-only, arrays decoded as tuples.
        if not isinstance(aud, tuple) or not aud:
            raise InvalidClaim("aud is not a string or a non-empty list of strings")
        if not all(isinstance(a, str) for a in aud):
            raise InvalidClaim("aud holds a value that is not a string")
        if audiences.isdisjoint(aud):
            raise BadAudience()

    # -- reporting

    def _refused(self, exc: Exception, ctx: dict[str, Any], digest: bytes | None) -> None:
        """Report a rejection once; returns to let a TokenError propagate, else raises one.

        A :class:`ConfigurationError` propagates unreported; any other
        exception is a bug or an unexpected key-source failure and becomes a
        logged ``verification_error`` rejection, never a 500 nor an accepted
        token. A cached token that was refused is forgotten.
        """
        if digest is not None and self._cache is not None:
            # Never keep a token that was just refused (revoked, expired,
            # its key gone): its next use is verified in full.
            self._cache.discard(digest)
        if isinstance(exc, ConfigurationError):
            return
        if isinstance(exc, TokenError):
            self._rejected(exc, ctx)
            return
        raise self._internal_error(exc, ctx) from None

    def _rejected(self, exc: TokenError, ctx: dict[str, Any]) -> None:
        reason = exc.reason
        level = logging.INFO
        if reason in _ATTACK_REASONS:
            level = logging.WARNING
        alg = ctx.get("alg")
        if (
            reason == "alg_not_allowed"
            and isinstance(alg, str)
            and alg in HMAC_ALGORITHMS
            # Only then is it the confusion attack; an HMAC set asked for
            # another HS size is a client misconfiguration.
            and not self.config.all_algorithms & HMAC_ALGORITHMS
        ):
            exc.detail = exc.detail + " (HMAC against a public-key configuration)"
        events.emit(
            "token_rejected",
            level=level,
            reason=reason,
            message=f"token rejected: {exc.detail}",
            alg=_safe(alg),
            kid=_safe(ctx.get("kid")),
            iss=_safe(ctx.get("iss")),
            jti=_safe(ctx.get("jti")),
            status=exc.status,
        )

    def _internal_error(self, exc: Exception, ctx: dict[str, Any]) -> TokenError:
        # A bug or an unexpected key-source failure must not become a 500 nor
        # an accepted token: refuse, and log the traceback for the operator.
        logger.error("unexpected error while verifying a token", exc_info=exc)
        error = TokenError("the token could not be verified", reason="verification_error")
        self._rejected(error, ctx)
        return error


def _too_large(size: int, limit: int) -> TokenTooLarge:
    # Logged, never sent: tells the operator which setting to raise (Entra
    # tokens with many groups, ML-DSA signatures and nested JWE exceed 8 KiB).
    return TokenTooLarge(
        f"the token is {size} bytes, over the limit of {limit}; if tokens this large are "
        "legitimate, raise MAX_TOKEN_BYTES (GuardConfig max_token_bytes)"
    )
