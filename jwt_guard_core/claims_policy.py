"""The claims policy: what a token's claims must say beyond the built-in checks.

Step 6 of the pipeline (DESIGN.md, "Where the pipeline grows"). After the
signature, the time claims, the audience and the required claims, each
issuer's :class:`ClaimsPolicy` checks, in this order:

1. required values (``CLAIM_VALUES``): ``{claim: value or [values]}``;
2. authorized parties (``AUTHORIZED_PARTIES``): ``azp``, or ``client_id``
   when the token has no ``azp``, must be in the allowlist;
3. the token kind (``TOKEN_KIND``): a token that is recognisably not an
   access token (a Cognito ID token, a Keycloak ID or refresh token, an
   OIDC ID token, a DPoP proof ...) is refused with ``wrong_token_type``;
4. roles and scopes, read from configurable claim paths (``ROLES_CLAIM``,
   ``SCOPES_CLAIM``) into :attr:`VerifiedToken.roles` and ``.scopes``;

and, once the token is otherwise accepted (revocation included), the
user's own check (``CLAIMS_CHECK``), sync or async. Every decision here is
a plain function of the claims: no I/O, nothing per request to set up.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from .errors import ConfigurationError, InsufficientRole, InvalidClaim, MissingClaim, TokenError
from .token import InvalidScope, VerifiedToken, is_scope_name, parse_scope, scopes_from_claims

__all__ = [
    "MINIMUM_CLAIMS",
    "RELAXABLE_CLAIMS",
    "TOKEN_KINDS",
    "ClaimPath",
    "ClaimsCheck",
    "ClaimsPolicy",
    "Grants",
    "WrongTokenType",
    "check_roles",
    "claim_paths",
    "claim_values",
    "read_path",
    "required_claims",
    "role_names",
]

logger = logging.getLogger("jwt_guard.claims")

#: Always required, whatever the settings: a token without ``exp`` never expires.
MINIMUM_CLAIMS = frozenset({"exp", "iat", "sub"})
#: The minimum claims ``OPTIONAL_CLAIMS`` may relax (never ``exp``).
RELAXABLE_CLAIMS = frozenset({"iat", "sub"})
#: ``"access"``: refuse tokens that are recognisably not access tokens; ``"any"``: do not look.
TOKEN_KINDS = ("access", "any")

#: A claim path: segments from the top-level claim name down (``("realm_access", "roles")``).
ClaimPath = tuple[str, ...]
#: ``CLAIMS_CHECK``: called with the verified token; raises InvalidClaim to refuse.
ClaimsCheck = Callable[[VerifiedToken], "bool | Awaitable[bool | None] | None"]

# Without SCOPES_CLAIM: token.scopes_from_claims (scope a string, scp a string or list).
DEFAULT_SCOPE_PATHS: tuple[ClaimPath, ...] = (("scope",), ("scp",))


class WrongTokenType(InvalidClaim):
    """The token is valid but of another kind: an ID, refresh or logout token, a DPoP proof."""

    reason = "wrong_token_type"
    default_detail = "the token is not an access token"


# -- 1. required claims --------------------------------------------------------


def _names(setting: str, value: Any) -> frozenset[str]:
    if value is None:
        return frozenset()
    if isinstance(value, str) or not isinstance(value, (list, tuple, set, frozenset)):
        raise ConfigurationError(setting, f"{value!r} is not accepted; give a list of claim names")
    if not all(isinstance(v, str) and v for v in value):
        raise ConfigurationError(setting, f"{value!r} is not accepted; give a list of claim names")
    return frozenset(value)


def required_claims(
    required: Any, optional: Any, *, issuer: bool, audience: bool
) -> frozenset[str]:
    """The claims a token must carry: the minimum, plus ``required``, minus ``optional``.

    The minimum is ``exp``, ``iat`` and ``sub`` (plus ``iss`` and ``aud``
    when they are verified). ``required`` only ever adds; ``optional`` may
    relax ``iat`` and ``sub``, never ``exp`` (a token without it would
    never expire) nor a claim ``required`` lists.
    """
    extra = _names("required_claims", required)
    relaxed = _names("optional_claims", optional)
    refused = sorted(relaxed - RELAXABLE_CLAIMS)
    if refused:
        raise ConfigurationError(
            "optional_claims",
            f"{', '.join(refused)} cannot be relaxed; only {', '.join(sorted(RELAXABLE_CLAIMS))}"
            " may be (exp is always required, iss and aud follow verify_issuer/verify_audience)",
        )
    both = sorted(relaxed & extra)
    if both:
        raise ConfigurationError(
            "optional_claims", f"{', '.join(both)} is listed in required_claims too; remove one"
        )
    found = set((MINIMUM_CLAIMS - relaxed) | extra)
    if issuer:
        found.add("iss")
    if audience:
        found.add("aud")
    return frozenset(found)


# -- 2. required values --------------------------------------------------------


def _value_key(value: Any) -> tuple[str, Any] | None:
    # JSON true is not 1: compare type and value, so {"level": 1} never
    # admits "level": true.
    if value is None or isinstance(value, (str, bool, int, float)):
        return (type(value).__name__ if not isinstance(value, bool) else "bool", value)
    return None


def claim_values(setting: str, value: Any) -> Mapping[str, frozenset[tuple[str, Any]]]:
    """``{claim: value or [values]}`` validated, as ``{claim: allowed value keys}``."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ConfigurationError(setting, f"{value!r} is not a dict of claim to value(s)")
    found: dict[str, frozenset[tuple[str, Any]]] = {}
    for claim, allowed in value.items():
        if not isinstance(claim, str) or not claim:
            raise ConfigurationError(setting, f"{claim!r} is not a claim name")
        items = allowed if isinstance(allowed, (list, tuple, set, frozenset)) else (allowed,)
        keys = [_value_key(v) for v in items]
        if not keys or any(k is None for k in keys):
            raise ConfigurationError(
                f"{setting}[{claim!r}]",
                f"{allowed!r} is not accepted; give a string, number or boolean, or a list of them",
            )
        found[claim] = frozenset(k for k in keys if k is not None)
    return found


