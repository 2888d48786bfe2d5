"""The result of a successful verification."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from types import MappingProxyType
from typing import Any, NoReturn

__all__ = [
    "InvalidScope",
    "ReadOnlyDict",
    "VerifiedToken",
    "frozen_mapping",
    "is_scope_name",
    "parse_scope",
    "scopes_from_claims",
]


# RFC 6749 section 3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ), and a
# scope string is scope-token *( SP scope-token ). Only U+0020 separates:
# splitting on any other whitespace would let "files:read\tadmin" (or NBSP,
# U+3000, ...) grant the separate scope "admin".
_SCOPE_TOKEN = r"[\x21\x23-\x5b\x5d-\x7e]+"  # noqa: S105 - a grammar, not a password
_SCOPE_NAME = re.compile(_SCOPE_TOKEN)
_SCOPE_STRING = re.compile(rf"{_SCOPE_TOKEN}(?: {_SCOPE_TOKEN})*")


class InvalidScope(ValueError):
    """A scope value outside RFC 6749 section 3.3's grammar. The message is safe to log."""


def parse_scope(value: str, *, name: str = "scope") -> tuple[str, ...]:
    """Split an RFC 6749 section 3.3 scope string into its scope names.

    Strict: names are separated by exactly one U+0020; leading, trailing or
    doubled spaces, any other whitespace or control character, ``"`` and
    ``\\`` make the whole value invalid (:class:`InvalidScope`), so every
    reader of the value sees the same scopes. The empty string is no scopes.
    """
    if not value:
        return ()
    if _SCOPE_STRING.fullmatch(value) is None:
        raise InvalidScope(f"{name} is not a space-separated list of scope names (RFC 6749 3.3)")
    return tuple(value.split(" "))


def is_scope_name(value: object) -> bool:
    """Whether ``value`` is one RFC 6749 scope-token: printable ASCII but space, ``"``, ``\\``."""
    return isinstance(value, str) and _SCOPE_NAME.fullmatch(value) is not None


def scopes_from_claims(claims: Mapping[str, Any]) -> frozenset[str]:
    """Scopes from ``scope`` (RFC 8693/9068: space-separated) or ``scp``.

    ``scp`` is a list at most providers and a space-separated string at Entra;
    both are read. A value of another type, a string outside RFC 6749's
    grammar (see :func:`parse_scope`) or a list element that is not one
    scope name raises :class:`InvalidScope`: a token whose scopes different
    parsers could read differently grants none (the verifier refuses it
    with ``invalid_claim``).
    """
    if "scope" in claims:
        scope = claims["scope"]
        if not isinstance(scope, str):
            raise InvalidScope("scope is not a space-separated string")
        if "scp" not in claims:
            return _scope_set(scope)
        scopes = set(_scope_set(scope))
    elif "scp" not in claims:
        return _NO_SCOPES
    else:
        scopes = set()
    if "scp" in claims:
        scp = claims["scp"]
        if isinstance(scp, str):
            scopes.update(parse_scope(scp, name="scp"))
        elif isinstance(scp, (list, tuple)):
            if not all(map(is_scope_name, scp)):
                raise InvalidScope("scp holds a value that is not one scope name (RFC 6749 3.3)")
            scopes.update(scp)
        else:
            raise InvalidScope("scp is not a string or a list of strings")
    return frozenset(scopes)


_NO_SCOPES: frozenset[str] = frozenset()
# An API sees a handful of distinct scope strings: each is parsed once.
_SCOPE_SETS: dict[str, frozenset[str]] = {}
_SCOPE_SETS_SIZE = 256


def _scope_set(value: str) -> frozenset[str]:
    """:func:`parse_scope` as a frozenset, remembered for the most recent strings."""
    scopes = _SCOPE_SETS.get(value)
    if scopes is None:
        scopes = frozenset(parse_scope(value))
        if len(_SCOPE_SETS) >= _SCOPE_SETS_SIZE:
            _SCOPE_SETS.clear()
        _SCOPE_SETS[value] = scopes
    return scopes


