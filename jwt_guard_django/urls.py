"""Routes of the issuing side; include them at your site root.

::

    urlpatterns = [
        path("", include("jwt_guard_django.urls")),
        ...
    ]

serves ``/.well-known/jwks.json`` (URL name ``jwt_guard:jwks``) and
``/.well-known/openid-configuration`` (``jwt_guard:openid_configuration``),
configured by ``JWT_GUARD["ISSUING"]``.
"""

from __future__ import annotations

from django.urls import path

from .views import jwks_view, openid_configuration_view

app_name = "jwt_guard"

urlpatterns = [
    path(".well-known/jwks.json", jwks_view, name="jwks"),
    path(
        ".well-known/openid-configuration",
        openid_configuration_view,
        name="openid_configuration",
    ),
]