def _check_values(claims: Mapping[str, Any], values: Mapping[str, frozenset[Any]]) -> None:
    for claim, allowed in values.items():
        if claim not in claims:
            raise MissingClaim(f"required claim {claim} is missing")
        given = claims[claim]
        items = given if isinstance(given, (list, tuple)) else (given,)
        # A list-valued claim (groups, amr, ...) passes when one element is allowed.
        if not any(_value_key(v) in allowed for v in items):
            raise InvalidClaim(f"{claim} has none of the required values")


# -- 3. authorized parties -----------------------------------------------------


def _check_party(claims: Mapping[str, Any], parties: frozenset[str]) -> None:
    # OIDC Core section 2: azp is the party the token was issued to; access
    # tokens of Cognito and RFC 9068 name it client_id instead.
    name = "azp" if "azp" in claims else "client_id"
    if name not in claims:
        raise MissingClaim("the token names no authorized party (azp or client_id)")
    party = claims[name]
    if not isinstance(party, str) or party not in parties:
        raise InvalidClaim(f"{name} is not an authorized party", reason="unauthorized_party")


# -- 4. token kinds ------------------------------------------------------------

# Header typ values that name a JWT that is never an access token.
_OTHER_HEADER_TYPES = frozenset(
    {
        "dpop+jwt",  # RFC 9449 DPoP proof
        "logout+jwt",  # OIDC back-channel logout token
        "secevent+jwt",  # RFC 8417 security event token
        "token-introspection+jwt",  # RFC 9701 introspection answer
        "id_token+jwt",
    }
)
# Keycloak's typ claim: "Bearer" on access tokens, these on the others.
_OTHER_TYP_CLAIMS = frozenset({"id", "refresh", "offline", "logout"})
# OIDC Core 3.1.3.6 and 3.3.2.11: hashes and the nonce only ID tokens carry.
_ID_TOKEN_CLAIMS = ("at_hash", "c_hash", "s_hash", "nonce")


def _audiences(claims: Mapping[str, Any]) -> tuple[str, ...]:
    aud = claims.get("aud")
    if isinstance(aud, str):
        return (aud,)
    if isinstance(aud, (list, tuple)):
        return tuple(a for a in aud if isinstance(a, str))
    return ()


