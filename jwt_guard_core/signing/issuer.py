"""``TokenIssuer``: short-lived access tokens in the RFC 9068 profile.

Every token carries ``iss``, ``sub``, ``aud``, ``iat``, ``nbf``, ``exp`` and
a random ``jti``, and its header names the key (``kid``) and the type
(``typ: at+jwt``, RFC 9068 section 2.1) so that a verifier can refuse an ID
token or any other JWT presented as an access token. The manager's
active key signs through its :class:`~jwt_guard_core.signing.Signer`, so
the issuer works the same whether the key is in a file, in Redis or on a
hardware token.

What a token may carry is checked before anything is signed: the registered
claims are the issuer's alone (a caller-supplied ``exp`` or ``aud`` through
``claims=`` is the classic way a token ends up living for ever or being
valid everywhere), and claim names that look like secrets are refused,
because a JWS payload is only base64url: anyone holding the token reads it
(RFC 8725 section 3.6 / RFC 9068 section 6).
"""

from __future__ import annotations

import json
import math
import re
import secrets
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from ..errors import ConfigurationError
from ..jwe.issuing import AudienceEncryption
from ..jwe.keys import RecipientKey
from .errors import IssuanceError, KeyStoreError
from .manager import KeyManager
from .signer import encode_jws

__all__ = ["REGISTERED_CLAIMS", "TokenIssuer"]

DEFAULT_LIFETIME = 900.0
ACCESS_TOKEN_TYPE = "at+jwt"  # noqa: S105 - a media type
# RFC 7519 section 4.1 plus scope (RFC 9068 section 2.2.3), all set here.
REGISTERED_CLAIMS = frozenset({"iss", "sub", "aud", "exp", "nbf", "iat", "jti", "scope"})
# jti entropy: 16 bytes = 128 bits from the OS CSPRNG (RFC 7519 section
# 4.1.7 asks for a negligible collision probability; revocation lists key on it).
# Hex, not base64url: a jti that starts with "-" reads as an option on every
# command line an operator pastes it into (jwt_guard_revoke --jti ...).
_JTI_BYTES = 16
# RFC 6749 section 3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E )
_SCOPE_TOKEN = re.compile(r"[\x21\x23-\x5B\x5D-\x7E]+")
# Whole words in a claim name, and substrings of the joined name, that mark
# a secret or regulated personal data. "pin" and "ssn" only as whole words:
# "shipping" and "lessons" are fine.
_SECRET_WORDS = frozenset(
    {"password", "passwd", "passphrase", "pwd", "pin", "ssn", "cvv", "cvv2", "cvc", "iban"}
)
_SECRET_FRAGMENTS = (
    "password",
    "passwd",
    "passphrase",
    "secret",
    "socialsecurity",
    "creditcard",
    "cardnumber",
    "ccnumber",
    "cardno",
    "securitycode",
    "privatekey",
    "apikey",
    "accesskey",
    "refreshtoken",
)
_WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")
_MAX_CLAIM_DEPTH = 16


def _secret_like(name: str) -> bool:
    words = [w.lower() for w in _WORD.findall(name)]
    if _SECRET_WORDS.intersection(words):
        return True
    joined = "".join(words)
    return any(fragment in joined for fragment in _SECRET_FRAGMENTS)


def _check_names(value: Any, path: str, depth: int = 0) -> None:
    """Refuse secret-looking member names at any depth of a claim value."""
    if depth > _MAX_CLAIM_DEPTH:
        raise IssuanceError("claims", f"{path} is nested more than {_MAX_CLAIM_DEPTH} levels deep")
    if isinstance(value, Mapping):
        for name, inner in value.items():
            if not isinstance(name, str):
                raise IssuanceError("claims", f"{path} has a member name that is not a string")
            where = f"{path}.{name}" if path else name
            if _secret_like(name):
                raise IssuanceError(
                    "claims",
                    f"{where!r} looks like a secret or sensitive personal data; a JWT payload is "
                    "readable by anyone who holds the token (RFC 8725 section 3.6), so keep it "
                    "server-side and put a reference in the token instead",
                )
            _check_names(inner, where, depth + 1)
    elif isinstance(value, (list, tuple)):
        for index, inner in enumerate(value):
            _check_names(inner, f"{path}[{index}]", depth + 1)


def _lifetime(setting: str, value: float | timedelta, error: type[Exception]) -> float:
    if isinstance(value, timedelta):
        value = value.total_seconds()
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or value < 1
    ):
        message = f"{value!r} is not a number of seconds (1 or more) or a timedelta"
        if error is IssuanceError:
            raise IssuanceError(setting, message)
        raise ConfigurationError(setting, message)
    return float(value)


