"""The issuing side's routes (JWKS, OpenID discovery, RFC 9728 metadata); see docs/django.md."""

from django.urls import re_path

from jwt_guard_core.signing.routes import PUBLIC_ROUTES

from . import views

app_name = "jwt_guard"

urlpatterns = [
    re_path(rf"^{pattern}\Z", getattr(views, f"{name}_view"), name=name)
    for name, pattern in PUBLIC_ROUTES.items()
]
