"""Flask adapter for jwt-guard: ``JWTGuard(app)``, ``@jwt_required``, ``current_token``
(every key with its default: docs/flask.md)."""

from typing import TYPE_CHECKING

from jwt_guard_core._adapter_package import lazy_names, missing_framework

try:
    import flask  # noqa: F401
except ImportError as exc:  # pragma: no cover - exercised in a subprocess
    raise missing_framework(__name__, "Flask", "flask") from exc

from .config import DEFAULTS
from .cookies import set_access_cookies, unset_access_cookies
from .csrf import set_csrf_cookie
from .decorators import (
    jwt_exempt,
    jwt_required,
    require_any_role,
    require_roles,
    require_scopes,
)
from .errors import (
    CSRFError,
    JWTGuardHTTPException,
    KeySourceOutage,
    ScopeForbidden,
    TokenBadRequest,
    TokenUnauthorized,
)
from .extension import JWTGuard
from .globals import current_token, current_user, get_current_user, get_jwt, get_jwt_header
from .signals import token_rejected, token_verified

if TYPE_CHECKING:
    from .blueprint import issuing_blueprint
    from .issuing import get_key_manager, get_token_issuer
    from .session_routes import get_sessions

__all__ = [
    "DEFAULTS",
    "CSRFError",
    "JWTGuard",
    "JWTGuardHTTPException",
    "KeySourceOutage",
    "ScopeForbidden",
    "TokenBadRequest",
    "TokenUnauthorized",
    "current_token",
    "current_user",
    "get_current_user",
    "get_jwt",
    "get_jwt_header",
    "get_key_manager",
    "get_sessions",
    "get_token_issuer",
    "issuing_blueprint",
    "jwt_exempt",
    "jwt_required",
    "require_any_role",
    "require_roles",
    "require_scopes",
    "set_access_cookies",
    "set_csrf_cookie",
    "token_rejected",
    "token_verified",
    "unset_access_cookies",
]

# Imported on first use: an app that neither issues tokens nor serves the
# JWKS never loads the signing side.
_LAZY = {
    "issuing_blueprint": "blueprint",
    "get_key_manager": "issuing",
    "get_token_issuer": "issuing",
    "get_sessions": "session_routes",
}
__getattr__ = lazy_names(__name__, _LAZY)
