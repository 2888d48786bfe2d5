"""A Django site that only issues: the JWKS and discovery routes of jwt_guard_django."""

import os

SECRET_KEY = "e2e-only-not-secret-0123456789abcdef0123456789abcdef"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
ROOT_URLCONF = "issuer_site.urls"
USE_TZ = True
INSTALLED_APPS = ["django.contrib.contenttypes", "django.contrib.auth", "jwt_guard_django"]
MIDDLEWARE: list[str] = []
DATABASES: dict[str, dict[str, str]] = {}

JWT_GUARD = {
    # What this site would accept if it verified tokens too (unused here).
    "ALGORITHMS": ["ES256"],
    "ISSUER": os.environ["E2E_ISSUER"],
    "AUDIENCE": os.environ["E2E_AUDIENCE"],
    "JWKS_URL": os.environ["E2E_ISSUER"] + "/.well-known/jwks.json",
    "ISSUING": {
        "KEY_DIR": os.environ["E2E_KEY_DIR"],
        "ISSUER": os.environ["E2E_ISSUER"],
        "AUDIENCE": os.environ["E2E_AUDIENCE"],
    },
}
