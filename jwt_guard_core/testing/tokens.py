"""``TokenFactory``: valid tokens and every classic kind of bad one, for a :class:`LocalIssuer`.

Each token is signed by :class:`~jwt_guard_core.signing.TokenIssuer` (or,
for a claim set it would refuse to produce, with the same key and PyJWT
call), so only the one property a variant names is wrong:

============================  ===========================================  ==================
method                        what is wrong                                verifier's reason
============================  ===========================================  ==================
``token()``                   nothing                                      accepted
``expired()``                 ``exp`` is an hour ago                       ``token_expired``
``not_yet_valid()``           ``nbf`` (and ``iat``) an hour ahead          ``not_yet_valid``
``wrong_audience()``          ``aud`` is another API                       ``bad_audience``
``wrong_issuer()``            ``iss`` is another issuer, same key          ``bad_issuer``
``unknown_key()``             signed by a key never published              ``unknown_kid``
``signed_by_rotated_key()``   signed by a key removed from the JWKS        ``unknown_kid``
``alg_none()``                unsigned, ``"alg": "none"``                  ``alg_not_allowed``
``missing_claim("exp")``      the claim is absent, validly signed          ``missing_claim``
``tampered()``                payload changed after signing                ``bad_signature``
============================  ===========================================  ==================

Times come from the factory's clock, so an expired or future token needs no
sleeping: ``TokenFactory(issuer, clock=lambda: 1_800_000_000)``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Literal

from ..encoding import b64url_decode, b64url_encode
from ..errors import ConfigurationError
from ..signing import TokenIssuer
from ..signing.issuer import DEFAULT_LIFETIME

if TYPE_CHECKING:  # issuer.py builds factories (LocalIssuer.tokens): no import cycle
    from .issuer import LocalIssuer

__all__ = ["DEFAULT_SUBJECT", "WRONG_AUDIENCE", "WRONG_ISSUER", "TokenFactory"]

DEFAULT_SUBJECT = "user-1"
WRONG_AUDIENCE = "https://another-api.invalid"
WRONG_ISSUER = "https://another-issuer.invalid"
# Far beyond the largest leeway a verifier accepts (300 s).
DEFAULT_OFFSET = 3600.0
_NO_SIGNATURE = ""


def _seconds(name: str, value: float | timedelta) -> float:
    seconds = value.total_seconds() if isinstance(value, timedelta) else value
    if (
        isinstance(seconds, bool)
        or not isinstance(seconds, (int, float))
        or not math.isfinite(seconds)
        or seconds <= 0
    ):
        raise ConfigurationError(name, f"{value!r} is not a positive number of seconds")
    return float(seconds)


def _names(name: str, value: object) -> list[str]:
    items = list(value) if isinstance(value, Iterable) and not isinstance(value, str) else None
    if items is None or not all(isinstance(v, str) and v for v in items):
        raise ConfigurationError(name, "give a list of non-empty names, e.g. ['admin']")
    return items


def _mapping(name: str, value: object) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ConfigurationError(name, f"{type(value).__name__} given; give a dict")
    return value


def _segments(token: str) -> tuple[dict[str, Any], dict[str, Any], str]:
    header, payload, signature = token.split(".")
    return json.loads(b64url_decode(header)), json.loads(b64url_decode(payload)), signature


def _json(name: str, value: Mapping[str, Any]) -> bytes:
    try:
        return json.dumps(value, separators=(",", ":"), allow_nan=False).encode("utf-8")
    except (TypeError, ValueError):
        raise ConfigurationError(
            name, "values must be JSON: strings, finite numbers, booleans, None, lists, dicts"
        ) from None


def _encode(name: str, part: Mapping[str, Any]) -> str:
    return b64url_encode(_json(name, part))


class TokenFactory:
    """Access tokens from a :class:`LocalIssuer`, good and bad.

    Every method takes the arguments of :meth:`token` (``sub``, ``scopes``,
    ``roles``, ``claims``, ``audience``, ``lifetime``), so a bad token can
    carry exactly the claims a good one would: ``expired(scopes=["admin"])``.

    Args:
        issuer: the :class:`LocalIssuer` whose keys sign.
        clock: Unix time of minting; the issuer's clock by default.
    """

    def __init__(self, issuer: LocalIssuer, *, clock: Callable[[], float] | None = None) -> None:
        # Duck-typed (what the factory signs with): importing LocalIssuer here
        # would close an import cycle, issuer.py builds factories.
        if not callable(getattr(issuer, "_active_key", None)):
            raise ConfigurationError("issuer", "must be a LocalIssuer")
        if clock is not None and not callable(clock):
            raise ConfigurationError("clock", "must be a callable returning Unix time in seconds")
        self._issuer = issuer
        self._clock = clock or issuer.clock

    @property
    def issuer(self) -> LocalIssuer:
        return self._issuer

    def token(
        self,
        sub: str = DEFAULT_SUBJECT,
        *,
        scopes: Iterable[str] = (),
        roles: Iterable[str] | None = None,
        claims: Mapping[str, Any] | None = None,
        audience: str | Sequence[str] | None = None,
        lifetime: float | timedelta | None = None,
    ) -> str:
        """A valid access token for ``sub``.

        Args:
            sub: the subject.
            scopes: put space-separated in ``scope``.
            roles: a ``roles`` claim (the Django adapter's default ``ROLES_CLAIM``).
            claims: more claims; registered ones (``exp``, ``aud``, ...) are
                set through the other arguments.
            audience: ``aud``; the issuer's audience by default.
            lifetime: seconds (or a timedelta) until ``exp``; 15 minutes by default.
        """
        return self._mint(
            sub, scopes=scopes, roles=roles, claims=claims, audience=audience, lifetime=lifetime
        )

    def _mint(
        self,
        sub: str,
        *,
        at: float | None = None,
        iss: str | None = None,
        key: Literal["active", "removed", "foreign"] = "active",
        scopes: Iterable[str] = (),
        roles: Iterable[str] | None = None,
        claims: Mapping[str, Any] | None = None,
        audience: str | Sequence[str] | None = None,
        lifetime: float | timedelta | None = None,
    ) -> str:
        extra = dict(_mapping("claims", claims)) if claims is not None else {}
        if roles is not None:
            extra["roles"] = _names("roles", roles)
        now = self._clock() if at is None else at
        signer = TokenIssuer(
            self._issuer._signing_manager(key),
            issuer=iss if iss is not None else self._issuer.url,
            audience=self._issuer.audience,
            clock=lambda: now,
        )
        return signer.issue_access_token(
            sub, scopes=scopes, audience=audience, claims=extra or None, lifetime=lifetime
        )

    # -- time

    def expired(
        self, sub: str = DEFAULT_SUBJECT, *, by: float | timedelta = DEFAULT_OFFSET, **options: Any
    ) -> str:
        """A token whose ``exp`` passed ``by`` seconds ago (an hour by default)."""
        lifetime = _seconds("lifetime", options.pop("lifetime", None) or DEFAULT_LIFETIME)
        at = self._clock() - lifetime - _seconds("by", by)
        return self._mint(sub, at=at, lifetime=lifetime, **options)

    def not_yet_valid(
        self, sub: str = DEFAULT_SUBJECT, *, by: float | timedelta = DEFAULT_OFFSET, **options: Any
    ) -> str:
        """A token minted by a clock ``by`` seconds ahead: ``nbf`` (and ``iat``) in the future."""
        return self._mint(sub, at=self._clock() + _seconds("by", by), **options)

    # -- who it is for, who made it

    def wrong_audience(
        self, sub: str = DEFAULT_SUBJECT, *, audience: str = WRONG_AUDIENCE, **options: Any
    ) -> str:
        """A token for another API (``aud``)."""
        return self._mint(sub, audience=audience, **options)

    def wrong_issuer(
        self, sub: str = DEFAULT_SUBJECT, *, issuer: str = WRONG_ISSUER, **options: Any
    ) -> str:
        """A token naming another ``iss``, signed with this issuer's key."""
        return self._mint(sub, iss=issuer, **options)

    # -- keys

    def unknown_key(self, sub: str = DEFAULT_SUBJECT, **options: Any) -> str:
        """A token signed by a key this issuer never published (another kid)."""
        return self._mint(sub, key="foreign", **options)

    def signed_by_rotated_key(self, sub: str = DEFAULT_SUBJECT, **options: Any) -> str:
        """A token signed by the issuer's last key removed from the JWKS.

        Keys leave the JWKS with ``issuer.rotate(keep_previous=False)``; the
        issuer's very first key was removed when it started, so there is
        always one.
        """
        return self._mint(sub, key="removed", **options)

    # -- forms no issuer should produce

    def alg_none(self, sub: str = DEFAULT_SUBJECT, **options: Any) -> str:
        """The token unsigned: header ``"alg": "none"``, empty signature (RFC 7519 section 6)."""
        header, payload, _ = _segments(self.token(sub, **options))
        header["alg"] = "none"
        return f"{_encode('header', header)}.{_encode('claims', payload)}.{_NO_SIGNATURE}"

    def missing_claim(self, name: str, sub: str = DEFAULT_SUBJECT, **options: Any) -> str:
        """A validly signed token without claim ``name`` (refused when the verifier requires it)."""
        header, payload, _ = _segments(self.token(sub, **options))
        if not isinstance(name, str) or name not in payload:
            raise ConfigurationError("name", f"{name!r} is not a claim of the token to remove")
        del payload[name]
        return self.sign(payload, header=header)

    def tampered(
        self,
        sub: str = DEFAULT_SUBJECT,
        *,
        changes: Mapping[str, Any] | None = None,
        **options: Any,
    ) -> str:
        """The token with its payload changed after signing (``sub`` by default), signature kept."""
        header, payload, signature = _segments(self.token(sub, **options))
        wanted = _mapping("changes", changes) if changes is not None else {"sub": "admin"}
        changed = {**payload, **wanted}
        if changed == payload:
            changed["sub"] = f"{payload['sub']}-tampered"
        return f"{_encode('header', header)}.{_encode('changes', changed)}.{signature}"

    def sign(self, claims: Mapping[str, Any], *, header: Mapping[str, Any] | None = None) -> str:
        """Any claim set, signed with the issuer's active key: for cases the other methods lack.

        Nothing is added or checked: give every claim the verifier needs.
        The header gets the key's ``alg`` and ``kid`` and ``typ: at+jwt``
        unless ``header`` says otherwise.
        """
        key = self._issuer._active_key()
        fields = {"kid": key.kid, "typ": "at+jwt", **_mapping("header", header or {})}
        fields["alg"] = key.info.algorithm
        # Signed through the key's Signer (any algorithm the issuer offers,
        # ML-DSA included), the claim set exactly as given.
        signing_input = (
            f"{_encode('header', fields)}.{_encode('claims', _mapping('claims', claims))}"
        )
        signature = key.signer.sign(signing_input.encode("ascii"))
        return f"{signing_input}.{b64url_encode(signature)}"

    def __repr__(self) -> str:
        return f"TokenFactory({self._issuer!r})"
