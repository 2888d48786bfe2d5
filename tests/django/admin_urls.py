"""URLconf of the admin tests: the admin site, the session routes and a protected view."""

from __future__ import annotations

from django.contrib import admin
from django.urls import path

from tests.django.session_urls import urlpatterns as session_urlpatterns

urlpatterns = [path("admin/", admin.site.urls), *session_urlpatterns]
