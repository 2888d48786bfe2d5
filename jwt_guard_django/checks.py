"""System checks: a dangerous ``JWT_GUARD`` is reported at start-up.

Registered under ``Tags.security`` by the app config, so ``manage.py check``
and ``manage.py check --deploy`` run them. What is wrong or risky is decided
by the core (:func:`jwt_guard_core.settings.findings`, shared with Flask's
start-up warnings); this module gives each finding its stable id (see
docs/django.md) and adds what only Django has (the middleware order).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Warning

from jwt_guard_core import ConfigurationError
from jwt_guard_core.settings import findings

from .conf import conf

__all__ = ["check_settings"]

_MIDDLEWARE = "jwt_guard_django.middleware.JWTGuardMiddleware"
_AUTH_MIDDLEWARE = "django.contrib.auth.middleware.AuthenticationMiddleware"
_DOCS = "See docs/django.md for every key and its accepted values."

#: The core's finding codes and their check ids (a code not listed is not reported).
IDS = {
    "no_algorithms": "jwt_guard.E001",
    "hmac_secret_short": "jwt_guard.E002",
    "hmac_mixed": "jwt_guard.E003",
    "leeway_range": "jwt_guard.E004",
    "plain_http": "jwt_guard.E005",
    "no_key_source": "jwt_guard.E006",
    "bad_locations": "jwt_guard.E009",
    "bad_header_types": "jwt_guard.E010",
    "issuer_unverified": "jwt_guard.W001",
    "audience_unverified": "jwt_guard.W002",
    "cookie_insecure": "jwt_guard.W003",
    "cookie_script_readable": "jwt_guard.W004",
    "cookie_samesite_none": "jwt_guard.W005",
    "cookie_csrf_off": "jwt_guard.W006",
    "unknown_keys": "jwt_guard.W007",
    "dpop_memory_replay_store": "jwt_guard.W009",
    # local users per issuer (OpenID Connect Core 5.7)
    "user_issuers_invalid": "jwt_guard.E012",
    "user_issuers_unset": "jwt_guard.W010",
    "user_issuers_shared": "jwt_guard.W011",
    # The claims policy (issue 13).
    "claims_relaxed": "jwt_guard.W030",
    "token_kind_any": "jwt_guard.W031",
    "claims_check_async": "jwt_guard.W032",
    # Tokens beyond signed JWTs (issue 16): INTROSPECTION and JWE.
    "introspection_invalid": "jwt_guard.E016",
    "jwe_invalid": "jwt_guard.E017",
    "introspection_risky": "jwt_guard.W015",
    "jwe_risky": "jwt_guard.W016",
}


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
    for finding in findings(conf.parsed, development=bool(settings.DEBUG)):
        check_id = IDS.get(finding.code)
        if check_id is not None:
            kind = Error if check_id.startswith("jwt_guard.E") else Warning
            messages.append(kind(finding.message, hint=finding.hint or _DOCS, id=check_id))
    messages += _middleware_order()
    if not any(isinstance(m, Error) for m in messages):
        # Imported here: registering the checks must not load the verifier.
        from jwt_guard_core.settings.resource import resource_policy

        from .verifier import build_config

        try:
            conf.parsed.request  # noqa: B018 - validates where tokens are read
            build_config()
            resource_policy(conf.parsed)  # DPoP, mTLS, RFC 9728 metadata
        except (ConfigurationError, ImportError) as exc:
            messages.append(
                Error(
                    f"JWT_GUARD is not a valid configuration: {exc}",
                    hint=_DOCS,
                    id="jwt_guard.E007",
                )
            )
    # Last and independent of the verifier's settings: a service may issue
    # tokens without verifying any.
    messages += _issuing(raw)
    return messages


def _issuing(raw: Mapping[str, Any]) -> list[CheckMessage]:
    if raw.get("ISSUING") is None:
        return []
    # Imported here: a service that issues no tokens never loads the signing side.
    from .issuing import check_issuing

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
