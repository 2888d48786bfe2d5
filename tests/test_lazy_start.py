"""A service that only verifies tokens never loads the session, signing or CLI side.

Each case starts a fresh interpreter, configures an adapter with a remote
key set and nothing else, runs its start-up (Django's system checks, Flask's
``init_app``) and one request with a token, then lists which of the heavy
sides were imported. The key set URL is never fetched: the token is refused
before any key is needed.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SIDES = ("jwt_guard_core.sessions", "jwt_guard_core.signing", "jwt_guard_core.cli")
SETTINGS = {
    "ISSUER": "https://127.0.0.1:9",
    "AUDIENCE": "api",
    "JWKS_URL": "https://127.0.0.1:9/.well-known/jwks.json",
    "ALGORITHMS": ["RS256"],
}

DJANGO = f"""
import django
from django.conf import settings
settings.configure(
    SECRET_KEY="test",
    INSTALLED_APPS=["django.contrib.contenttypes", "django.contrib.auth", "jwt_guard_django"],
    MIDDLEWARE=[
        "django.contrib.auth.middleware.AuthenticationMiddleware",
        "jwt_guard_django.middleware.JWTGuardMiddleware",
    ],
    DATABASES={{"default": {{"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}}},
    ROOT_URLCONF=__name__,
    JWT_GUARD={SETTINGS!r},
)
urlpatterns = []
django.setup()
from django.core import checks
from django.http import HttpResponse
from django.test import RequestFactory
from jwt_guard_django.middleware import JWTGuardMiddleware

checks.run_checks()
middleware = JWTGuardMiddleware(lambda request: HttpResponse("ok"))
request = RequestFactory().get("/", HTTP_AUTHORIZATION="Bearer not-a-token")
status = middleware(request).status_code
"""

FLASK = f"""
from flask import Flask
from jwt_guard_flask import JWTGuard, jwt_required

app = Flask(__name__)
for key, value in {SETTINGS!r}.items():
    app.config["JWT_GUARD_" + key] = value
JWTGuard(app)

@app.get("/")
@jwt_required
def index():
    return "ok"

status = app.test_client().get("/", headers={{"Authorization": "Bearer not-a-token"}}).status_code
"""

REPORT = f"""
import json, sys
print(json.dumps({{"status": status, "loaded": [m for m in {SIDES!r} if m in sys.modules]}}))
"""


@pytest.mark.parametrize("script", [DJANGO, FLASK], ids=["django", "flask"])
def test_a_verifying_service_loads_no_session_signing_or_cli_side(script: str) -> None:
    result = subprocess.run(
        [sys.executable, "-W", "error", "-c", script + REPORT],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["status"] == 401  # the request did go through the adapter
    assert report["loaded"] == []