class ReadOnlyDict(dict[str, Any]):
    """A ``dict`` that refuses every change.

    Unlike a ``mappingproxy`` it is still a ``dict``, so ``json.dumps``,
    ``JsonResponse`` and ``jsonify`` accept verified claims as they are.
    """

    __slots__ = ()

    def _refuse(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise TypeError("verified claims and headers are read-only; copy them with dict(...)")

    __setitem__ = _refuse
    __delitem__ = _refuse
    __ior__ = _refuse
    clear = _refuse
    pop = _refuse
    popitem = _refuse
    setdefault = _refuse
    update = _refuse

    def copy(self) -> dict[str, Any]:
        """A plain, mutable, shallow copy."""
        return dict(self)

    def __reduce__(self) -> tuple[Any, ...]:
        # copy, deepcopy and pickle rebuild through __init__, not __setitem__.
        return (ReadOnlyDict, (dict(self),))


def _frozen(value: Any) -> Any:
    """A read-only copy of a JSON value: objects become ReadOnlyDicts, arrays tuples."""
    cls = type(value)
    if cls in _SCALARS:
        return value
    if isinstance(value, Mapping):
        return ReadOnlyDict({k: _frozen(v) for k, v in value.items()})
    if isinstance(value, (list, tuple)):
        return tuple(_frozen(v) for v in value)
    return value


def frozen_mapping(value: Mapping[str, Any]) -> ReadOnlyDict:
    """A read-only copy of a JSON object, all the way down (objects and arrays included).

    A flat :class:`ReadOnlyDict` (only scalar values) is already immutable
    and is returned as it is, so a cached header is shared, not copied.
    """
    if type(value) is ReadOnlyDict and _SCALARS.issuperset(map(type, value.values())):
        return value
    # Most claim sets are flat: then it is one shallow copy, no recursion.
    plain = value.copy() if isinstance(value, (dict, MappingProxyType)) else dict(value)
    if _SCALARS.issuperset(map(type, plain.values())):
        return ReadOnlyDict(plain)
    return ReadOnlyDict({k: _frozen(v) for k, v in plain.items()})


# The types json.loads produces for scalars; anything else gets the slow path.
_SCALARS = frozenset({str, int, float, bool, type(None)})


@dataclass(frozen=True)
class VerifiedToken:
    """A token whose signature, claims and revocation state have been checked.

    ``claims`` and ``header`` are read-only all the way down: JSON objects
    are :class:`ReadOnlyDict` (a ``dict`` that refuses changes, so it still
    serialises as JSON) and arrays are tuples, so nothing that
    was verified can change afterwards (a handler appending to ``aud`` or a
    group list would otherwise alter what later code trusts). Nothing in
    this object is trusted unless the verifier checked it: ``issuer`` is the
    issuer the token was matched to, ``kid`` the key that verified it,
    ``algorithm`` the ``alg`` it was verified with.
    """

    claims: Mapping[str, Any] = field(repr=False)
    header: Mapping[str, Any] = field(repr=False)
    kid: str | None
    issuer: str | None
    subject: str | None
    scopes: frozenset[str]
    expires_at: datetime | None
    algorithm: str
    #: The roles the token grants, read from ``ROLES_CLAIM`` (empty when none).
    roles: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        object.__setattr__(self, "claims", frozen_mapping(self.claims))
        object.__setattr__(self, "header", frozen_mapping(self.header))
        object.__setattr__(self, "scopes", frozenset(self.scopes))
        object.__setattr__(self, "roles", frozenset(self.roles))

    @classmethod
    def _read_only(
        cls,
        claims: ReadOnlyDict,
        header: ReadOnlyDict,
        kid: str | None,
        issuer: str | None,
        subject: str | None,
        scopes: frozenset[str],
        algorithm: str,
        roles: frozenset[str] = frozenset(),
    ) -> VerifiedToken:
        """The verifier's constructor: ``claims`` and ``header`` are already read-only.

        They come from :func:`~jwt_guard_core.encoding.parse_read_only_object`,
        read-only all the way down as they were decoded, so they are held as
        they are instead of copied on every verification. ``expires_at`` is
        made from the verified ``exp`` on first access (see ``__getattr__``).
        """
        token = object.__new__(cls)
        object.__setattr__(
            token,
            "__dict__",
            {
                "claims": claims,
                "header": header,
                "kid": kid,
                "issuer": issuer,
                "subject": subject,
                "scopes": scopes,
                "algorithm": algorithm,
                "roles": roles,
            },
        )
        return token

    def __getattr__(self, name: str) -> Any:
        # Reached only for an attribute missing from the instance: the
        # verifier leaves expires_at to be built here, on first use, since
        # most requests never read it and a datetime costs a microsecond.
        if name != "expires_at":
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        exp = self.claims.get("exp")
        value = None if exp is None else datetime.fromtimestamp(exp, tz=timezone.utc)
        object.__setattr__(self, "expires_at", value)
        return value

    @property
    def jti(self) -> str | None:
        """The token's ``jti`` (RFC 7519 section 4.1.7), or ``None``."""
        jti = self.claims.get("jti")
        return jti if isinstance(jti, str) else None

    @property
    def audience(self) -> tuple[str, ...]:
        """The token's ``aud`` as a tuple, whether it was a string or a list."""
        aud = self.claims.get("aud")
        if isinstance(aud, str):
            return (aud,)
        if isinstance(aud, (list, tuple)):
            return tuple(a for a in aud if isinstance(a, str))
        return ()

    def has_scopes(self, *required: str) -> bool:
        """True when the token carries every scope in ``required`` (all of them)."""
        return self.scopes.issuperset(required)

    def has_roles(self, *required: str) -> bool:
        """True when the token carries every role in ``required`` (all of them)."""
        return self.roles.issuperset(required)
