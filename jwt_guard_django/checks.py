"""System checks: a dangerous ``JWT_GUARD`` is reported at start-up.

Registered under ``Tags.security`` by the app config, so ``manage.py check``
and ``manage.py check --deploy`` run them. Ids are stable; see docs/django.md.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Warning

from jwt_guard_core import ConfigurationError
from jwt_guard_core.algorithms import ALGORITHMS, HMAC_ALGORITHMS

from .conf import DEFAULTS, conf
from .issuing import check_issuing
from .verifier import build_config, is_loopback_url

__all__ = ["check_settings"]

_MAX_LEEWAY = 300
_MIDDLEWARE = "jwt_guard_django.middleware.JWTGuardMiddleware"
_AUTH_MIDDLEWARE = "django.contrib.auth.middleware.AuthenticationMiddleware"


def check_settings(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Every ``jwt_guard.E0xx`` / ``jwt_guard.W0xx`` check."""
    raw = getattr(settings, "JWT_GUARD", None)
    if not isinstance(raw, Mapping):
        return [
            Error(
                f"JWT_GUARD must be a dict, not {type(raw).__name__}.",
                hint="Set JWT_GUARD = {'ALGORITHMS': [...], 'ISSUER': ..., 'AUDIENCE': ..., ...}.",
                id="jwt_guard.E008",
            )
        ]
    messages: list[CheckMessage] = []
    messages += _unknown_keys(raw)
    messages += _algorithms(raw)
    messages += _key_sources(raw)
    messages += _validation()
    messages += _locations()
    messages += _cookie()
    messages += _middleware_order()
    if not any(isinstance(m, Error) for m in messages):
        try:
            build_config()
        except (ConfigurationError, ImportError) as exc:
            messages.append(
                Error(
                    f"JWT_GUARD is not a valid configuration: {exc}",
                    hint="See docs/django.md for every key and its accepted values.",
                    id="jwt_guard.E007",
                )
            )
    # Last and independent of the verifier's settings: a service may issue
    # tokens without verifying any.
    messages += _issuing(raw)
    return messages


def _unknown_keys(raw: Mapping[str, Any]) -> list[CheckMessage]:
    unknown = sorted(str(k) for k in raw if k not in DEFAULTS)
    if not unknown:
        return []
    return [
        Warning(
            f"JWT_GUARD has unknown key(s) {', '.join(unknown)}; they are ignored.",
            hint="A misspelt key silently keeps its default. Known keys: "
            + ", ".join(sorted(DEFAULTS)),
            id="jwt_guard.W007",
        )
    ]


def _algorithm_lists(raw: Mapping[str, Any]) -> list[tuple[str, Any]]:
    issuers = raw.get("ISSUERS")
    lists = [("ALGORITHMS", raw.get("ALGORITHMS"))]
    if isinstance(issuers, Mapping) and issuers:
        lists = [
            (f"ISSUERS[{iss!r}]['ALGORITHMS']", entry.get("ALGORITHMS", raw.get("ALGORITHMS")))
            for iss, entry in issuers.items()
            if isinstance(entry, Mapping)
        ]
    return lists


