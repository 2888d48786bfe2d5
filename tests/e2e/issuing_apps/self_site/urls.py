from django.http import HttpRequest, JsonResponse
from django.urls import include, path

from jwt_guard_django.decorators import jwt_required


def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


@jwt_required
def me(request: HttpRequest) -> JsonResponse:
    token = request.auth  # type: ignore[attr-defined]
    return JsonResponse({"subject": token.subject, "kid": token.kid})


urlpatterns = [
    path("healthz", healthz),
    path("api/me", me),
    path("auth/", include("jwt_guard_django.session_urls")),
    path("", include("jwt_guard_django.urls")),
]
