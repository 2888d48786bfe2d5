"""Django and DRF adapter for jwt-guard.

Add ``"jwt_guard_django"`` to ``INSTALLED_APPS``, set ``JWT_GUARD``, then either
``"jwt_guard_django.middleware.JWTGuardMiddleware"`` in ``MIDDLEWARE`` or
``"jwt_guard_django.authentication.JWTGuardAuthentication"`` in DRF's
``DEFAULT_AUTHENTICATION_CLASSES``. See docs/django.md.

The names below are imported on first use, so importing this package never
touches settings or imports DRF before Django is set up.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from jwt_guard_core._adapter_package import lazy_names, missing_framework

try:
    import django  # noqa: F401
except ImportError as exc:  # pragma: no cover - exercised in a subprocess
    raise missing_framework(__name__, "Django", "django") from exc

if TYPE_CHECKING:
    from ._auth import jwt_exempt
    from .authentication import JWTGuardAuthentication
    from .cookies import delete_auth_cookie, set_auth_cookie
    from .decorators import (
        jwt_optional,
        jwt_required,
        require_any_role,
        require_roles,
        require_scopes,
    )
    from .issuing import get_key_manager, get_token_issuer
    from .middleware import JWTGuardMiddleware
    from .permissions import (
        HasAnyRole,
        HasAnyScope,
        HasRoles,
        HasScopes,
        RequiresAuthLevel,
        RequiresDPoP,
    )
    from .sessions import get_sessions
    from .signals import token_rejected, token_verified
    from .store import DjangoSessionStore
    from .user import TokenUser
    from .verifier import get_verifier, key_set_health

__all__ = [
    "DjangoSessionStore",
    "HasAnyRole",
    "HasAnyScope",
    "HasRoles",
    "HasScopes",
    "JWTGuardAuthentication",
    "JWTGuardMiddleware",
    "RequiresAuthLevel",
    "RequiresDPoP",
    "TokenUser",
    "delete_auth_cookie",
    "get_key_manager",
    "get_sessions",
    "get_token_issuer",
    "get_verifier",
    "jwt_exempt",
    "jwt_optional",
    "jwt_required",
    "key_set_health",
    "require_any_role",
    "require_roles",
    "require_scopes",
    "set_auth_cookie",
    "token_rejected",
    "token_verified",
]

_MODULES = {
    "DjangoSessionStore": "store",
    "HasAnyRole": "permissions",
    "HasAnyScope": "permissions",
    "HasRoles": "permissions",
    "HasScopes": "permissions",
    "JWTGuardAuthentication": "authentication",
    "JWTGuardMiddleware": "middleware",
    "RequiresAuthLevel": "permissions",
    "RequiresDPoP": "permissions",
    "TokenUser": "user",
    "delete_auth_cookie": "cookies",
    "get_key_manager": "issuing",
    "get_sessions": "sessions",
    "get_token_issuer": "issuing",
    "get_verifier": "verifier",
    "jwt_exempt": "_auth",
    "jwt_optional": "decorators",
    "jwt_required": "decorators",
    "key_set_health": "verifier",
    "require_any_role": "decorators",
    "require_roles": "decorators",
    "require_scopes": "decorators",
    "set_auth_cookie": "cookies",
    "token_rejected": "signals",
    "token_verified": "signals",
}


__getattr__ = lazy_names(__name__, _MODULES)
