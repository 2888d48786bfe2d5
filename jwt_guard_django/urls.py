"""The issuing side's routes (JWKS, OpenID discovery, RFC 9728 metadata); see docs/django.md."""

from __future__ import annotations

from django.urls import path, re_path

from .views import jwks_view, openid_configuration_view, protected_resource_metadata_view

app_name = "jwt_guard"

urlpatterns = [
    path(".well-known/jwks.json", jwks_view, name="jwks"),
    path(
        ".well-known/openid-configuration",
        openid_configuration_view,
        name="openid_configuration",
    ),
    # RFC 9728 section 3.1: the resource's path follows the well-known segment.
    re_path(
        r"^\.well-known/oauth-protected-resource(?:/.*)?\Z",
        protected_resource_metadata_view,
        name="protected_resource_metadata",
    ),
]
