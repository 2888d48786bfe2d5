"""A project urlconf that includes the issuing routes at the root, as docs/django.md shows."""

from django.urls import include, path

urlpatterns = [path("", include("jwt_guard_django.urls"))]
