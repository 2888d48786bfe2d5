"""URLconf of the session tests: the session routes plus two protected views."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.urls import include, path

from jwt_guard_django.decorators import jwt_required


@jwt_required
def me(request: HttpRequest) -> JsonResponse:
    token = request.auth  # type: ignore[attr-defined]
    return JsonResponse({"sub": token.subject, "sid": token.claims.get("sid")})


urlpatterns = [
    path("auth/", include("jwt_guard_django.session_urls")),
    path("api/me/", me),
]
