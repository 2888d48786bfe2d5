from django.urls import path
from drf_spectacular.views import SpectacularAPIView

from . import views

urlpatterns = [
    path("plain/", views.plain),
    path("plain-async/", views.plain_async),
    path("required/", views.required),
    path("required-async/", views.required_async),
    path("optional/", views.optional),
    path("optional-async/", views.optional_async),
    path("scoped/", views.scoped),
    path("scoped-async/", views.scoped_async),
    path("any-scope/", views.any_scope),
    path("drf/me/", views.DrfMe.as_view()),
    path("drf/open/", views.DrfOpen.as_view()),
    path("drf/orders/", views.DrfOrders.as_view()),
    path("drf/any-scope/", views.DrfAnyScope.as_view()),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
]
