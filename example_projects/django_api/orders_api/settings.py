"""Settings for the example orders API, taken from the environment.

jwt-guard is configured from:

* ``JWT_GUARD_ISSUER``: the ``iss`` tokens must carry (optional with
  ``JWT_GUARD_DISCOVERY_URL``, where the discovered issuer is used);
* ``JWT_GUARD_AUDIENCE``: this API's identifier, the ``aud`` tokens must carry;
* ``JWT_GUARD_JWKS_URL``: where the issuer publishes its keys, or
  ``JWT_GUARD_DISCOVERY_URL``: the issuer URL (or its
  ``/.well-known/openid-configuration``) for OpenID Connect Discovery, or
  ``JWT_GUARD_JWKS_FILE``: a JWKS file (``jwt-guard keygen`` writes one);
* ``JWT_GUARD_ALGORITHMS``: comma-separated, default ``RS256``;
* ``JWT_GUARD_TOKEN_LOCATIONS``: comma-separated, default ``header``.

Django itself reads ``DJANGO_SECRET_KEY``, ``DJANGO_DEBUG`` and
``DJANGO_ALLOWED_HOSTS``.
"""

import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

_DISCOVERY_SUFFIX = "/.well-known/openid-configuration"


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name, "").strip()
    return value or default


def _list(name: str, default: str) -> list[str]:
    return [item.strip() for item in (_env(name, default) or "").split(",") if item.strip()]


SECRET_KEY = _env("DJANGO_SECRET_KEY", "example-only-" + "x" * 50)
DEBUG = _env("DJANGO_DEBUG", "false") == "true"
ALLOWED_HOSTS = _list("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
ROOT_URLCONF = "orders_api.urls"
WSGI_APPLICATION = "orders_api.wsgi.application"
ASGI_APPLICATION = "orders_api.asgi.application"
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}

INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "rest_framework",
    "jwt_guard_django",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.common.CommonMiddleware",
    "jwt_guard_django.middleware.JWTGuardMiddleware",
]

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["jwt_guard_django.authentication.JWTGuardAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
}

JWT_GUARD = {
    "ISSUER": _env("JWT_GUARD_ISSUER"),
    "AUDIENCE": _env("JWT_GUARD_AUDIENCE"),
    "ALGORITHMS": _list("JWT_GUARD_ALGORITHMS", "RS256"),
    "TOKEN_LOCATIONS": _list("JWT_GUARD_TOKEN_LOCATIONS", "header"),
    # Fetch the keys when the server starts, not on the first request.
    "WARM_ON_STARTUP": True,
}

_jwks_url = _env("JWT_GUARD_JWKS_URL")
_discovery = _env("JWT_GUARD_DISCOVERY_URL")
_jwks_file = _env("JWT_GUARD_JWKS_FILE")
if len([v for v in (_jwks_url, _discovery, _jwks_file) if v]) > 1:
    raise ImproperlyConfigured(
        "set one of JWT_GUARD_JWKS_URL, JWT_GUARD_DISCOVERY_URL and JWT_GUARD_JWKS_FILE, not both"
    )
if _jwks_url:
    JWT_GUARD["JWKS_URL"] = _jwks_url
elif _discovery:
    if _discovery.endswith(_DISCOVERY_SUFFIX):
        _discovery = _discovery[: -len(_DISCOVERY_SUFFIX)]
    # Discovery checks the document's issuer exactly, trailing slash included
    # (Auth0 has one): prefer the issuer as given when it names the same URL.
    _issuer = JWT_GUARD["ISSUER"]
    if _issuer and _issuer.rstrip("/") == _discovery.rstrip("/"):
        _discovery = _issuer
    JWT_GUARD["OIDC_ISSUER"] = _discovery
elif _jwks_file:
    JWT_GUARD["VERIFYING_KEY"] = Path(_jwks_file)
else:
    raise ImproperlyConfigured(
        "set JWT_GUARD_JWKS_URL or JWT_GUARD_DISCOVERY_URL (or JWT_GUARD_JWKS_FILE)"
    )
if not JWT_GUARD["AUDIENCE"]:
    raise ImproperlyConfigured("set JWT_GUARD_AUDIENCE to this API's identifier")
if not JWT_GUARD["ISSUER"] and not _discovery:
    raise ImproperlyConfigured("set JWT_GUARD_ISSUER (or use JWT_GUARD_DISCOVERY_URL)")
JWT_GUARD = {key: value for key, value in JWT_GUARD.items() if value is not None}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {"jwt_guard": {"handlers": ["console"], "level": "INFO"}},
}
