"""A Django site that issues tokens at a session login and verifies them itself, in process.

``KEY_SOURCE = "ISSUING"``: the verifier's key source is the issuing side's
key manager, so no request goes to the site's own JWKS route (a one-worker
server could not answer it while it waits).
"""

import os

SECRET_KEY = "e2e-only-not-secret-0123456789abcdef0123456789abcdef"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
ROOT_URLCONF = "self_site.urls"
USE_TZ = True
INSTALLED_APPS = ["django.contrib.contenttypes", "django.contrib.auth", "jwt_guard_django"]
MIDDLEWARE = ["jwt_guard_django.middleware.JWTGuardMiddleware"]
DATABASES: dict[str, dict[str, str]] = {}
AUTHENTICATION_BACKENDS = ["self_site.auth.OneUserBackend"]

_ISSUER = os.environ["E2E_ISSUER"]
_AUDIENCE = os.environ["E2E_AUDIENCE"]
JWT_GUARD = {
    "ALGORITHMS": ["ES256"],
    "ISSUER": _ISSUER,
    "AUDIENCE": _AUDIENCE,
    "KEY_SOURCE": "ISSUING",
    "ISSUING": {"KEY_DIR": os.environ["E2E_KEY_DIR"], "ISSUER": _ISSUER, "AUDIENCE": _AUDIENCE},
    "SESSIONS": {
        "BACKEND": "sqlite",
        "SQLITE_PATH": os.environ["E2E_SESSIONS_DB"],
        "MODE": "json",
        "SCOPES": ["orders:read"],
        # Async session views under ASGI (E2E_SESSIONS_ASYNC=1), on Redis with E2E_REDIS_URL.
        "ASYNC": os.environ.get("E2E_SESSIONS_ASYNC") == "1",
    },
}
if os.environ.get("E2E_REDIS_URL"):
    JWT_GUARD["SESSIONS"].update(BACKEND="redis", REDIS_URL=os.environ["E2E_REDIS_URL"])

# Security events (reason codes) to the server's output, which the tests read.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {"jwt_guard": {"handlers": ["console"], "level": "WARNING"}},
}
