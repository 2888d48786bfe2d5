"""How the resource server authenticates itself to the introspection endpoint.

RFC 7662 section 2.1 requires the protected resource to authenticate. Three
methods, named as in RFC 8414's ``*_endpoint_auth_methods_supported``:

* :class:`ClientSecretBasic`: HTTP Basic with the form-encoded client id and
  secret (RFC 6749 section 2.3.1);
* :class:`ClientSecretPost`: the same two values as form fields;
* :class:`PrivateKeyJWT`: a short-lived JWT client assertion signed with the
  resource server's private key (RFC 7523 section 2.2, OpenID Connect Core
  section 9), a fresh ``jti`` for every request.

Each gives the headers and form fields for one request; none does I/O.
"""

from __future__ import annotations

import base64
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote_plus

import jwt

from ..algorithms import ALGORITHMS, HMAC_ALGORITHMS
from ..errors import ConfigurationError

__all__ = ["ClientAuth", "ClientSecretBasic", "ClientSecretPost", "PrivateKeyJWT"]

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


def _text(setting: str, value: object) -> str:
    if not isinstance(value, str) or not value:
        raise ConfigurationError(setting, "required: a non-empty string")
    return value


@dataclass(frozen=True)
class Credentials:
    """What one request carries to authenticate the client."""

    headers: dict[str, str]
    fields: dict[str, str]


@dataclass(frozen=True, repr=False)
class ClientSecretBasic:
    """``client_secret_basic``: ``Authorization: Basic`` with the client id and secret."""

    client_id: str
    client_secret: str
    method = "client_secret_basic"

    def __post_init__(self) -> None:
        _text("client_id", self.client_id)
        _text("client_secret", self.client_secret)

    def credentials(self, endpoint: str, now: float) -> Credentials:
        # RFC 6749 2.3.1: each part is form-urlencoded before joining with ":",
        # so a ":" in the id or secret cannot shift the split.
        pair = f"{quote_plus(self.client_id)}:{quote_plus(self.client_secret)}"
        token = base64.b64encode(pair.encode("utf-8")).decode("ascii")
        return Credentials({"Authorization": f"Basic {token}"}, {})

    def __repr__(self) -> str:
        return f"ClientSecretBasic(client_id={self.client_id!r})"


@dataclass(frozen=True, repr=False)
class ClientSecretPost:
    """``client_secret_post``: ``client_id`` and ``client_secret`` as form fields."""

    client_id: str
    client_secret: str
    method = "client_secret_post"

    def __post_init__(self) -> None:
        _text("client_id", self.client_id)
        _text("client_secret", self.client_secret)

    def credentials(self, endpoint: str, now: float) -> Credentials:
        return Credentials({}, {"client_id": self.client_id, "client_secret": self.client_secret})

    def __repr__(self) -> str:
        return f"ClientSecretPost(client_id={self.client_id!r})"


@dataclass(frozen=True, repr=False)
class PrivateKeyJWT:
    """``private_key_jwt``: a client assertion signed with the client's private key.

    Args:
        client_id: the ``iss`` and ``sub`` of the assertion.
        private_key: a ``cryptography`` private key object or a PEM string.
        algorithm: an asymmetric JWS algorithm (default ``RS256``).
        kid: the key's id at the authorization server, put in the header.
        audience: the assertion's ``aud``; default the endpoint URL itself
            (RFC 7523 section 3); some servers want their issuer or token
            endpoint instead.
        lifetime: seconds the assertion is valid (default 60).
    """

    client_id: str
    private_key: Any
    algorithm: str = "RS256"
    kid: str | None = None
    audience: str | None = None
    lifetime: float = 60.0
    new_jti: Callable[[], str] = field(default=lambda: secrets.token_urlsafe(24))
    method = "private_key_jwt"

    def __post_init__(self) -> None:
        _text("client_id", self.client_id)
        if self.algorithm not in ALGORITHMS or self.algorithm in HMAC_ALGORITHMS:
            raise ConfigurationError(
                "algorithm", f"{self.algorithm!r} is not an asymmetric JWS algorithm"
            )
        if self.private_key is None:
            raise ConfigurationError("private_key", "required: the client's private key")
        if not isinstance(self.lifetime, (int, float)) or not 0 < self.lifetime <= 600:
            raise ConfigurationError("lifetime", f"{self.lifetime!r} is not 1 to 600 seconds")
        try:
            self._sign(time.time(), "https://check.invalid/")
        except (jwt.PyJWTError, ValueError, TypeError) as exc:
            raise ConfigurationError(
                "private_key", f"cannot sign {self.algorithm} with this key ({type(exc).__name__})"
            ) from None

    def credentials(self, endpoint: str, now: float) -> Credentials:
        return Credentials(
            {},
            {
                "client_assertion_type": ASSERTION_TYPE,
                "client_assertion": self._sign(now, endpoint),
            },
        )

    def _sign(self, now: float, endpoint: str) -> str:
        issued = int(now)
        claims = {
            "iss": self.client_id,
            "sub": self.client_id,
            "aud": self.audience or endpoint,
            "jti": self.new_jti(),
            "iat": issued,
            "exp": issued + int(self.lifetime),
        }
        headers = {"kid": self.kid} if self.kid is not None else None
        return jwt.encode(claims, self.private_key, algorithm=self.algorithm, headers=headers)

    def __repr__(self) -> str:
        return f"PrivateKeyJWT(client_id={self.client_id!r}, algorithm={self.algorithm!r})"


ClientAuth = ClientSecretBasic | ClientSecretPost | PrivateKeyJWT