def _check_kind(
    claims: Mapping[str, Any], header: Mapping[str, Any], parties: frozenset[str]
) -> None:
    typ = header.get("typ")
    if isinstance(typ, str) and typ.lower().removeprefix("application/") in _OTHER_HEADER_TYPES:
        raise WrongTokenType(f"the typ header names a {typ.lower()} token")
    token_use = claims.get("token_use")  # Cognito: "access" or "id"
    if "token_use" in claims and token_use != "access":  # noqa: S105 - a claim value
        raise WrongTokenType("token_use is not access")
    typ_claim = claims.get("typ")  # Keycloak: "Bearer", "ID", "Refresh", ...
    if isinstance(typ_claim, str) and typ_claim.lower() in _OTHER_TYP_CLAIMS:
        raise WrongTokenType("the typ claim names another kind of token")
    # An OIDC ID token: minted for a client (aud is the client id), with a
    # hash or nonce only ID tokens carry and no scope. Recognisable only when
    # the client ids are known (AUTHORIZED_PARTIES); an access token of every
    # listed provider has a scope, typ Bearer or token_use access instead.
    if (
        parties
        and any(name in claims for name in _ID_TOKEN_CLAIMS)
        and "scope" not in claims
        and "scp" not in claims
        and not (isinstance(typ_claim, str) and typ_claim.lower() == "bearer")
        and not parties.isdisjoint(_audiences(claims))
    ):
        raise WrongTokenType("the token is an OpenID Connect ID token minted for a client")


# -- 5. roles and scopes -------------------------------------------------------


def _path(setting: str, value: Any) -> ClaimPath:
    if isinstance(value, str) and value:
        return (value,)
    if isinstance(value, (list, tuple)) and value and all(isinstance(v, str) and v for v in value):
        return tuple(value)
    raise ConfigurationError(
        setting,
        f'{value!r} is not a claim path; give a claim name ("roles", '
        '"https://example.com/roles") or a list of segments (["realm_access", "roles"])',
    )


def claim_paths(setting: str, value: Any) -> tuple[ClaimPath, ...]:
    """One or several claim paths.

    A string is ONE literal claim name, never split: ``"realm_access.roles"``
    and ``"https://example.com/roles"`` are claim names as providers write
    them. A list of strings is ONE path of segments
    (``["resource_access", "my.client", "roles"]``). Several paths are a
    list of paths, each a string or a list of segments
    (``[["realm_access", "roles"], "groups"]``).
    """
    if (
        isinstance(value, (list, tuple))
        and value
        and any(isinstance(v, list | tuple) for v in value)
    ):
        paths = tuple(_path(f"{setting}[{i}]", v) for i, v in enumerate(value))
    else:
        paths = (_path(setting, value),)
    return tuple(dict.fromkeys(paths))


_MISSING = object()
_NO_ROLES: frozenset[str] = frozenset()


def read_path(claims: Mapping[str, Any], path: ClaimPath) -> Any:
    """The value at ``path`` in ``claims``; ``None`` when a segment is missing."""
    value: Any = claims
    for segment in path:
        if not isinstance(value, Mapping):
            return None
        value = value.get(segment, _MISSING)
        if value is _MISSING:
            return None
    return value


def _shown(path: ClaimPath) -> str:
    return path[0] if len(path) == 1 else "/".join(path)


def _from_value(path: ClaimPath, value: Any, *, scopes: bool, booleans: bool) -> Iterable[str]:
    """Names at one path: a string (scopes: space-separated), an array of strings, object keys."""
    where = _shown(path)
    if value is None:
        return ()
    if isinstance(value, str):
        if scopes:
            return parse_scope(value, name=where)
        return (value,) if value else ()
    if isinstance(value, (list, tuple)):
        if not all(isinstance(v, str) and v for v in value) or (
            scopes and not all(map(is_scope_name, value))
        ):
            raise InvalidScope(f"{where} holds a value that is not a name")
        return value
    if isinstance(value, Mapping):
        # Zitadel: {"role": {"org id": "org domain"}}; with booleans also
        # {"admin": true} (a false or any other value grants nothing).
        names = [k for k, v in value.items() if isinstance(v, Mapping) or (booleans and v is True)]
        if scopes and not all(map(is_scope_name, names)):
            raise InvalidScope(f"{where} holds a key that is not a scope name")
        return names
    raise InvalidScope(f"{where} is not a string, an array or an object")