def _algorithms(raw: Mapping[str, Any]) -> list[CheckMessage]:
    messages: list[CheckMessage] = []
    for name, algs in _algorithm_lists(raw):
        if isinstance(algs, str) or not isinstance(algs, Sequence) or not algs:
            messages.append(
                Error(
                    f"JWT_GUARD {name} is not set: no algorithm is allowed.",
                    hint="List the algorithms your issuer signs with, e.g. ['RS256']. There is "
                    "no default: accepting whatever a token names is how alg-confusion starts.",
                    id="jwt_guard.E001",
                )
            )
            continue
        hmac_algs = [a for a in algs if a in HMAC_ALGORITHMS]
        if hmac_algs and len(hmac_algs) != len(algs):
            messages.append(
                Error(
                    f"JWT_GUARD {name} mixes HMAC ({', '.join(hmac_algs)}) with asymmetric "
                    "algorithms.",
                    hint="Allow either HMAC (shared secret) or public-key algorithms. Mixing them "
                    "invites algorithm confusion (RFC 8725 section 2.1).",
                    id="jwt_guard.E003",
                )
            )
        secret = raw.get("SIGNING_KEY")
        if hmac_algs and isinstance(secret, (str, bytes)):
            size = len(secret.encode("utf-8") if isinstance(secret, str) else secret)
            needed = max(ALGORITHMS[a].hash_bytes for a in hmac_algs)
            if size < needed:
                messages.append(
                    Error(
                        f"JWT_GUARD SIGNING_KEY is {size} bytes; {', '.join(hmac_algs)} needs at "
                        f"least {needed}.",
                        hint="RFC 7518 section 3.2: the secret must be at least as long as the "
                        "hash. Generate one with secrets.token_urlsafe(64).",
                        id="jwt_guard.E002",
                    )
                )
    return messages


def _key_sources(raw: Mapping[str, Any]) -> list[CheckMessage]:
    issuers = raw.get("ISSUERS")
    entries: list[tuple[str, Mapping[str, Any]]] = [("JWT_GUARD", raw)]
    if isinstance(issuers, Mapping) and issuers:
        entries = [
            (f"ISSUERS[{iss!r}]", entry)
            for iss, entry in issuers.items()
            if isinstance(entry, Mapping)
        ]
    messages: list[CheckMessage] = []
    for where, entry in entries:
        if not any(
            entry.get(k) is not None
            for k in ("JWKS_URL", "OIDC_ISSUER", "VERIFYING_KEY", "SIGNING_KEY")
        ):
            messages.append(
                Error(
                    f"{where} has no key source.",
                    hint="Set JWKS_URL, OIDC_ISSUER (discovery), VERIFYING_KEY (PEM or JWKS) or "
                    "SIGNING_KEY (HMAC secret).",
                    id="jwt_guard.E006",
                )
            )
        for key in ("JWKS_URL", "OIDC_ISSUER"):
            url = entry.get(key)
            if (
                isinstance(url, str)
                and url.lower().startswith("http://")
                and not is_loopback_url(url)
            ):
                messages.append(
                    Error(
                        f"{where} {key} {url!r} uses plain http.",
                        hint="Keys fetched over http can be replaced by anyone on the path, who "
                        "can then mint tokens you accept. Use https (http is allowed only on "
                        "loopback, for development).",
                        id="jwt_guard.E005",
                    )
                )
    return messages


def _validation() -> list[CheckMessage]:
    messages: list[CheckMessage] = []
    if not conf.VERIFY_ISSUER:
        messages.append(
            Warning(
                "JWT_GUARD VERIFY_ISSUER is False: tokens from any issuer sharing the keys are "
                "accepted.",
                hint="Set ISSUER to the iss your tokens carry (RFC 8725 section 3.8).",
                id="jwt_guard.W001",
            )
        )
    if not conf.VERIFY_AUDIENCE:
        messages.append(
            Warning(
                "JWT_GUARD VERIFY_AUDIENCE is False: tokens minted for other APIs are accepted.",
                hint="Set AUDIENCE to this API's identifier (RFC 8725 section 3.9).",
                id="jwt_guard.W002",
            )
        )
    leeway = conf.LEEWAY
    if (
        isinstance(leeway, bool)
        or not isinstance(leeway, (int, float))
        or not 0 <= leeway <= _MAX_LEEWAY
    ):
        messages.append(
            Error(
                f"JWT_GUARD LEEWAY {leeway!r} is not from 0 to {_MAX_LEEWAY} seconds.",
                hint="Leeway absorbs clock skew between servers (seconds, default 10); a "
                "larger one keeps expired tokens alive. Fix the clocks with NTP instead.",
                id="jwt_guard.E004",
            )
        )
    return messages


