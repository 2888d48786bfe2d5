"""URLconf of the async session tests: the ``async def`` session views plus a protected view."""

from __future__ import annotations

from django.urls import include, path

from jwt_guard_django.session_urls import app_name, session_patterns
from tests.django.session_urls import me

urlpatterns = [
    path("auth/", include((session_patterns(asynchronous=True), app_name))),
    path("api/me/", me),
]
