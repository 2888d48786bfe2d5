"""drf-spectacular's OpenAPI security schemes for JWTGuardAuthentication, per TOKEN_LOCATIONS."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.plumbing import build_bearer_security_scheme_object

from .conf import conf

__all__ = ["JWTGuardScheme"]

_HEADER = "jwtGuardBearer"
_COOKIE = "jwtGuardCookie"


class JWTGuardScheme(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call]
    target_class = "jwt_guard_django.authentication.JWTGuardAuthentication"
    match_subclasses = True
    name: str | list[str] = _HEADER

    def __init__(self, target: Any) -> None:
        super().__init__(target)  # type: ignore[no-untyped-call]
        locations = [loc for loc in conf.request.locations if loc in ("header", "cookie")]
        self.name = [_HEADER if loc == "header" else _COOKIE for loc in locations] or [_HEADER]

    def get_security_definition(self, auto_schema: Any) -> list[dict[str, Any]]:
        request = conf.request
        prefix = (request.header_types or ("Bearer",))[0]
        bearer = build_bearer_security_scheme_object("Authorization", prefix, "JWT")
        cookie = {"type": "apiKey", "in": "cookie", "name": request.cookie_name}
        return [bearer if name == _HEADER else cookie for name in self.name]

    def get_security_requirement(self, auto_schema: Any) -> list[dict[str, list[Any]]]:
        # Header or cookie: alternatives (OR), not both at once (AND).
        return [{name: []} for name in self.name]