def _audiences(value: str | Sequence[str], error: Callable[[str], Exception]) -> str | list[str]:
    items = (
        [value] if isinstance(value, str) else list(value) if isinstance(value, Sequence) else []
    )
    if not items or not all(isinstance(a, str) and a for a in items):
        raise error("give a non-empty string or a list of non-empty strings")
    unique = list(dict.fromkeys(items))
    # RFC 7519 section 4.1.3: a single audience may be a plain string.
    return unique[0] if len(unique) == 1 else unique


class TokenIssuer:
    """Signs access tokens with a :class:`~jwt_guard_core.signing.KeyManager`'s active key.

    Args:
        keys: the key manager; its algorithm (ES256 by default) is the
            token's ``alg``.
        issuer: the ``iss`` of every token, usually this service's URL;
            verifiers match it exactly.
        audience: the default ``aud``: the API(s) the tokens are for. Each
            call may give its own; one of the two is required.
        default_lifetime: ``exp - iat`` when a call gives none (15 minutes).
        max_lifetime: the longest lifetime a call may ask for; at most the
            manager's ``max_token_lifetime`` (the time retired keys stay
            published), which is also the default.
        clock: Unix time source; the manager's clock by default.
        encrypt_for: audiences whose tokens are wrapped in a nested JWE
            (``cty: JWT``), each mapped to its
            :class:`~jwt_guard_core.jwe.RecipientKey` (public key, ``alg``
            and ``enc``, no defaults). Default ``None``: plain JWS.
    """

    def __init__(
        self,
        keys: KeyManager,
        *,
        issuer: str,
        audience: str | Sequence[str] | None = None,
        default_lifetime: float | timedelta = DEFAULT_LIFETIME,
        max_lifetime: float | timedelta | None = None,
        clock: Callable[[], float] | None = None,
        encrypt_for: Mapping[str, RecipientKey] | None = None,
    ) -> None:
        self._encryption = AudienceEncryption(encrypt_for) if encrypt_for is not None else None
        if not isinstance(keys, KeyManager):
            raise ConfigurationError("keys", "must be a KeyManager")
        if not isinstance(issuer, str) or not issuer:
            raise ConfigurationError("issuer", "must be a non-empty string (this service's URL)")
        self._keys = keys
        self._issuer = issuer

        def _config_error(message: str) -> Exception:
            return ConfigurationError("audience", message)

        self._audience = _audiences(audience, _config_error) if audience is not None else None
        manager_max = keys.max_token_lifetime
        self._max_lifetime = (
            _lifetime("max_lifetime", max_lifetime, ConfigurationError)
            if max_lifetime is not None
            else manager_max
        )
        if self._max_lifetime > manager_max:
            raise ConfigurationError(
                "max_lifetime",
                f"{self._max_lifetime:g} s is longer than the key manager's max_token_lifetime "
                f"({manager_max:g} s): tokens would outlive the publication of their key",
            )
        self._default_lifetime = _lifetime("default_lifetime", default_lifetime, ConfigurationError)
        if self._default_lifetime > self._max_lifetime:
            raise ConfigurationError(
                "default_lifetime",
                f"{self._default_lifetime:g} s is over max_lifetime ({self._max_lifetime:g} s)",
            )
        if clock is not None and not callable(clock):
            raise ConfigurationError("clock", "must be a callable returning Unix time in seconds")
        self._clock = clock or keys.clock

    @property
    def issuer(self) -> str:
        return self._issuer

    @property
    def max_lifetime(self) -> float:
        return self._max_lifetime

    def __repr__(self) -> str:
        return f"TokenIssuer(issuer={self._issuer!r}, algorithm={self._keys.algorithm!r})"

    def openid_configuration(self, jwks_uri: str) -> dict[str, Any]:
        """A minimal ``/.well-known/openid-configuration`` document: ``issuer`` and ``jwks_uri``.

        Enough for verifiers that find keys by discovery (``RemoteJWKS.from_issuer``),
        which check that ``issuer`` equals the ``iss`` of the tokens exactly.
        Serve it at ``<issuer>/.well-known/openid-configuration``.
        """
        parsed = urlsplit(jwks_uri) if isinstance(jwks_uri, str) else None
        if parsed is None or parsed.scheme not in ("https", "http") or not parsed.netloc:
            raise ConfigurationError("jwks_uri", "must be an absolute https:// URL")
        return {"issuer": self._issuer, "jwks_uri": jwks_uri}

    def issue_access_token(
        self,
        subject: str,
        *,
        scopes: Iterable[str] = (),
        audience: str | Sequence[str] | None = None,
        claims: Mapping[str, Any] | None = None,
        lifetime: float | timedelta | None = None,
    ) -> str:
        """A signed access token (compact JWS) for ``subject``.

        Args:
            subject: the ``sub`` claim: a stable, non-empty user or client id.
            scopes: scope tokens, put space-separated in ``scope``
                (RFC 9068 section 2.2.3); give a list, not one string.
            audience: overrides the issuer's default ``aud``.
            claims: extra claims (e.g. ``client_id``, ``roles``). Registered
                claims (``iss``, ``sub``, ``aud``, ``exp``, ``nbf``, ``iat``,
                ``jti``, ``scope``) and names that look like secrets
                (password, secret, ssn, credit card, ...) are refused.
            lifetime: seconds (or a timedelta) until ``exp``; default 15 min,
                at most ``max_lifetime``.

        Raises:
            IssuanceError: an argument is refused (``.argument`` names it).
            KeyStoreError: the key store could not be read.
        """
        if not isinstance(subject, str) or not subject.strip():
            raise IssuanceError("subject", "must be a non-empty string")

        if isinstance(scopes, (str, bytes)):
            raise IssuanceError(
                "scopes", "give a list of scope names, e.g. ['orders:read'], not one string"
            )
        try:
            scope_list = list(dict.fromkeys(scopes))
        except TypeError:
            raise IssuanceError("scopes", "must be an iterable of scope names") from None
        for scope in scope_list:
            if not isinstance(scope, str) or _SCOPE_TOKEN.fullmatch(scope) is None:
                raise IssuanceError(
                    "scopes",
                    "each scope must be a non-empty string of printable ASCII without spaces, "
                    "quotes or backslashes (RFC 6749 section 3.3)",
                )

        if audience is not None:

            def _call_error(message: str) -> Exception:
                return IssuanceError("audience", message)

            aud: str | list[str] = _audiences(audience, _call_error)
        elif self._audience is not None:
            aud = self._audience
        else:
            raise IssuanceError(
                "audience", "required: give audience= here or a default to the TokenIssuer"
            )

        if lifetime is None:
            seconds = self._default_lifetime
        else:
            seconds = _lifetime("lifetime", lifetime, IssuanceError)
            if seconds > self._max_lifetime:
                raise IssuanceError(
                    "lifetime",
                    f"{seconds:g} s is over the configured maximum of {self._max_lifetime:g} s",
                )

        extra: dict[str, Any] = {}
        if claims is not None:
            if not isinstance(claims, Mapping):
                raise IssuanceError("claims", "must be a mapping of claim name to value")
            overridden = sorted(REGISTERED_CLAIMS.intersection(claims))
            if overridden:
                raise IssuanceError(
                    "claims",
                    f"{', '.join(overridden)} may not be set through claims=; the issuer sets the "
                    "registered claims (use subject=, audience=, scopes=, lifetime=)",
                )
            _check_names(claims, "")
            try:
                json.dumps(claims, allow_nan=False)
            except (TypeError, ValueError, RecursionError):
                raise IssuanceError(
                    "claims",
                    "values must be JSON: strings, finite numbers, booleans, None, lists, objects",
                ) from None
            extra = dict(claims)

        key = self._keys._signing_key()
        iat = int(self._clock())
        payload: dict[str, Any] = {
            "iss": self._issuer,
            "sub": subject,
            "aud": aud,
            "iat": iat,
            "nbf": iat,
            "exp": iat + int(seconds),
            "jti": secrets.token_hex(_JTI_BYTES),
        }
        if scope_list:
            payload["scope"] = " ".join(scope_list)
        payload.update(extra)
        # Through the key's Signer: the issuer never holds the private key,
        # which may live in a hardware token.
        header = {"typ": ACCESS_TOKEN_TYPE}
        try:
            token = encode_jws(header, payload, key.signer)
        except KeyStoreError:
            # A key kept on a token can be destroyed by another instance's
            # emergency rotation between our ring read and the signature:
            # read the ring again and sign once with the key active now.
            self._keys.refresh()
            current = self._keys._signing_key()
            if current.kid == key.kid:
                raise
            token = encode_jws(header, payload, current.signer)
        if self._encryption is None:
            return token
        try:
            return self._encryption.wrap(token, aud)
        except ValueError as exc:
            raise IssuanceError("audience", str(exc)) from None
