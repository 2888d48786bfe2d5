from django.urls import path

from . import views

urlpatterns = [
    path("api/me", views.Me.as_view()),
    path("api/orders", views.Orders.as_view()),
    path("healthz", views.healthz),
]
