"""The issuing routes at the root and the protected test views: a service that decrypts with its
own key store's key and publishes it."""

from django.urls import include, path

from tests.django.urls import urlpatterns as views

urlpatterns = [path("", include("jwt_guard_django.urls")), *views]
