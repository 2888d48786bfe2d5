"""Django and DRF adapter for jwt-guard; see docs/django.md.

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

if TYPE_CHECKING:  # the types of the names; __getattr__ imports them at run time
    from ._auth import jwt_exempt as jwt_exempt
    from .authentication import JWTGuardAuthentication as JWTGuardAuthentication
    from .cookies import delete_auth_cookie as delete_auth_cookie
    from .cookies import set_auth_cookie as set_auth_cookie
    from .decorators import jwt_optional as jwt_optional
    from .decorators import jwt_required as jwt_required
    from .decorators import require_any_role as require_any_role
    from .decorators import require_roles as require_roles
    from .decorators import require_scopes as require_scopes
    from .issuing import get_key_manager as get_key_manager
    from .issuing import get_token_issuer as get_token_issuer
    from .middleware import JWTGuardMiddleware as JWTGuardMiddleware
    from .permissions import HasAnyRole as HasAnyRole
    from .permissions import HasAnyScope as HasAnyScope
    from .permissions import HasRoles as HasRoles
    from .permissions import HasScopes as HasScopes
    from .permissions import RequiresAuthLevel as RequiresAuthLevel
    from .permissions import RequiresDPoP as RequiresDPoP
    from .sessions import get_sessions as get_sessions
    from .signals import token_rejected as token_rejected
    from .signals import token_verified as token_verified
    from .store import DjangoSessionStore as DjangoSessionStore
    from .user import TokenUser as TokenUser
    from .verifier import get_verifier as get_verifier
    from .verifier import key_set_health as key_set_health

#: Each module and the public names it gives.
_BY_MODULE = {
    "_auth": "jwt_exempt",
    "authentication": "JWTGuardAuthentication",
    "cookies": "delete_auth_cookie set_auth_cookie",
    "decorators": "jwt_optional jwt_required require_any_role require_roles require_scopes",
    "issuing": "get_key_manager get_token_issuer",
    "middleware": "JWTGuardMiddleware",
    "permissions": "HasAnyRole HasAnyScope HasRoles HasScopes RequiresAuthLevel RequiresDPoP",
    "sessions": "get_sessions",
    "signals": "token_rejected token_verified",
    "store": "DjangoSessionStore",
    "user": "TokenUser",
    "verifier": "get_verifier key_set_health",
}
_MODULES = {name: module for module, names in _BY_MODULE.items() for name in names.split()}
__all__ = sorted(_MODULES)
__getattr__ = lazy_names(__name__, _MODULES)
