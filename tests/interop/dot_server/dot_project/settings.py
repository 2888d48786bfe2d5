"""Settings of the interop authorization server (test-only values)."""

import os

SECRET_KEY = "interop-test-only-not-a-secret"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "oauth2_provider",
]
# Sessions and users for the authorization-code flow of the ID-token tests
# (a user logs in at /test-login, then /o/authorize/ answers with a code).
MIDDLEWARE: list[str] = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
]
ROOT_URLCONF = "dot_project.urls"
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": os.environ["DOT_DB"]}}
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
USE_TZ = True
# Client secrets are hashed with the password hasher: the default PBKDF2
# would spend most of every introspection request hashing.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
OAUTH2_PROVIDER = {
    "SCOPES": {
        "orders:read": "Read orders",
        "orders:write": "Write orders",
        "introspection": "Introspect tokens",
        "openid": "OpenID Connect",
    },
    "ACCESS_TOKEN_EXPIRE_SECONDS": 3600,
    # OpenID Connect (RS256 ID tokens, discovery and JWKS under /o/) when the
    # test gives a signing key: tests/interop/test_dot_id_tokens.py.
    "OIDC_ENABLED": bool(os.environ.get("DOT_OIDC_RSA_KEY")),
    "OIDC_RSA_PRIVATE_KEY": os.environ.get("DOT_OIDC_RSA_KEY", ""),
    "ID_TOKEN_EXPIRE_SECONDS": 300,
}
LOGGING = {
    "version": 1,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}
