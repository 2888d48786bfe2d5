"""A Django resource server requiring DPoP (``gunicorn django_resource:application``).

Settings, URLs and views in one module: ``DJANGO_SETTINGS_MODULE`` is this module.
"""

from __future__ import annotations

import os

from django.core.wsgi import get_wsgi_application
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import include, path
from settings_from_env import settings

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "django_resource")

SECRET_KEY = "interop-tests-only-0123456789abcdef0123456789abcdef"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1"]
ROOT_URLCONF = "django_resource"
INSTALLED_APPS = ["django.contrib.contenttypes", "django.contrib.auth", "jwt_guard_django"]
MIDDLEWARE = ["jwt_guard_django.middleware.JWTGuardMiddleware"]
DATABASES: dict[str, object] = {}
JWT_GUARD = settings()


def healthz(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok")


def orders(request: HttpRequest) -> JsonResponse:
    if request.auth is None:  # type: ignore[attr-defined]
        return JsonResponse({"error": "unauthorized"}, status=401)
    return JsonResponse({"sub": request.auth.subject, "framework": "django"})  # type: ignore[attr-defined]


urlpatterns = [
    path("", include("jwt_guard_django.urls")),
    path("healthz", healthz),
    path("orders", orders),
]

application = get_wsgi_application()
