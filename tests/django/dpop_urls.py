"""Views and routes of the DPoP, mTLS, metadata and step-up tests (``pytest.mark.urls``)."""

from __future__ import annotations

from typing import Any, ClassVar

from django.http import HttpRequest, JsonResponse
from django.urls import include, path
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from jwt_guard_django.decorators import jwt_required
from jwt_guard_django.permissions import RequiresAuthLevel, RequiresDPoP

MFA = "urn:example:mfa"
HWK = "urn:example:hwk"


def _sub(request: Any) -> dict[str, Any]:
    return {"sub": request.auth.subject if request.auth is not None else None}


def plain(request: HttpRequest) -> JsonResponse:
    return JsonResponse(_sub(request))


async def plain_async(request: HttpRequest) -> JsonResponse:
    return JsonResponse(_sub(request))


@jwt_required
def required(request: HttpRequest) -> JsonResponse:
    return JsonResponse(_sub(request))


@jwt_required(dpop="required")
def bound_only(request: HttpRequest) -> JsonResponse:
    return JsonResponse(_sub(request))


@jwt_required(dpop="required")
async def bound_only_async(request: HttpRequest) -> JsonResponse:
    return JsonResponse(_sub(request))


@jwt_required(acr_values=[MFA, HWK], max_age=300)
def pay(request: HttpRequest) -> JsonResponse:
    return JsonResponse(_sub(request))


@jwt_required(acr_values=MFA)
async def pay_async(request: HttpRequest) -> JsonResponse:
    return JsonResponse(_sub(request))


class DrfOrders(APIView):
    def get(self, request: Request) -> Response:
        return Response(_sub(request))


class DrfBoundOnly(APIView):
    permission_classes: ClassVar[list[Any]] = [IsAuthenticated, RequiresDPoP]

    def get(self, request: Request) -> Response:
        return Response(_sub(request))


class DrfPay(APIView):
    permission_classes: ClassVar[list[Any]] = [IsAuthenticated, RequiresAuthLevel]
    required_acr_values: ClassVar[list[str]] = [MFA]
    required_max_age = 300

    def get(self, request: Request) -> Response:
        return Response(_sub(request))


urlpatterns = [
    path("", include("jwt_guard_django.urls")),
    path("orders", plain),
    path("orders-async", plain_async),
    path("required", required),
    path("bound-only", bound_only),
    path("bound-only-async", bound_only_async),
    path("pay", pay),
    path("pay-async", pay_async),
    path("drf/orders", DrfOrders.as_view()),
    path("drf/bound-only", DrfBoundOnly.as_view()),
    path("drf/pay", DrfPay.as_view()),
]