def _locations() -> list[CheckMessage]:
    locations = conf.TOKEN_LOCATIONS
    bad = [loc for loc in locations if loc not in ("header", "cookie")]
    messages: list[CheckMessage] = []
    if not locations or bad:
        messages.append(
            Error(
                f"JWT_GUARD TOKEN_LOCATIONS {conf.get('TOKEN_LOCATIONS')!r} is not a list of "
                "'header' and/or 'cookie'.",
                hint="e.g. ['header'] or ['header', 'cookie'] (tried in that order).",
                id="jwt_guard.E009",
            )
        )
    if "header" in locations and not conf.AUTH_HEADER_TYPES:
        messages.append(
            Error(
                "JWT_GUARD AUTH_HEADER_TYPES is empty while tokens are read from the header.",
                hint="Use the default ['Bearer'] (RFC 6750).",
                id="jwt_guard.E010",
            )
        )
    return messages


def _cookie() -> list[CheckMessage]:
    if "cookie" not in conf.TOKEN_LOCATIONS:
        return []
    messages: list[CheckMessage] = []
    if not settings.DEBUG and not conf.AUTH_COOKIE_SECURE:
        messages.append(
            Warning(
                "JWT_GUARD AUTH_COOKIE_SECURE is False: the token cookie is sent over plain http.",
                hint="Set AUTH_COOKIE_SECURE = True (the default) so the token never leaves TLS.",
                id="jwt_guard.W003",
            )
        )
    if not settings.DEBUG and not conf.AUTH_COOKIE_HTTPONLY:
        messages.append(
            Warning(
                "JWT_GUARD AUTH_COOKIE_HTTPONLY is False: page scripts can read the token.",
                hint="Set AUTH_COOKIE_HTTPONLY = True (the default) so an XSS cannot steal it.",
                id="jwt_guard.W004",
            )
        )
    samesite = conf.AUTH_COOKIE_SAMESITE
    if isinstance(samesite, str) and samesite.lower() == "none":
        messages.append(
            Warning(
                "JWT_GUARD AUTH_COOKIE_SAMESITE is 'None': browsers send the token cookie with "
                "cross-site requests.",
                hint="Use 'Lax' (the default) or 'Strict' unless another site must send it.",
                id="jwt_guard.W005",
            )
        )
    if not conf.AUTH_COOKIE_CSRF:
        messages.append(
            Warning(
                "JWT_GUARD reads tokens from a cookie with AUTH_COOKIE_CSRF off: unsafe requests "
                "authenticated by the cookie are open to cross-site request forgery.",
                hint="Keep AUTH_COOKIE_CSRF = True (the default); send the CSRF token in the "
                "X-CSRFToken header.",
                id="jwt_guard.W006",
            )
        )
    return messages


def _issuing(raw: Mapping[str, Any]) -> list[CheckMessage]:
    if raw.get("ISSUING") is None:
        return []
    try:
        # Validates every key without opening the store: no key is read,
        # no directory created (the store is opened on first use).
        check_issuing()
    except ConfigurationError as exc:
        return [
            Error(
                f"JWT_GUARD ISSUING is invalid: {exc}",
                hint="See the ISSUING table in docs/django.md for every key and its accepted "
                "values. Left as is, the JWKS and discovery views answer 503.",
                id="jwt_guard.E011",
            )
        ]
    return []


def _middleware_order() -> list[CheckMessage]:
    middleware = list(getattr(settings, "MIDDLEWARE", None) or ())
    if (
        _MIDDLEWARE in middleware
        and _AUTH_MIDDLEWARE in middleware
        and middleware.index(_MIDDLEWARE) < middleware.index(_AUTH_MIDDLEWARE)
    ):
        return [
            Warning(
                "JWTGuardMiddleware comes before AuthenticationMiddleware, which then "
                "replaces the token's request.user with the session user.",
                hint=f"Move {_MIDDLEWARE!r} after {_AUTH_MIDDLEWARE!r} in MIDDLEWARE.",
                id="jwt_guard.W008",
            )
        ]
    return []