def role_names(
    claims: Mapping[str, Any], paths: Sequence[ClaimPath], *, booleans: bool = False
) -> frozenset[str]:
    """Roles from ``paths``: arrays give their strings, objects their keys, a string itself.

    A value of another shape raises :class:`~jwt_guard_core.token.InvalidScope`
    (the verifier refuses the token with ``invalid_claim``): a token whose
    roles different readers could read differently grants none.
    """
    found: set[str] = set()
    for path in paths:
        # Most tokens carry no roles: an absent claim costs one lookup.
        value = claims.get(path[0]) if len(path) == 1 else read_path(claims, path)
        if value is not None:
            found.update(_from_value(path, value, scopes=False, booleans=booleans))
    return frozenset(found) if found else _NO_ROLES


def _scope_names(
    claims: Mapping[str, Any], paths: Sequence[ClaimPath], booleans: bool
) -> frozenset[str]:
    found: set[str] = set()
    for path in paths:
        found.update(_from_value(path, read_path(claims, path), scopes=True, booleans=booleans))
    return frozenset(found)


def check_roles(token: VerifiedToken, required: Iterable[str], *, any_of: bool = False) -> None:
    """Raise :class:`~jwt_guard_core.errors.InsufficientRole` unless ``token`` has the roles.

    Every role in ``required``, or one of them with ``any_of=True``; exact,
    case-sensitive names.
    """
    needed = tuple(required)
    if not needed:
        return
    roles = token.roles
    if not (not roles.isdisjoint(needed) if any_of else roles.issuperset(needed)):
        raise InsufficientRole(needed)


def role_list(setting: str, roles: Iterable[str]) -> tuple[str, ...]:
    """Role names for a decorator or permission, checked when the view is declared."""
    if isinstance(roles, str):
        roles = (roles,)
    names = tuple(roles)
    if not names or not all(isinstance(r, str) and r for r in names):
        raise ConfigurationError(setting, f"{names!r} is not one or more role names")
    return names


# -- the policy ----------------------------------------------------------------


@dataclass(frozen=True)
class Grants:
    """What a token grants: its roles and scopes."""

    roles: frozenset[str]
    scopes: frozenset[str]


def _claims_check(setting: str, value: Any) -> tuple[ClaimsCheck | None, bool]:
    if value is None:
        return None, False
    if not callable(value):
        raise ConfigurationError(setting, f"{value!r} is not callable; give f(token)")
    call = getattr(value, "__call__", None)  # noqa: B004 - async __call__ objects count too
    is_async = inspect.iscoroutinefunction(value) or inspect.iscoroutinefunction(call)
    return value, is_async


