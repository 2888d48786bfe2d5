"""Request-local access to the verified token, its claims and the user (docs/flask.md)."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, cast

from werkzeug.local import LocalProxy

from jwt_guard_core import VerifiedToken

from ._request import current_token as _current_token
from ._request import current_user as get_current_user

__all__ = ["current_token", "current_user", "get_current_user", "get_jwt", "get_jwt_header"]

_EMPTY: Mapping[str, Any] = MappingProxyType({})

#: The request's :class:`~jwt_guard_core.VerifiedToken` (falsy when there is none).
current_token = cast(VerifiedToken, LocalProxy(_current_token))
#: The request's user from ``@guard.user_loader`` (falsy when there is none).
current_user: Any = LocalProxy(get_current_user)


def get_jwt() -> Mapping[str, Any]:
    """The verified claims of this request (read-only), or an empty mapping."""
    token = _current_token()
    return token.claims if token is not None else _EMPTY


def get_jwt_header() -> Mapping[str, Any]:
    """The verified token's JOSE header (read-only), or an empty mapping."""
    token = _current_token()
    return token.header if token is not None else _EMPTY
