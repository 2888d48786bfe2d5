"""One token, three verifiers: the core, the Django adapter and the Flask adapter.

The interop tests with real issuers (``test_real_issuers.py``,
``test_dot_id_tokens.py``) configure jwt-guard once with the settings an
issuer needs (the Django spelling; Flask gets the same values as
``JWT_GUARD_*``) and check every token three ways: the core's
:class:`~jwt_guard_core.Verifier` built from those settings, a Django view
under ``jwt_required`` (the test client, ``override_settings``) and a Flask
view under ``jwt_required`` (its test client). Each way answers an
:class:`Outcome`; a rejection's reason comes from the ``token_rejected``
signal of each adapter and from the :class:`~jwt_guard_core.TokenError`
in the core, so a test sees that all three refused for the same reason.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest, JsonResponse
from django.test import Client, override_settings
from django.urls import path
from flask import Flask
from jwt.utils import base64url_decode, base64url_encode

from jwt_guard_core import TokenError, Verifier
from jwt_guard_core.settings import GuardSettings
from jwt_guard_core.sources import config_key_sources, warmable_key_sources
from jwt_guard_django import jwt_required as django_jwt_required
from jwt_guard_django.signals import token_rejected as django_rejected
from jwt_guard_flask import JWTGuard, current_token
from jwt_guard_flask import jwt_required as flask_jwt_required
from jwt_guard_flask import token_rejected as flask_rejected

#: Django's URLconf for the tests: ``pytest.mark.urls("tests.interop.three_ways")``.
URLCONF = __name__
INVALID_TOKEN = 'Bearer realm="api", error="invalid_token"'


@dataclass(frozen=True)
class Outcome:
    """What one way answered: the HTTP status, the reason of a refusal, who was accepted."""

    status: int
    reason: str | None = None
    subject: str | None = None
    challenge: str | None = None


def accepted(subject: str | None) -> dict[str, Outcome]:
    """What all three ways answer for an accepted token of ``subject``."""
    return {way: Outcome(200, subject=subject) for way in ("core", "django", "flask")}


def refused(reason: str, challenge: str = INVALID_TOKEN) -> dict[str, Outcome]:
    """What all three ways answer for a token refused with ``reason`` (401, invalid_token)."""
    adapters = Outcome(401, reason, challenge=challenge)
    return {"core": Outcome(401, reason), "django": adapters, "flask": adapters}


@django_jwt_required
def _whoami(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"sub": request.auth.subject})  # type: ignore[attr-defined]


urlpatterns = [path("interop/whoami", _whoami)]


def _flask_app(settings: Mapping[str, Any]) -> Flask:
    app = Flask("interop_issuers")
    app.config.update({f"JWT_GUARD_{key}": value for key, value in settings.items()})
    JWTGuard(app)

    @app.get("/interop/whoami")
    @flask_jwt_required
    def whoami() -> dict[str, Any]:
        return {"sub": current_token.subject}

    return app


class ThreeWays:
    """jwt-guard configured with ``settings`` three ways; :meth:`check` runs a token through all."""

    def __init__(self, settings: Mapping[str, Any]) -> None:
        self.settings = dict(settings)
        self.verifier = Verifier(GuardSettings.from_mapping(self.settings, "django").guard_config())
        self.flask = _flask_app(self.settings)

    def close(self) -> None:
        """Close the HTTP clients of the remote key sets (Django closes its own on reset)."""
        flask_verifier = self.flask.extensions["jwt_guard"].verifier(self.flask)
        for verifier in (self.verifier, flask_verifier):
            for source in warmable_key_sources(config_key_sources(verifier.config).values()):
                close = getattr(source, "close", None)
                if callable(close):
                    close()

    def check(self, token: str) -> dict[str, Outcome]:
        """The outcome of ``token`` in the core, the Django view and the Flask view."""
        return {
            "core": self._core(token),
            "django": self._django(token),
            "flask": self._flask(token),
        }

    def _core(self, token: str) -> Outcome:
        try:
            verified = self.verifier.verify(token)
        except TokenError as exc:
            return Outcome(exc.status, exc.reason)
        return Outcome(200, subject=verified.subject)

    def _django(self, token: str) -> Outcome:
        reasons: list[str] = []

        def receiver(sender: Any, reason: str, **kwargs: Any) -> None:
            reasons.append(reason)

        django_rejected.connect(receiver)
        try:
            with override_settings(JWT_GUARD=self.settings):
                response = Client().get("/interop/whoami", headers=_bearer(token))
        finally:
            django_rejected.disconnect(receiver)
        if response.status_code == 200:
            return Outcome(200, subject=response.json()["sub"])
        return Outcome(
            response.status_code, _one(reasons), challenge=response.get("WWW-Authenticate")
        )

    def _flask(self, token: str) -> Outcome:
        reasons: list[str] = []

        def receiver(sender: Any, reason: str, **kwargs: Any) -> None:
            reasons.append(reason)

        with flask_rejected.connected_to(receiver, self.flask):
            response = self.flask.test_client().get("/interop/whoami", headers=_bearer(token))
        if response.status_code == 200:
            return Outcome(200, subject=response.get_json()["sub"])
        return Outcome(
            response.status_code, _one(reasons), challenge=response.headers.get("WWW-Authenticate")
        )


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _one(reasons: list[str]) -> str | None:
    # One token_rejected per request (the adapters' contract); two would be a bug to see.
    return reasons[0] if len(reasons) == 1 else f"signals: {reasons}"


def tampered(token: str, **claims: Any) -> str:
    """``token`` with ``claims`` changed in its payload and the issuer's signature kept."""
    header, payload, signature = token.split(".")
    changed = {**json.loads(base64url_decode(payload)), **claims}
    body = base64url_encode(json.dumps(changed, separators=(",", ":")).encode()).decode()
    return f"{header}.{body}.{signature}"
