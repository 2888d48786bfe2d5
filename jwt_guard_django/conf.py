"""The ``JWT_GUARD`` settings dict, read on every access.

Like django-cors-headers' ``conf.py``: :data:`conf` has one typed property per
key and reads ``settings.JWT_GUARD`` each time, so ``override_settings`` and
pytest-django's ``settings`` fixture work without cache-busting. Validation
happens where the values are used: :mod:`jwt_guard_django.checks` at
start-up and :func:`jwt_guard_django.verifier.build_config` when the
verifier is built.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import timedelta
from typing import Any

from django.conf import settings

__all__ = ["DEFAULTS", "Settings", "conf"]

DEFAULTS: Mapping[str, Any] = {
    # What is accepted.
    "ALGORITHMS": None,
    "ISSUER": None,
    "AUDIENCE": None,
    "ISSUERS": None,
    "VERIFY_ISSUER": True,
    "VERIFY_AUDIENCE": True,
    "LEEWAY": 10,
    "REQUIRED_CLAIMS": None,
    "MAX_TOKEN_AGE": None,
    "MAX_TOKEN_LIFETIME": None,
    "EXPECTED_TYPE": None,
    "MAX_TOKEN_BYTES": 8192,
    "REVOCATION": None,
    "CLOCK": None,
    # Where the keys come from.
    "JWKS_URL": None,
    "OIDC_ISSUER": None,
    "JWKS_OPTIONS": {},
    "VERIFYING_KEY": None,
    "SIGNING_KEY": None,
    "WARM_ON_STARTUP": False,
    # The issuing side (jwt_guard_django.issuing reads and validates it).
    "ISSUING": None,
    # Login sessions (jwt_guard_django.sessions reads and validates it).
    "SESSIONS": None,
    # Where the token is found.
    "TOKEN_LOCATIONS": ("header",),
    "AUTH_HEADER_TYPES": ("Bearer",),
    "AUTH_COOKIE": "access_token",
    "AUTH_COOKIE_SECURE": True,
    "AUTH_COOKIE_HTTPONLY": True,
    "AUTH_COOKIE_SAMESITE": "Lax",
    "AUTH_COOKIE_DOMAIN": None,
    "AUTH_COOKIE_PATH": "/",
    "AUTH_COOKIE_CSRF": True,
    # Who the user is.
    "USER_ID_CLAIM": "sub",
    "USER_ID_FIELD": None,
    "USER_RESOLVER": None,
    "ROLES_CLAIM": "roles",
    # How refusals look.
    "REALM": "api",
}


def _seconds(value: Any) -> Any:
    # simplejwt users write timedelta(minutes=5); the core wants seconds.
    return value.total_seconds() if isinstance(value, timedelta) else value


def _strings(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, Sequence):
        return tuple(value)
    return ()


class Settings:
    """Typed, lazy access to ``settings.JWT_GUARD``; missing keys take :data:`DEFAULTS`."""

    @property
    def raw(self) -> Mapping[str, Any]:
        """The ``JWT_GUARD`` dict as configured (empty when absent or not a dict)."""
        value = getattr(settings, "JWT_GUARD", None)
        return value if isinstance(value, Mapping) else {}

    def get(self, name: str) -> Any:
        """One key's value, or its default."""
        return self.raw.get(name, DEFAULTS[name])

    # -- what is accepted

    @property
    def ALGORITHMS(self) -> Any:
        return self.get("ALGORITHMS")

    @property
    def ISSUER(self) -> str | Sequence[str] | None:
        issuer = self.get("ISSUER")
        if issuer is None and self.OIDC_ISSUER is not None and not self.ISSUERS:
            # The discovery document's issuer is, by OIDC Discovery 1.0
            # section 4.3, the iss its tokens carry.
            return str(self.OIDC_ISSUER)
        return issuer  # type: ignore[no-any-return]

    @property
    def AUDIENCE(self) -> str | Sequence[str] | None:
        return self.get("AUDIENCE")  # type: ignore[no-any-return]

    @property
    def ISSUERS(self) -> Mapping[str, Mapping[str, Any]] | None:
        return self.get("ISSUERS")  # type: ignore[no-any-return]

    @property
    def VERIFY_ISSUER(self) -> bool:
        return bool(self.get("VERIFY_ISSUER"))

    @property
    def VERIFY_AUDIENCE(self) -> bool:
        return bool(self.get("VERIFY_AUDIENCE"))

    @property
    def LEEWAY(self) -> Any:
        return _seconds(self.get("LEEWAY"))

    @property
    def REQUIRED_CLAIMS(self) -> Sequence[str] | None:
        return self.get("REQUIRED_CLAIMS")  # type: ignore[no-any-return]

    @property
    def MAX_TOKEN_AGE(self) -> Any:
        return _seconds(self.get("MAX_TOKEN_AGE"))

    @property
    def MAX_TOKEN_LIFETIME(self) -> Any:
        return _seconds(self.get("MAX_TOKEN_LIFETIME"))

    @property
    def EXPECTED_TYPE(self) -> str | None:
        return self.get("EXPECTED_TYPE")  # type: ignore[no-any-return]

    @property
    def MAX_TOKEN_BYTES(self) -> Any:
        return self.get("MAX_TOKEN_BYTES")

    @property
    def REVOCATION(self) -> Any:
        return self.get("REVOCATION")

    @property
    def CLOCK(self) -> Callable[[], float] | str | None:
        return self.get("CLOCK")  # type: ignore[no-any-return]

    # -- where the keys come from

    @property
    def JWKS_URL(self) -> str | None:
        return self.get("JWKS_URL")  # type: ignore[no-any-return]

    @property
    def OIDC_ISSUER(self) -> str | None:
        return self.get("OIDC_ISSUER")  # type: ignore[no-any-return]

    @property
    def JWKS_OPTIONS(self) -> Mapping[str, Any]:
        options = self.get("JWKS_OPTIONS")
        return options if isinstance(options, Mapping) else {}

    @property
    def VERIFYING_KEY(self) -> Any:
        return self.get("VERIFYING_KEY")

    @property
    def SIGNING_KEY(self) -> str | bytes | None:
        return self.get("SIGNING_KEY")  # type: ignore[no-any-return]

    @property
    def WARM_ON_STARTUP(self) -> bool:
        return bool(self.get("WARM_ON_STARTUP"))

    # -- where the token is found

    @property
    def TOKEN_LOCATIONS(self) -> tuple[str, ...]:
        return _strings(self.get("TOKEN_LOCATIONS"))

    @property
    def AUTH_HEADER_TYPES(self) -> tuple[str, ...]:
        return _strings(self.get("AUTH_HEADER_TYPES"))

    @property
    def AUTH_COOKIE(self) -> str:
        return str(self.get("AUTH_COOKIE"))

    @property
    def AUTH_COOKIE_SECURE(self) -> bool:
        return bool(self.get("AUTH_COOKIE_SECURE"))

    @property
    def AUTH_COOKIE_HTTPONLY(self) -> bool:
        return bool(self.get("AUTH_COOKIE_HTTPONLY"))

    @property
    def AUTH_COOKIE_SAMESITE(self) -> str | None:
        return self.get("AUTH_COOKIE_SAMESITE")  # type: ignore[no-any-return]

    @property
    def AUTH_COOKIE_DOMAIN(self) -> str | None:
        return self.get("AUTH_COOKIE_DOMAIN")  # type: ignore[no-any-return]

    @property
    def AUTH_COOKIE_PATH(self) -> str:
        return str(self.get("AUTH_COOKIE_PATH"))

    @property
    def AUTH_COOKIE_CSRF(self) -> bool:
        return bool(self.get("AUTH_COOKIE_CSRF"))

    # -- who the user is

    @property
    def USER_ID_CLAIM(self) -> str:
        return str(self.get("USER_ID_CLAIM"))

    @property
    def USER_ID_FIELD(self) -> str | None:
        return self.get("USER_ID_FIELD")  # type: ignore[no-any-return]

    @property
    def USER_RESOLVER(self) -> Callable[..., Any] | str | None:
        return self.get("USER_RESOLVER")  # type: ignore[no-any-return]

    @property
    def ROLES_CLAIM(self) -> str:
        return str(self.get("ROLES_CLAIM"))

    # -- how refusals look

    @property
    def REALM(self) -> str:
        return str(self.get("REALM"))


conf = Settings()
