"""``GuardConfig``: everything the verifier checks, validated once.

Every field is checked in ``__post_init__``; a bad value raises
:class:`~jwt_guard_core.errors.ConfigurationError` naming the setting, the
value given and what is accepted. Derived, per-request data (allowlists,
required-claim sets, the issuer table) is prepared here so that verification
does no set-up work.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol, runtime_checkable

from .algorithms import ALGORITHMS, HMAC_ALGORITHMS, ML_DSA, min_token_bytes
from .claims_policy import ClaimsPolicy, required_claims
from .errors import ConfigurationError
from .introspection.routing import OpaqueTokenSource
from .issuer_templates import IssuerTemplate, is_template, tenant_list
from .jwe.decrypt import JWEPolicy
from .keys import KeySource, StaticKeySet, secret_shares_public_material
from .settings.schema import DEFAULTS as _SCHEMA_DEFAULTS

__all__ = ["GuardConfig", "IssuerPolicy", "RevocationCheck"]

# The settings' defaults (jwt_guard_core/settings/schema.py) are the verifier's.
DEFAULT_LEEWAY = float(_SCHEMA_DEFAULTS["leeway"])
DEFAULT_MAX_TOKEN_BYTES = int(_SCHEMA_DEFAULTS["max_token_bytes"])
DEFAULT_TOKEN_CACHE_SIZE = int(_SCHEMA_DEFAULTS["token_cache_size"])
DEFAULT_TOKEN_CACHE_MAX_AGE = float(_SCHEMA_DEFAULTS["token_cache_max_age"])
MAX_TOKEN_CACHE_SIZE = 1_000_000
MAX_LEEWAY = 300.0


@runtime_checkable
class RevocationCheck(Protocol):
    """Answers whether a verified token has been revoked.

    Called after the signature and claims are checked. Raise
    :class:`~jwt_guard_core.errors.KeySourceUnavailable` (503) when the
    revocation state cannot be read and the check must fail closed.
    """

    def is_revoked(self, claims: Mapping[str, Any], issuer: str | None) -> bool: ...

    async def ais_revoked(self, claims: Mapping[str, Any], issuer: str | None) -> bool: ...


@dataclass(frozen=True, kw_only=True)
class IssuerPolicy:
    """What one issuer's tokens are verified with, in a multi-issuer config.

    ``audience`` and ``algorithms`` fall back to the ``GuardConfig`` values
    when left ``None``.
    """

    keys: KeySource
    audience: str | Sequence[str] | None = None
    algorithms: Sequence[str] | None = None
    # The claims policy (jwt_guard_core/claims_policy.py); None: the GuardConfig value.
    claim_values: Mapping[str, Any] | None = None
    authorized_parties: str | Sequence[str] | None = None
    token_kind: str | None = None
    roles_claim: Any = None
    scopes_claim: Any = None
    claims_check: Any = None
    tenants: Sequence[str] | None = None
    # Opaque (non-JWS) tokens of this issuer go to its introspection endpoint
    # (RFC 7662, jwt_guard_core/introspection); at most one issuer may.
    introspection: OpaqueTokenSource | None = None


@dataclass(frozen=True)
class _Policy:
    """The prepared per-issuer view the verifier uses."""

    issuer: str | None
    keys: KeySource
    audiences: frozenset[str]
    algorithms: frozenset[str]
    claims: ClaimsPolicy = field(default_factory=ClaimsPolicy)
    # Claims every token of this issuer must carry; aud only when it is checked.
    required: frozenset[str] = frozenset()
    check_audience: bool = True
    # An issuer template ({tid}): matched by shape, never by exact lookup.
    template: IssuerTemplate | None = None


def _strings(setting: str, value: str | Sequence[str], what: str) -> tuple[str, ...]:
    if isinstance(value, str):
        items: tuple[Any, ...] = (value,)
    elif isinstance(value, (bytes, bytearray, Mapping)):
        # bytes would iterate as integers and a mapping as its keys.
        items = ()
    else:
        try:
            items = tuple(value)
        except TypeError:
            items = ()
    if not items or not all(isinstance(v, str) and v for v in items):
        raise ConfigurationError(setting, f"{value!r} is not accepted; give {what}")
    return items


def _algorithms(setting: str, value: Sequence[str] | None) -> frozenset[str]:
    try:
        if value is None or isinstance(value, (str, bytes, Mapping)):
            raise TypeError
        algs = tuple(value)
    except TypeError:
        raise ConfigurationError(
            setting,
            f"{value!r} is not accepted; give the allowlist as a list, e.g. ['RS256'] "
            f"(known: {', '.join(ALGORITHMS)})",
        ) from None
    if not algs:
        raise ConfigurationError(setting, "the allowlist is empty; give at least one algorithm")
    for alg in algs:
        if not isinstance(alg, str):
            raise ConfigurationError(
                setting, f"{alg!r} is not an algorithm name; accepted: {', '.join(ALGORITHMS)}"
            )
        if alg.strip().lower() == "none":
            raise ConfigurationError(
                setting, f"{alg!r} can never be allowed: unsigned tokens are forgeries"
            )
        if alg not in ALGORITHMS:
            raise ConfigurationError(
                setting, f"unknown algorithm {alg!r}; accepted: {', '.join(ALGORITHMS)}"
            )
    return frozenset(algs)


def _seconds(
    setting: str,
    value: float | None,
    *,
    allow_none: bool,
    allow_zero: bool = True,
    maximum: float | None = None,
) -> None:
    if value is None:
        if allow_none:
            return
        raise ConfigurationError(setting, "a number of seconds is required")
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ConfigurationError(setting, f"{value!r} is not a number of seconds")
    if value < 0:
        raise ConfigurationError(setting, f"{value!r} is negative; give 0 or more seconds")
    if value == 0 and not allow_zero:
        # A zero maximum age or lifetime rejects every token: a typo, not a policy.
        raise ConfigurationError(setting, f"{value!r} is not accepted; give a positive number")
    if maximum is not None and value > maximum:
        raise ConfigurationError(setting, f"{value!r} is over the maximum of {maximum:g} seconds")


def normalize_type(value: str) -> str:
    """``typ`` comparison form: RFC 7515 section 4.1.9 lets ``application/`` be omitted."""
    lowered = value.lower()
    if lowered.startswith("application/"):
        return lowered[len("application/") :]
    return lowered


@dataclass(frozen=True, kw_only=True)
class GuardConfig:
    """What a :class:`~jwt_guard_core.Verifier` accepts.

    Args:
        algorithms: the allowlist (required; ``none`` can never be allowed;
            HMAC algorithms only with a key source that holds an HMAC secret).
        keys: the key source: a :class:`~jwt_guard_core.StaticKeySet` or a
            remote key set. Not used when ``issuers`` is given.
        issuer: the accepted ``iss`` value, or several sharing ``keys``.
            Required unless ``verify_issuer=False``.
        audience: this API's identifier(s); a token is accepted when its
            ``aud`` contains one of them. Required unless
            ``verify_audience=False``.
        issuers: several issuers, each with its own :class:`IssuerPolicy`;
            the token's ``iss`` selects the entry before any key lookup.
        leeway: clock skew allowed on ``exp``/``nbf``/``iat`` (default 10 s,
            at most 300 s).
        required_claims: claims that must be present besides the minimum
            (``exp``, ``iat``, ``sub``, plus ``iss`` and ``aud`` when they
            are verified); they only add to it.
        optional_claims: ``iat`` and/or ``sub`` to drop from the minimum
            (never ``exp``); reported as a warning by the start-up checks.
        claim_values, authorized_parties, token_kind, roles_claim,
            scopes_claim, roles_booleans, claims_check: the claims policy,
            see :class:`~jwt_guard_core.claims_policy.ClaimsPolicy`. With
            ``authorized_parties`` an issuer may go without an audience
            (Cognito access tokens have no ``aud``).
        tenants: the tenants an issuer template (``{tid}``) accepts.
        max_token_age: reject tokens whose ``iat`` is older than this.
        max_lifetime: reject tokens whose ``exp - iat`` is longer than this.
        expected_type: the required ``typ`` header, e.g. ``"at+jwt"``
            (RFC 9068); compared case-insensitively with or without
            ``application/``.
        max_token_bytes: tokens longer than this are refused before any
            decoding (default 8192).
        revocation: an optional :class:`RevocationCheck`.
        introspection: an :class:`~jwt_guard_core.introspection.IntrospectionSource`
            for opaque (non-JWS) tokens (RFC 7662; default ``None``: they are
            refused as malformed). JWTs keep the local path.
        jwe: a :class:`~jwt_guard_core.jwe.JWEPolicy` to decrypt nested JWE
            (default ``None``: five-segment tokens are refused as malformed).
        token_cache_size: how many verified tokens the verifier remembers
            (default 2048; ``0`` turns the cache off). A token seen before
            skips its signature check; its time claims, its key's presence
            in the key set and revocation are checked on every use (see
            ``docs/performance.md``).
        token_cache_max_age: the longest a verified token is remembered,
            in seconds (default 300); never past its ``exp``.
        clock: returns the current Unix time; inject a fake one in tests.
    """

    algorithms: Sequence[str] | None = None
    keys: KeySource | None = None
    issuer: str | Sequence[str] | None = None
    audience: str | Sequence[str] | None = None
    issuers: Mapping[str, IssuerPolicy] | None = None
    verify_issuer: bool = True
    verify_audience: bool = True
    leeway: float = DEFAULT_LEEWAY
    required_claims: Sequence[str] | None = None
    optional_claims: Sequence[str] | None = None
    claim_values: Mapping[str, Any] | None = None
    authorized_parties: str | Sequence[str] | None = None
    token_kind: str = "access"  # noqa: S105 - a kind, not a secret
    roles_claim: Any = "roles"
    scopes_claim: Any = None
    roles_booleans: bool = False
    claims_check: Any = None
    tenants: Sequence[str] | None = None
    max_token_age: float | None = None
    max_lifetime: float | None = None
    expected_type: str | None = None
    max_token_bytes: int = DEFAULT_MAX_TOKEN_BYTES
    revocation: RevocationCheck | None = None
    jwe: JWEPolicy | None = None
    introspection: OpaqueTokenSource | None = None
    token_cache_size: int = DEFAULT_TOKEN_CACHE_SIZE
    token_cache_max_age: float = DEFAULT_TOKEN_CACHE_MAX_AGE
    clock: Callable[[], float] = field(default=time.time, repr=False)

    # Prepared in __post_init__.
    opaque_source: OpaqueTokenSource | None = field(init=False, repr=False, compare=False)
    policies: Mapping[str | None, _Policy] = field(init=False, repr=False, compare=False)
    all_algorithms: frozenset[str] = field(init=False, repr=False, compare=False)
    required: frozenset[str] = field(init=False, repr=False, compare=False)
    normalized_type: str | None = field(init=False, repr=False, compare=False)
    templates: tuple[_Policy, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        _seconds("leeway", self.leeway, allow_none=False, maximum=MAX_LEEWAY)
        _seconds("max_token_age", self.max_token_age, allow_none=True, allow_zero=False)
        _seconds("max_lifetime", self.max_lifetime, allow_none=True, allow_zero=False)
        for flag in ("verify_issuer", "verify_audience"):
            if not isinstance(getattr(self, flag), bool):
                # "False" from an environment variable is truthy: refuse, never guess.
                raise ConfigurationError(flag, f"{getattr(self, flag)!r} is not True or False")
        if (
            isinstance(self.max_token_bytes, bool)
            or not isinstance(self.max_token_bytes, int)
            or not 256 <= self.max_token_bytes <= 1024 * 1024
        ):
            raise ConfigurationError(
                "max_token_bytes", f"{self.max_token_bytes!r} is not an integer from 256 to 1048576"
            )
        if (
            isinstance(self.token_cache_size, bool)
            or not isinstance(self.token_cache_size, int)
            or not 0 <= self.token_cache_size <= MAX_TOKEN_CACHE_SIZE
        ):
            raise ConfigurationError(
                "token_cache_size",
                f"{self.token_cache_size!r} is not an integer from 0 (off) "
                f"to {MAX_TOKEN_CACHE_SIZE}",
            )
        _seconds(
            "token_cache_max_age", self.token_cache_max_age, allow_none=False, allow_zero=False
        )
        if not callable(self.clock):
            raise ConfigurationError("clock", "must be a callable returning Unix time in seconds")
        if self.revocation is not None and not isinstance(self.revocation, RevocationCheck):
            raise ConfigurationError(
                "revocation", "must provide is_revoked(claims, issuer) and ais_revoked(...)"
            )
        if self.jwe is not None and not isinstance(self.jwe, JWEPolicy):
            raise ConfigurationError("jwe", f"{type(self.jwe).__name__} is not a JWEPolicy")
        if self.expected_type is not None and (
            not isinstance(self.expected_type, str) or not self.expected_type
        ):
            raise ConfigurationError("expected_type", f"{self.expected_type!r} is not a media type")

        if self.issuers is not None:
            if not isinstance(self.issuers, Mapping) or not self.issuers:
                raise ConfigurationError(
                    "issuers",
                    f"{self.issuers!r} is not accepted; give a non-empty mapping of issuer "
                    "to IssuerPolicy",
                )
            for iss, policy in self.issuers.items():
                if not isinstance(iss, str) or not iss:
                    raise ConfigurationError("issuers", f"issuer {iss!r} is not a non-empty string")
                if not isinstance(policy, IssuerPolicy):
                    raise ConfigurationError(
                        f"issuers[{iss!r}]",
                        f"{type(policy).__name__} is not accepted; give an IssuerPolicy",
                    )

        default_algs = (
            _algorithms("algorithms", self.algorithms)
            if self.algorithms is not None or not self.issuers
            else None
        )
        default_aud = (
            frozenset(_strings("audience", self.audience, "a non-empty string or list of strings"))
            if self.audience is not None
            else frozenset()
        )
        top_claims = ClaimsPolicy(
            claim_values=self.claim_values,
            authorized_parties=self.authorized_parties,
            token_kind=self.token_kind,  # type: ignore[arg-type]
            roles_claim=self.roles_claim,
            scopes_claim=self.scopes_claim,
            roles_booleans=self.roles_booleans,
            claims_check=self.claims_check,
        )
        top_tenants = tenant_list("tenants", self.tenants)
        if (
            self.verify_audience
            and self.audience is None
            and not top_claims.parties
            and not (
                self.issuers
                and all(
                    p.audience is not None or p.authorized_parties is not None
                    for p in self.issuers.values()
                )
            )
        ):
            raise ConfigurationError(
                "audience",
                "required: give this API's identifier, or authorized_parties (the client ids "
                "tokens must be issued to) for a provider whose access tokens have no aud, or set "
                "verify_audience=False to accept tokens minted for any audience (RFC 8725 section "
                "3.9 advises against it)",
            )
        if not self.verify_audience and (
            self.audience is not None
            or (self.issuers and any(p.audience is not None for p in self.issuers.values()))
        ):
            # Silently ignoring a configured audience would look like a check that is not made.
            raise ConfigurationError(
                "audience",
                f"{self.audience!r} given while verify_audience=False; remove one of the two",
            )

        policies: dict[str | None, _Policy] = {}
        if self.issuers is not None:
            if self.keys is not None or self.issuer is not None:
                raise ConfigurationError(
                    "issuers", "give either issuers=... or issuer/keys, not both"
                )
            if not self.verify_issuer:
                raise ConfigurationError("verify_issuer", "cannot be False with several issuers")
            for iss, policy in self.issuers.items():
                setting = f"issuers[{iss!r}]"
                algs = (
                    _algorithms(f"{setting}.algorithms", policy.algorithms)
                    if policy.algorithms is not None
                    else default_algs
                )
                if algs is None:
                    raise ConfigurationError(
                        f"{setting}.algorithms",
                        "required: give the allowlist here or as GuardConfig(algorithms=[...])",
                    )
                aud = (
                    frozenset(_strings(f"{setting}.audience", policy.audience, "a string or list"))
                    if policy.audience is not None
                    else default_aud
                )
                alg_setting = (
                    f"{setting}.algorithms" if policy.algorithms is not None else "algorithms"
                )
                claims = top_claims
                overrides = {
                    name: getattr(policy, name)
                    for name in (
                        "authorized_parties",
                        "token_kind",
                        "roles_claim",
                        "scopes_claim",
                        "claims_check",
                    )
                    if getattr(policy, name) is not None
                }
                if policy.claim_values is not None:
                    # The entry's values add to (and per claim replace) the top-level ones.
                    overrides["claim_values"] = {**(self.claim_values or {}), **policy.claim_values}
                if overrides:
                    claims = ClaimsPolicy(
                        **{
                            "claim_values": self.claim_values,
                            "authorized_parties": self.authorized_parties,
                            "token_kind": self.token_kind,
                            "roles_claim": self.roles_claim,
                            "scopes_claim": self.scopes_claim,
                            "roles_booleans": self.roles_booleans,
                            "claims_check": self.claims_check,
                            **overrides,
                            "prefix": f"{setting}.",
                        }
                    )
                if not aud and self.verify_audience and not claims.parties:
                    raise ConfigurationError(
                        f"{setting}.audience",
                        "required: give the audience or authorized_parties for this issuer",
                    )
                tenants = (
                    tenant_list(f"{setting}.tenants", policy.tenants)
                    if policy.tenants is not None
                    else top_tenants
                )
                policies[iss] = self._policy(
                    f"{setting}.keys", iss, policy.keys, aud, algs, alg_setting, claims, tenants
                )
        else:
            if self.keys is None:
                raise ConfigurationError(
                    "keys", "required: give a StaticKeySet or a remote key set"
                )
            assert default_algs is not None
            if self.verify_issuer:
                if self.issuer is None:
                    raise ConfigurationError(
                        "issuer",
                        "required: give the expected iss value(s), or set verify_issuer=False "
                        "when the key set belongs to exactly one issuer",
                    )
                for iss in _strings("issuer", self.issuer, "a non-empty string or list of strings"):
                    policies[iss] = self._policy(
                        "keys",
                        iss,
                        self.keys,
                        default_aud,
                        default_algs,
                        "algorithms",
                        top_claims,
                        top_tenants,
                    )
            else:
                if self.issuer is not None:
                    raise ConfigurationError(
                        "issuer",
                        f"{self.issuer!r} given while verify_issuer=False; remove one of the two",
                    )
                policies[None] = self._policy(
                    "keys", None, self.keys, default_aud, default_algs, "algorithms", top_claims
                )

        if isinstance(self.required_claims, str):
            raise ConfigurationError("required_claims", "give a list of claim names, not a string")
        if self.required_claims is not None and not isinstance(
            self.required_claims, (list, tuple, set, frozenset)
        ):
            raise ConfigurationError(
                "required_claims", f"{self.required_claims!r} is not accepted; give a list"
            )
        extra: set[str] = set()
        if self.max_token_age is not None:
            extra.add("iat")
        if self.max_lifetime is not None:
            extra.update(("iat", "exp"))

        def required_for(check_audience: bool) -> frozenset[str]:
            return required_claims(
                self.required_claims,
                self.optional_claims,
                issuer=self.verify_issuer,
                audience=check_audience,
            ) | frozenset(extra)

        required = required_for(
            self.verify_audience and (self.audience is not None or not top_claims.parties)
        )
        for key, prepared in list(policies.items()):
            check_audience = self.verify_audience and bool(prepared.audiences)
            policies[key] = replace(
                prepared, required=required_for(check_audience), check_audience=check_audience
            )

        _refuse_public_secrets(policies)
        sources = [
            p.introspection for p in (self.issuers or {}).values() if p.introspection is not None
        ]
        if self.introspection is not None:
            sources.append(self.introspection)
        for source in sources:
            if not isinstance(source, OpaqueTokenSource):
                raise ConfigurationError(
                    "introspection", f"{type(source).__name__} is not an IntrospectionSource"
                )
        if len(sources) > 1:
            raise ConfigurationError(
                "introspection",
                "at most one issuer may introspect opaque tokens: they carry no iss to choose by",
            )
        object.__setattr__(self, "opaque_source", sources[0] if sources else None)
        all_algorithms = frozenset().union(*(p.algorithms for p in policies.values()))
        _check_token_room(self.max_token_bytes, all_algorithms, nested=self.jwe is not None)
        object.__setattr__(self, "policies", policies)
        object.__setattr__(self, "all_algorithms", all_algorithms)
        if (
            top_tenants is not None or any(p.tenants for p in (self.issuers or {}).values())
        ) and not any(p.template is not None for p in policies.values()):
            raise ConfigurationError(
                "tenants", "given but no issuer is a template with a {tid} placeholder"
            )
        object.__setattr__(self, "required", frozenset(required))
        object.__setattr__(
            self, "templates", tuple(p for p in policies.values() if p.template is not None)
        )
        object.__setattr__(
            self,
            "normalized_type",
            normalize_type(self.expected_type) if self.expected_type is not None else None,
        )

    def _policy(
        self,
        setting: str,
        issuer: str | None,
        keys: Any,
        audiences: frozenset[str],
        algorithms: frozenset[str],
        alg_setting: str,
        claims: ClaimsPolicy,
        tenants: frozenset[str] | None = None,
    ) -> _Policy:
        if not isinstance(keys, KeySource):
            raise ConfigurationError(
                setting, f"{type(keys).__name__} is not a key source (StaticKeySet, RemoteJWKS)"
            )
        hmac_algs = algorithms & HMAC_ALGORITHMS
        if hmac_algs and not keys.allows_hmac:
            raise ConfigurationError(
                alg_setting,
                f"{', '.join(sorted(hmac_algs))} allowed but the key source holds no HMAC secret; "
                "allowing HMAC with public keys is the algorithm-confusion attack (RFC 8725 2.1)",
            )
        template = None
        if is_template(issuer):
            assert issuer is not None
            try:
                template = IssuerTemplate(issuer, tenants)
            except ConfigurationError as exc:
                name = "issuer" if setting == "keys" else setting.removesuffix(".keys")
                raise ConfigurationError(name, str(exc).split(": ", 1)[1]) from None
        return _Policy(
            issuer=issuer,
            keys=keys,
            audiences=audiences,
            algorithms=algorithms,
            claims=claims,
            template=template,
        )


def _check_token_room(max_bytes: int, algorithms: frozenset[str], *, nested: bool) -> None:
    """Refuse a size limit that every token of an allowed ML-DSA algorithm would exceed."""
    for alg in sorted(algorithms):
        need = min_token_bytes(alg, nested=nested)
        if need > max_bytes:
            signature = -(-ML_DSA[alg].signature * 4 // 3)
            where = " inside a nested JWE" if nested else ""
            raise ConfigurationError(
                "max_token_bytes",
                f"{max_bytes} is too small for {alg} tokens{where}: the signature alone is "
                f"{signature} base64url characters; give max_token_bytes={need} or more "
                "(docs/post-quantum.md)",
            )


def _refuse_public_secrets(policies: Mapping[str | None, _Policy]) -> None:
    """Refuse an issuer's HMAC secret that is another issuer's public key material.

    Each key set already refuses a public key as a secret in every
    container (PEM, DER, JWK, ...); only here, with every issuer's static
    keys in view, can a secret be recognised as a bare RSA modulus or EC
    point of a key in the same configuration (RFC 8725 section 2.1).
    """
    static = {id(p.keys): p.keys for p in policies.values() if isinstance(p.keys, StaticKeySet)}
    keys = [k for source in static.values() for k in source.keys]
    public = [k for k in keys if not k.symmetric]
    for key in keys:
        if not public or not isinstance(key.key, bytes):
            continue
        match = secret_shares_public_material(key.key, public)
        if match is not None:
            named = f"key {match.kid!r}" if match.kid is not None else f"a {match.kty} key"
            raise ConfigurationError(
                "issuers",
                f"an HMAC secret is the public key material of {named} in this configuration; "
                "anyone could forge tokens with it (RFC 8725 section 2.1)",
            )