@dataclass(frozen=True)
class ClaimsPolicy:
    """One issuer's claims policy, prepared once (every setting validated, named).

    Args:
        claim_values: ``{claim: value or [values]}``; a list-valued claim
            passes when one element is allowed.
        authorized_parties: allowed ``azp`` (or ``client_id``) values.
        token_kind: ``"access"`` (default) refuses tokens that are
            recognisably not access tokens; ``"any"`` does not look.
        roles_claim / scopes_claim: claim paths (see :func:`claim_paths`);
            scopes default to ``scope`` and ``scp``.
        roles_booleans: in an object, a key whose value is ``true`` is a role.
        claims_check: ``f(token)``, sync or async, run last; it refuses by
            raising :class:`~jwt_guard_core.errors.InvalidClaim` (or returning
            ``False``).
        prefix: how the settings are named in errors (``issuers['...'].``).
    """

    claim_values: Any = None
    authorized_parties: Any = None
    token_kind: Literal["access", "any"] = "access"  # noqa: S105 - a kind, not a secret
    roles_claim: Any = "roles"
    scopes_claim: Any = None
    roles_booleans: bool = False
    claims_check: Any = None
    prefix: str = ""

    # Prepared in __post_init__.
    _values: Mapping[str, frozenset[Any]] = field(init=False, repr=False, compare=False)
    _parties: frozenset[str] = field(init=False, repr=False, compare=False)
    _roles: tuple[ClaimPath, ...] = field(init=False, repr=False, compare=False)
    _scopes: tuple[ClaimPath, ...] = field(init=False, repr=False, compare=False)
    _check: ClaimsCheck | None = field(init=False, repr=False, compare=False)
    is_async: bool = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        p = self.prefix
        values = claim_values(f"{p}claim_values", self.claim_values)
        parties: frozenset[str] = frozenset()
        if self.authorized_parties is not None:
            given = self.authorized_parties
            items = (given,) if isinstance(given, str) else given
            if (
                not isinstance(items, (list, tuple, set, frozenset))
                or not items
                or not all(isinstance(v, str) and v for v in items)
            ):
                raise ConfigurationError(
                    f"{p}authorized_parties", f"{given!r} is not a non-empty list of client ids"
                )
            parties = frozenset(items)
        if self.token_kind not in TOKEN_KINDS:
            raise ConfigurationError(
                f"{p}token_kind", f"{self.token_kind!r} is not one of {', '.join(TOKEN_KINDS)}"
            )
        if not isinstance(self.roles_booleans, bool):
            raise ConfigurationError(f"{p}roles_booleans", f"{self.roles_booleans!r} is not a bool")
        roles = claim_paths(f"{p}roles_claim", self.roles_claim)
        scopes = (
            DEFAULT_SCOPE_PATHS
            if self.scopes_claim is None
            else claim_paths(f"{p}scopes_claim", self.scopes_claim)
        )
        check, is_async = _claims_check(f"{p}claims_check", self.claims_check)
        object.__setattr__(self, "_values", values)
        object.__setattr__(self, "_parties", parties)
        object.__setattr__(self, "_roles", roles)
        object.__setattr__(self, "_scopes", scopes)
        object.__setattr__(self, "_check", check)
        object.__setattr__(self, "is_async", is_async)

    @property
    def parties(self) -> frozenset[str]:
        """The authorized parties (empty: not checked)."""
        return self._parties

    def check(self, claims: Mapping[str, Any], header: Mapping[str, Any]) -> Grants:
        """Steps 1 to 4 on verified claims; the roles and scopes they grant, or a TokenError."""
        if self._values:
            _check_values(claims, self._values)
        if self._parties:
            _check_party(claims, self._parties)
        if self.token_kind == "access":  # noqa: S105 - a kind, not a secret
            _check_kind(claims, header, self._parties)
        try:
            return Grants(
                roles=role_names(claims, self._roles, booleans=self.roles_booleans),
                scopes=scopes_from_claims(claims)
                if self.scopes_claim is None
                else _scope_names(claims, self._scopes, self.roles_booleans),
            )
        except InvalidScope as exc:
            raise InvalidClaim(str(exc)) from None

    def run_check(self, token: VerifiedToken) -> None:
        """The user's ``claims_check`` (sync); an async one needs :meth:`arun_check`."""
        check = self._check
        if check is None:
            return
        if self.is_async:
            raise ConfigurationError(
                f"{self.prefix}claims_check",
                "is async and this verification is synchronous; verify with averify, or give a "
                "plain function",
            )
        self._outcome(lambda: check(token))

    async def arun_check(self, token: VerifiedToken) -> None:
        """The user's ``claims_check``; an async one is awaited."""
        check = self._check
        if check is None:
            return
        if self.is_async:
            try:
                result = await check(token)  # type: ignore[misc]
            except TokenError:
                raise
            except Exception as exc:
                raise _check_failed(exc) from None
            self._outcome(lambda: result)
        else:
            self._outcome(lambda: check(token))

    @staticmethod
    def _outcome(call: Callable[[], Any]) -> None:
        try:
            result = call()
        except TokenError:
            raise  # its reason and detail are logged by the verifier, never sent
        except Exception as exc:
            raise _check_failed(exc) from None
        if result is False:
            raise InvalidClaim("the claims check returned False", reason="claims_check_failed")


def _check_failed(exc: Exception) -> TokenError:
    # A bug in the user's check must not become a 500 nor an accepted token.
    logger.error("the claims check raised an unexpected error", exc_info=exc)
    return TokenError("the claims check failed", reason="verification_error")
