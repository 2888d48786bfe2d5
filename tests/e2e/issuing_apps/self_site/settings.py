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
    },
}
