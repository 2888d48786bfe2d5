"""Django helpers of the test kit. Django is imported inside the functions only.

For pytest-django the plugin's ``jwt_guard_django_settings`` fixture does
this; these are for ``django.test.TestCase`` and for fixtures of your own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .issuer import LocalIssuer

__all__ = ["apply_settings", "override_jwt_guard"]


def override_jwt_guard(issuer: LocalIssuer, **options: Any) -> Any:
    """``django.test.override_settings(JWT_GUARD=issuer.django_settings(**options))``.

    A decorator or context manager, for ``TestCase`` classes and methods::

        with override_jwt_guard(issuer, EXPECTED_TYPE="at+jwt"):
            response = self.client.get("/api/me", HTTP_AUTHORIZATION=f"Bearer {token}")
    """
    from django.test import override_settings

    return override_settings(JWT_GUARD=issuer.django_settings(**options))


def apply_settings(settings: Any, issuer: LocalIssuer, **options: Any) -> dict[str, Any]:
    """Set ``settings.JWT_GUARD`` (pytest-django's ``settings`` fixture) for ``issuer``.

    Returns the dict. To change a key later, assign a new dict
    (``settings.JWT_GUARD = {**value, "LEEWAY": 0}``): Django rebuilds the
    verifier when the setting is assigned, not when a dict is mutated.
    """
    value = issuer.django_settings(**options)
    settings.JWT_GUARD = value
    return value
